import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  Client,
  Document,
  DocumentArray,
  Flow,
  FlowgateError,
  GatewayRuntime,
  WorkerRuntime,
} from '../src/index.js';
import { Mark, MatrixJoin, SlowRecorder } from './fixtures/topology-executors.js';

/** The ids of this process's direct children (Linux: /proc/<pid>/task/<tid>/children). */
async function childPids(): Promise<number[]> {
  const tasks = await readdir(`/proc/${process.pid}/task`);
  const out: number[] = [];
  for (const t of tasks) {
    const text = await readFile(`/proc/${process.pid}/task/${t}/children`, 'utf8').catch(() => '');
    out.push(...text.split(/\s+/).filter(Boolean).map(Number));
  }
  return out;
}

const routeNames = (r: { routes: { executor?: string | null }[] }) => r.routes.map((x) => x.executor);

void describe('a diamond a -> (b, c) -> join that reduces, with a floating Executor', () => {
  let dir: string;
  let flow: Flow;
  let client: Client;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flowgate-topology-'));
    flow = new Flow()
      .add({ name: 'a', uses: Mark })
      .add({ name: 'b', uses: Mark, needs: 'a', usesWith: { who: true, addMatch: true, addDoc: 'only-b' } })
      .add({ name: 'c', uses: Mark, needs: 'a', usesWith: { who: true, addMatch: true } })
      .add({
        name: 'rec',
        uses: SlowRecorder,
        needs: 'a',
        floating: true,
        usesWith: { log: join(dir, 'floating.log'), release: join(dir, 'release') },
      })
      .needs(['b', 'c'], { name: 'join', uses: Mark });
    await flow.start();
    client = new Client({ port: flow.port });
  });

  after(async () => {
    await client?.close();
    await flow?.close();
    await rm(dir, { recursive: true, force: true });
  });

  void test('the join waits for both branches and reduces them by id, left part first', async () => {
    const [res] = await client.post(
      '/',
      [new Document({ id: 'x', text: 'x' }), new Document({ id: 'y', text: 'y' })],
      { returnResponses: true },
    );
    assert.ok(res);
    assert.deepEqual(routeNames(res), ['gateway', 'a', 'b', 'c', 'join']);
    const docs = res.docs;
    // x and y merged from both branches, the doc only b added appended once
    assert.deepEqual(docs.ids, ['x', 'y', 'only-b']);
    for (const d of docs.slice(0, 2)) {
      assert.equal(d.tags.a, true);
      assert.equal(d.tags.b, true, 'fields of the right part are kept');
      assert.equal(d.tags.c, true);
      assert.equal(d.tags.join, true);
      assert.equal(d.tags.who, 'b', 'the left part (first in needs) wins');
      assert.deepEqual(d.matches.ids.sort(), ['m-b', 'm-c'], 'matches merged from both parts');
      assert.equal(d.text, d.id);
    }
    assert.deepEqual(docs[2]!.tags.trail, ['join']);
  });

  void test('targetExecutor (a regex anchored at the start) limits which Executors are called', async () => {
    const [onlyB] = await client.post('/', [new Document({ id: 't' })], {
      targetExecutor: 'b',
      returnResponses: true,
    });
    assert.deepEqual(routeNames(onlyB!), ['gateway', 'b']);
    assert.deepEqual(onlyB!.docs.getById('t')!.tags.trail, ['b']);

    const [prefix] = await client.post('/', [new Document({ id: 't' })], {
      targetExecutor: 'jo',
      returnResponses: true,
    });
    assert.deepEqual(routeNames(prefix!), ['gateway', 'join']);

    const [inside] = await client.post('/', [new Document({ id: 't' })], {
      targetExecutor: 'oin',
      returnResponses: true,
    });
    assert.deepEqual(routeNames(inside!), ['gateway'], "'oin' must not match 'join': the match is anchored");

    const [alternatives] = await client.post('/', [new Document({ id: 't' })], {
      targetExecutor: 'b|c',
      returnResponses: true,
    });
    assert.deepEqual(routeNames(alternatives!), ['gateway', 'b', 'c']);
  });

  void test('<executor>__<key> parameters reach only that Executor; __results__ gathers every answer', async () => {
    const [res] = await client.post('/params', [new Document()], {
      parameters: { k: 'all', b__k: 'only-b', c__extra: 7 },
      returnResponses: true,
    });
    const results = res!.parameters.__results__;
    assert.deepEqual(results, {
      a: { k: 'all', extra: null },
      b: { k: 'only-b', extra: null },
      c: { k: 'all', extra: 7 },
      join: { k: 'all', extra: null },
    });
    // the input parameters come back as they were sent
    assert.equal(res!.parameters.k, 'all');
    assert.equal(res!.parameters.b__k, 'only-b');
  });

  void test('a floating Executor gets the request, the response does not wait, close() waits for it', async () => {
    // The recorder blocks until the release file exists: a response that waited for it would hang
    // past the timeout.
    const docs = await client.post('/float', [new Document({ id: 'f1' }), new Document({ id: 'f2' })], {
      timeout: 10_000,
    });
    assert.deepEqual(docs.ids, ['f1', 'f2', 'only-b']);
    for (const d of docs)
      assert.equal(d.tags.recorder, undefined, 'the floating output is not in the response');
    assert.equal(existsSync(join(dir, 'floating.log')), false);
    await writeFile(join(dir, 'release'), '');
    await client.close();
    await flow.close(); // the Gateway waits for the floating call before it exits
    assert.equal(await readFile(join(dir, 'floating.log'), 'utf8'), 'f1,f2\n');
  });
});

