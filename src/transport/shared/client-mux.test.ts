import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Code, FlowgateError } from '../../core/errors.js';
import { DataRequest } from '../../proto/request.js';
import { ClientMux, RequestList } from './client-mux.js';

/** A mux on a link that records what is sent; the test answers by hand. */
function harness() {
  const sent: DataRequest[] = [];
  const events: string[] = [];
  const mux = new ClientMux('the test link', Promise.resolve());
  mux.attach({
    send(req) {
      sent.push(req);
      return undefined;
    },
    close: () => void events.push('close'),
    busy: (b) => void events.push(b ? 'busy' : 'idle'),
  });
  const answer = (req: DataRequest) => mux.deliver(DataRequest.create({ requestId: req.requestId }));
  return { mux, sent, events, answer };
}

const reqs = (...ids: string[]) => ids.map((requestId) => DataRequest.create({ requestId }));

async function collect(it: AsyncIterable<DataRequest>): Promise<string[]> {
  const out: string[] = [];
  for await (const r of it) out.push(r.requestId);
  return out;
}

/** Lets the posts' generators run up to their next wait. */
const settle = () => new Promise((r) => setImmediate(r));

void test('answers go to the post that sent the request id, whatever the order', async () => {
  const { mux, sent, events, answer } = harness();
  const a = collect(mux.stream(new RequestList(reqs('a1', 'a2')), {}));
  const b = collect(mux.stream(new RequestList(reqs('b1')), {}));
  await settle();
  assert.deepEqual(
    sent.map((r) => r.requestId),
    ['a1', 'a2', 'b1'],
  );
  for (const i of [2, 1, 0]) answer(sent[i]!);
  assert.deepEqual(await a, ['a2', 'a1']);
  assert.deepEqual(await b, ['b1']);
  assert.deepEqual(events, ['busy', 'idle']);
  assert.equal(mux.unanswered, 0);
});

void test('resultsInOrder restores send order; prefetch bounds the requests in flight', async () => {
  const { mux, sent, answer } = harness();
  async function* source() {
    yield* reqs('r0', 'r1', 'r2', 'r3');
  }
  const post = collect(mux.stream(source(), { resultsInOrder: true, prefetch: 2 }));
  await settle();
  assert.equal(sent.length, 2);
  answer(sent[1]!);
  await settle();
  assert.equal(sent.length, 3);
  answer(sent[0]!);
  await settle();
  answer(sent[3]!);
  answer(sent[2]!);
  assert.deepEqual(await post, ['r0', 'r1', 'r2', 'r3']);
});

void test('a timeout fails its post only; its late answer is dropped', async () => {
  const { mux, sent, answer } = harness();
  const late = collect(mux.stream(new RequestList(reqs('t1')), { timeoutMs: 30 }));
  const other = collect(mux.stream(new RequestList(reqs('o1')), {}));
  await assert.rejects(
    late,
    (err: unknown) => err instanceof FlowgateError && err.code === Code.DeadlineExceeded,
  );
  answer(sent[0]!); // late: dropped, not an unexpected answer
  answer(sent[1]!);
  assert.deepEqual(await other, ['o1']);
  assert.equal(mux.failed, false);
});

void test('the connection failing fails every post on it; an answer to no request fails the connection', async () => {
  const { mux, events } = harness();
  const a = collect(mux.stream(new RequestList(reqs('a')), {}));
  const b = collect(mux.stream(new RequestList(reqs('b')), {}));
  await settle();
  mux.fail(new FlowgateError(Code.Unavailable, 'gone'));
  for (const p of [a, b]) await assert.rejects(p, /gone/);
  assert.ok(events.includes('close'));
  await assert.rejects(collect(mux.stream(new RequestList(reqs('c')), {})), /gone/);

  const h = harness();
  const post = collect(h.mux.stream(new RequestList(reqs('x')), {}));
  await settle();
  h.mux.deliver(DataRequest.create({ requestId: 'nobody' }));
  await assert.rejects(post, /not waiting for an answer/);
});

void test('a request id already waiting is refused', async () => {
  const { mux } = harness();
  const first = collect(mux.stream(new RequestList(reqs('same')), {}));
  await assert.rejects(collect(mux.stream(new RequestList(reqs('same')), {})), /already waiting/);
  mux.close();
  await assert.rejects(first, (err: unknown) => err instanceof FlowgateError && err.code === Code.Cancelled);
});

void test('request(): one answer; a deadline or the connection failing rejects it', async () => {
  const { mux, sent, events, answer } = harness();
  const [r1, r2, r3] = reqs('q1', 'q2', 'q3');
  const first = mux.request(r1!, {});
  const late = assert.rejects(
    mux.request(r2!, { timeoutMs: 20 }),
    (err: unknown) => err instanceof FlowgateError && err.code === Code.DeadlineExceeded,
  );
  await settle();
  answer(sent[0]!);
  assert.equal((await first).requestId, 'q1');
  await late;
  answer(sent[1]!); // late: dropped
  assert.equal(mux.failed, false);
  const lost = mux.request(r3!, {});
  await settle();
  mux.fail(new FlowgateError(Code.Unavailable, 'gone'));
  await assert.rejects(lost, /gone/);
  assert.deepEqual(events.slice(0, 2), ['busy', 'idle']);
});
