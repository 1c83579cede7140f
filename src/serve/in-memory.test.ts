import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '../client/client.js';
import type { DocumentArray } from '../document/index.js';
import { Document } from '../document/index.js';
import { Executor, type HandlerArgs } from '../executor/executor.js';
import { requests } from '../executor/requests.js';
import { createInMemoryFlow } from './in-memory.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** Appends its name to every document's text and records the parameters it saw. */
class Tagger extends Executor {
  seen: HandlerArgs['parameters'][] = [];
  sizes: number[] = [];
  active = 0;
  peak = 0;

  @requests()
  async tag({ docs, parameters }: HandlerArgs) {
    this.seen.push(parameters);
    this.sizes.push(docs.length);
    this.active++;
    this.peak = Math.max(this.peak, this.active);
    // the first document answers last, so completion order differs from request order
    const first = Number(docs[0]?.tags.i ?? 0);
    await sleep(first === 0 ? 50 : 0);
    this.active--;
    for (const d of docs) d.text = `${d.text ?? ''}>${this.metas.name}`;
    return docs;
  }
}

const tagger = (name: string) => new Tagger({ metas: { name } });
const docs = (n: number) => Array.from({ length: n }, (_, i) => new Document({ text: `d${i}`, tags: { i } }));

void test('in-memory: a chain runs in order, cuts requestSize, keeps request order and routes parameters', async () => {
  const a = tagger('a');
  const b = tagger('b');
  const flow = createInMemoryFlow(
    [
      { name: 'a', needs: ['gateway'] },
      { name: 'b', needs: ['a'] },
    ],
    { a, b },
    { logger: quiet },
  );
  const client = new Client({ transport: flow.transport });
  const out = await client.post('/', docs(25), {
    requestSize: 10,
    resultsInOrder: true,
    parameters: { shared: 1, b: { only: 'b' } },
  });
  assert.deepEqual(
    out.texts,
    docs(25).map((d) => `${d.text}>a>b`),
  );
  assert.deepEqual(a.sizes.sort(), [10, 10, 5].sort());
  // an Executor's own key is merged into its parameters (the original's specific parameters)
  assert.equal(a.seen[0]!.shared, 1);
  assert.equal(a.seen[0]!.only, undefined);
  assert.equal(b.seen[0]!.only, 'b');
  // requestSize 0: every document in one request
  await client.post('/', docs(25), { requestSize: 0 });
  assert.equal(a.sizes.at(-1), 25);
});

void test('in-memory: needs fork and join, targetExecutor and when filters', async () => {
  const ex = { a: tagger('a'), b: tagger('b'), c: tagger('c'), j: tagger('j') };
  const flow = createInMemoryFlow(
    [
      { name: 'a', needs: ['gateway'] },
      { name: 'b', needs: ['a'] },
      { name: 'c', needs: ['a'], when: { tags__i: { $gte: 1 } } },
      { name: 'j', needs: ['b', 'c'] },
    ],
    ex,
    { logger: quiet },
  );
  const client = new Client({ transport: flow.transport });
  const [d0, d1] = await client.post('/', docs(2), { resultsInOrder: true });
  // d0 is filtered out on c's branch; the join merges the parts by id, the left-most winning
  assert.equal(d0!.text, 'd0>a>b>j');
  assert.equal(d1!.text, 'd1>a>b>j');
  assert.equal(flow.pool.calls.get('c'), 1);

  const before = { ...Object.fromEntries(flow.pool.calls) };
  const only = await client.post('/', docs(1), { targetExecutor: 'a' });
  assert.equal(only.texts[0], 'd0>a');
  assert.equal(flow.pool.calls.get('a'), before.a! + 1);
  assert.equal(flow.pool.calls.get('b'), before.b);
});

void test('in-memory: prefetch bounds the requests in flight; completion order without resultsInOrder', async () => {
  const a = tagger('a');
  const flow = createInMemoryFlow([{ name: 'a', needs: ['gateway'] }], { a }, { logger: quiet });
  const client = new Client({ transport: flow.transport });
  const res = await client.post('/', docs(12), { requestSize: 1, prefetch: 3, returnResponses: true });
  assert.equal(res.length, 12);
  assert.equal(a.peak, 3);
  const order = res.map((r) => Number(r.docs[0]!.tags.i));
  assert.notDeepEqual(
    order,
    [...order].sort((x, y) => x - y),
    'odd requests answer first',
  );
});

void test('in-memory: an Executor error rejects post with the Executor named', async () => {
  class Failing extends Executor {
    @requests({ on: '/fail' })
    fail(): DocumentArray {
      throw new Error('no good');
    }
  }
  const flow = createInMemoryFlow(
    [{ name: 'f', needs: ['gateway'] }],
    { f: new Failing({ metas: { name: 'f' } }) },
    { logger: quiet },
  );
  await assert.rejects(new Client({ transport: flow.transport }).post('/fail', docs(1)), /no good/);
});
