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

void test('documents a method never reads go back as the bytes they came in, in the field they came in', async () => {
  for (const endpoint of ['/nothing', '/params-only', '/reassign']) {
    const req = request(endpoint);
    const sent = req.docsBytes;
    const res = await handler.handle([req]);
    assert.equal(res.isError, false, endpoint);
    assert.equal(res.docsBytes, sent, endpoint); // the same bytes, not an equal re-encoding
    assert.equal(res.docsInBytesField, true, endpoint);
    const back = DataRequest.decode(res.encode());
    assert.deepEqual(decodeDocs(back.docsBytes).texts, ['x', 'y']);
    assert.equal(back.parameters.p, 1);
  }
  const res = await handler.handle([request('/params-only')]);
  assert.deepEqual(res.parameters.__results__, { exec: { p: 1 } });
});

void test('documents a method reads are encoded again, even when it returns them unchanged', async () => {
  for (const endpoint of ['/echo', '/async-echo', '/read']) {
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

void test('malformed documents are an error of the method that reads them, and pass through one that does not', async () => {
  const bad = (endpoint: string) => {
    const req = request(endpoint);
    req.docsBytes = Uint8Array.from([0x0a, 0x05, 0x01]);
    return req;
  };
  const failed = await handler.handle([bad('/mutate')]);
  assert.equal(failed.isError, true);
  assert.match(failed.status?.description ?? '', /malformed DocumentArrayProto/);
  const passed = await handler.handle([bad('/nothing')]);
  assert.equal(passed.isError, false);
  assert.deepEqual([...passed.docsBytes], [0x0a, 0x05, 0x01]);
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