void describe('a join (needsAll) with noReduce after two branches with when conditions', () => {
  let flow: Flow;
  let client: Client;

  before(async () => {
    flow = new Flow()
      .add({ name: 'a', uses: Mark })
      .add({ name: 'low', uses: Mark, needs: 'a', when: { tags__n: { $lt: 5 } } })
      .add({
        name: 'high',
        uses: Mark,
        needs: 'a',
        when: { $or: [{ tags__n: { $gte: 5 } }, { text: { $eq: 'x' } }] },
      })
      .needsAll({ name: 'matrix', uses: MatrixJoin, noReduce: true }); // joins the open branches: low, high
    await flow.start();
    client = new Client({ port: flow.port });
  });

  after(async () => {
    await client?.close();
    await flow?.close();
  });

  void test('each branch sees only its documents; the join gets docsMatrix and docsMap; order is restored', async () => {
    const inputs = new DocumentArray([7, 1, 9, 3, 5].map((n) => new Document({ id: `n${n}`, tags: { n } })));
    inputs.push(new Document({ id: 'x', text: 'x', tags: { n: 2 } }));
    const docs = await client.post('/', inputs);
    // MatrixJoin returned the parts reversed; the Gateway puts them back in the request's order
    assert.deepEqual(docs.ids, ['n7', 'n1', 'n9', 'n3', 'n5', 'x', 'x']);
    const matrix = docs[0]!.tags.matrix as { sizes: number[]; map: Record<string, string[]>; merged: number };
    assert.deepEqual(matrix.sizes, [3, 4]);
    assert.deepEqual(matrix.map, { low: ['n1', 'n3', 'x'], high: ['n7', 'n9', 'n5', 'x'] });
    assert.equal(matrix.merged, 6, 'docs is the union by id');
    // 'x' passed both conditions: it comes back once from each part
    const lowDocs = docs.filter((d) => d.tags.low === true).map((d) => d.id);
    assert.deepEqual(lowDocs, ['n1', 'n3', 'x']);
    const highDocs = docs.filter((d) => d.tags.high === true).map((d) => d.id);
    assert.deepEqual(highDocs, ['n7', 'n9', 'n5', 'x']);
  });

  void test('when no document passes, the branch is still called with none', async () => {
    const [res] = await client.post('/', [new Document({ id: 'lo', tags: { n: 1 } })], {
      returnResponses: true,
    });
    assert.deepEqual(routeNames(res!), ['gateway', 'a', 'low', 'high', 'matrix']);
    assert.deepEqual(res!.docs.ids, ['lo']);
    assert.deepEqual((res!.docs[0]!.tags.matrix as { sizes: number[] }).sizes, [1, 0]);
  });
});

