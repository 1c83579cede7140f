import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DocumentArray, Document, decodeDocs, encodeDocs } from '../document/index.js';
import { DataRequest } from '../proto/request.js';
import { Executor, type HandlerArgs } from './executor.js';
import { ExecutorHandler } from './handler.js';
import { requests } from './requests.js';

/** Endpoints covering the ways a method may leave, read, change or replace its documents. */
class Exec extends Executor {
  @requests({ on: '/nothing' })
  nothing() {}

  @requests({ on: '/echo' })
  echo({ docs }: HandlerArgs) {
    return docs;
  }

  @requests({ on: '/async-echo' })
  async asyncEcho({ docs }: HandlerArgs) {
    await Promise.resolve();
    return docs;
  }

  @requests({ on: '/params-only' })
  paramsOnly({ parameters }: HandlerArgs) {
    return { p: parameters.p ?? null };
  }

  @requests({ on: '/spread' })
  spread(args: HandlerArgs) {
    const copy = { ...args };
    copy.docs[0]!.text = 'via spread';
  }

  @requests({ on: '/reassign' })
  reassign(args: HandlerArgs) {
    args.docs = new DocumentArray([{ id: 'other' }]); // the argument only: the answer keeps the request's docs
    args.docs[0]!.text = 'ignored';
  }

  @requests({ on: '/map' })
  map({ docsMap }: HandlerArgs) {
    for (const docs of Object.values(docsMap)) docs[0]!.text = 'from map';
  }

  @requests({ on: '/read' })
  read({ docs, parameters }: HandlerArgs) {
    return { n: docs.length, texts: docs.texts, p: parameters.p ?? null };
  }

  @requests({ on: '/mutate' })
  mutate({ docs }: HandlerArgs) {
    for (const d of docs) d.text = `${d.text}!`;
  }

  @requests({ on: '/mutate-return' })
  mutateReturn({ docs }: HandlerArgs) {
    docs[0]!.tags.seen = true;
    return docs;
  }

  @requests({ on: '/later' })
  later({ docs }: HandlerArgs) {
    // changed after an await, before the method settles: still seen
    return Promise.resolve().then(() => {
      docs.push({ id: 'late' });
    });
  }

  @requests({ on: '/matrix' })
  matrix({ docsMatrix }: HandlerArgs) {
    docsMatrix[0]![0]!.text = 'from matrix';
  }

  @requests({ on: '/replace' })
  replace() {
    return new DocumentArray([{ id: 'new', text: 'n' }]);
  }
}

const handler = new ExecutorHandler(new Exec({ metas: { name: 'exec' } }));

function request(endpoint: string, docsInBytesField = true): DataRequest {
  const docsBytes = encodeDocs(
    new DocumentArray([new Document({ id: 'a', text: 'x' }), { id: 'b', text: 'y' }]),
  );
  const req = DataRequest.decode(DataRequest.create({ endpoint, docsBytes, parameters: { p: 1 } }).encode());
  req.docsInBytesField = docsInBytesField;
  return req;
}

void test('the answer carries the documents as the method left them, even unchanged or unread', async () => {
  for (const endpoint of ['/echo', '/async-echo', '/read', '/nothing', '/params-only', '/reassign']) {
    const req = request(endpoint);
    const sent = req.docsBytes;
    const res = await handler.handle([req]);
    assert.notEqual(res.docsBytes, sent, endpoint);
    assert.equal(res.docsInBytesField, false, endpoint);
    assert.deepEqual(decodeDocs(DataRequest.decode(res.encode()).docsBytes).texts, ['x', 'y'], endpoint);
  }
});

void test('a method that changes its documents in place, however it does, has its changes answered', async () => {
  const cases: [string, (d: DocumentArray) => void][] = [
    ['/mutate', (d) => assert.deepEqual(d.texts, ['x!', 'y!'])],
    ['/mutate-return', (d) => assert.equal(d[0]!.tags.seen, true)],
    ['/later', (d) => assert.deepEqual(d.ids, ['a', 'b', 'late'])],
    ['/matrix', (d) => assert.deepEqual(d.texts, ['from matrix', 'y'])],
    ['/spread', (d) => assert.deepEqual(d.texts, ['via spread', 'y'])],
    ['/replace', (d) => assert.deepEqual(d.ids, ['new'])],
  ];
  for (const [endpoint, check] of cases) {
    const req = request(endpoint);
    const sent = req.docsBytes;
    const res = await handler.handle([req]);
    assert.equal(res.isError, false, endpoint);
    assert.notEqual(res.docsBytes, sent, endpoint);
    assert.equal(res.docsInBytesField, false, endpoint);
    check(decodeDocs(DataRequest.decode(res.encode()).docsBytes));
  }
});

void test('a method that only reads its documents sees them all and returns its results', async () => {
  const res = await handler.handle([request('/read')]);
  assert.deepEqual(res.parameters.__results__, { exec: { n: 2, texts: ['x', 'y'], p: 1 } });
  assert.deepEqual(decodeDocs(res.docsBytes).texts, ['x', 'y']);
});

void test('malformed documents are an error in the answer, not a throw', async () => {
  const req = request('/nothing');
  req.docsBytes = Uint8Array.from([0x0a, 0x05, 0x01]);
  const failed = await handler.handle([req]);
  assert.equal(failed.isError, true);
  assert.match(failed.status?.description ?? '', /malformed DocumentArrayProto/);
});

void test('several parts are merged (decoded) and answered as one encoded array', async () => {
  const a = request('/echo');
  const b = request('/echo');
  b.docsBytes = encodeDocs(
    new DocumentArray([
      { id: 'c', text: 'z' },
      { id: 'a', text: 'dup' },
    ]),
  );
  const res = await handler.handle([a, b]);
  assert.deepEqual(decodeDocs(res.docsBytes).texts, ['x', 'y', 'z']);
});