void describe('a join without uses: the Gateway reduces the parts itself (in-process workers)', () => {
  const workers = ['a', 'even', 'odd'].map(
    (name) => new WorkerRuntime({ executor: new Mark({ metas: { name }, who: name !== 'a' }) }),
  );
  let gateway: GatewayRuntime;
  let client: Client;

  before(async () => {
    const ports = await Promise.all(workers.map((w) => w.start()));
    gateway = new GatewayRuntime({
      nodes: [
        { name: 'a', needs: ['gateway'] },
        { name: 'even', needs: ['a'], when: { tags__n: { $in: [0, 2, 4] } } },
        { name: 'odd', needs: ['a'], when: { tags__n: { $nin: [0, 2, 4] } } },
        { name: 'merge', needs: ['odd', 'even'], passThrough: true },
      ],
      addresses: {
        a: [`127.0.0.1:${ports[0]}`],
        even: [`127.0.0.1:${ports[1]}`],
        odd: [`127.0.0.1:${ports[2]}`],
      },
    });
    const [port] = await gateway.start();
    client = new Client({ port });
  });

  after(async () => {
    await client?.close();
    await gateway?.close();
    await Promise.all(workers.map((w) => w.close()));
  });

  void test('both branches merged by id, in the request order', async () => {
    const inputs = [0, 1, 2, 3, 4].map((n) => new Document({ id: `n${n}`, tags: { n } }));
    const [res] = await client.post('/', inputs, { returnResponses: true });
    assert.deepEqual(routeNames(res!), ['gateway', 'a', 'even', 'odd']);
    assert.deepEqual(res!.docs.ids, ['n0', 'n1', 'n2', 'n3', 'n4']);
    assert.deepEqual(
      res!.docs.map((d) => d.tags.who),
      ['even', 'odd', 'even', 'odd', 'even'],
    );
  });
});

void describe('a graph that cannot work is rejected before anything starts', () => {
  const cases: [string, () => Flow, RegExp][] = [
    [
      'a cycle',
      () =>
        new Flow()
          .add({ name: 'a', uses: Mark, needs: 'c' })
          .add({ name: 'b', uses: Mark, needs: 'a' })
          .add({ name: 'c', uses: Mark, needs: 'b' }),
      /cycle: .*a -> c -> b -> a|cycle: .*(a|b|c) -> .* -> (a|b|c)/,
    ],
    [
      'an unknown name in needs',
      () => new Flow().add({ name: 'a', uses: Mark, needs: 'nope' }),
      /'a' needs 'nope', which is not in the Flow/,
    ],
    [
      'a when condition with an unknown operator',
      () => new Flow().add({ name: 'a', uses: Mark, when: { tags__x: { $like: 1 } } }),
      /when condition of Executor 'a' is invalid: .*\$like/,
    ],
    ['a join of one', () => new Flow().add({ name: 'a', uses: Mark }).needs(['a']), /at least two/],
  ];
  for (const [what, build, message] of cases) {
    void test(what, async () => {
      const before = new Set(await childPids());
      let flow: Flow | undefined;
      await assert.rejects(
        async () => {
          flow = build();
          await flow.start();
        },
        (err: unknown) => {
          assert.ok(err instanceof FlowgateError, String(err));
          assert.match(err.message, message);
          return true;
        },
      );
      assert.deepEqual(flow?.pids ?? [], []);
      const started = (await childPids()).filter((p) => !before.has(p));
      assert.deepEqual(started, [], 'no process was started');
    });
  }

  void test('a duplicate name', () => {
    assert.throws(
      () => new Flow().add({ name: 'a', uses: Mark }).add({ name: 'a', uses: Mark }),
      /two Executors are named 'a'/,
    );
  });
});
