import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BatchQueue, type BatchQueueOptions } from './batch-queue.js';

const HOUR = 3_600_000;

function options(o: Partial<BatchQueueOptions>): BatchQueueOptions {
  return { preferredBatchSize: 4, timeout: HOUR, maxConcurrentBatches: 1, maxQueuedDocs: 1000, ...o };
}

/** A queue whose batches are recorded and answered with each item doubled. */
function doubling(o: Partial<BatchQueueOptions>) {
  const batches: number[][] = [];
  const q = new BatchQueue<number, string>(options(o), (items) => {
    batches.push(items);
    return Promise.resolve(items.map((x) => x * 2));
  });
  const push = (key: string, items: number[]) => q.enqueue(key, () => ({ items, ctx: key }));
  return { q, batches, push };
}

void test('a batch runs as soon as preferredBatchSize items are queued, not before', async () => {
  const { batches, push } = doubling({ preferredBatchSize: 4 });
  const outs = [1, 2, 3].map((x) => push('', [x]));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(batches, [], 'three items, an hour of timeout: nothing runs yet');
  outs.push(push('', [4]));
  const got = await Promise.all(outs);
  assert.deepEqual(batches, [[1, 2, 3, 4]]);
  assert.deepEqual(
    got.map((g) => g.items),
    [[2], [4], [6], [8]],
  );
  assert.ok(got.every((g) => g.batchSize === 4));
});

void test('a lone entry runs once the timeout has passed', async () => {
  const { batches, push } = doubling({ timeout: 40 });
  const started = performance.now();
  const out = await push('', [5]);
  assert.ok(performance.now() - started >= 35, 'waited for the timeout');
  assert.deepEqual(out.items, [10]);
  assert.ok(out.waitMs >= 35);
  assert.deepEqual(batches, [[5]]);
});

void test('an entry larger than a batch is split over several and rejoined in order', async () => {
  const { batches, push } = doubling({ preferredBatchSize: 4, timeout: 0 });
  const items = Array.from({ length: 10 }, (_, i) => i);
  const out = await push('', items);
  assert.deepEqual(
    batches.map((b) => b.length),
    [4, 4, 2],
  );
  assert.deepEqual(
    out.items,
    items.map((x) => x * 2),
  );
});

void test('entries of different groups never share a batch', async () => {
  const { batches, push } = doubling({ preferredBatchSize: 2, timeout: 5 });
  const outs = await Promise.all([push('a', [1]), push('b', [100]), push('a', [2]), push('b', [200])]);
  assert.deepEqual(
    outs.map((o) => o.items[0]),
    [2, 200, 4, 400],
  );
  for (const b of batches)
    assert.ok(b.every((x) => x < 100) || b.every((x) => x >= 100), `mixed: ${b.join()}`);
});

void test('a failing batch rejects each of its entries; the next batch runs', async () => {
  const q = new BatchQueue<number, null>(options({ preferredBatchSize: 2 }), (items) => {
    if (items.includes(13)) throw new Error('unlucky');
    return Promise.resolve(items);
  });
  const push = (items: number[]) => q.enqueue('', () => ({ items, ctx: null }));
  const results = await Promise.allSettled([push([13]), push([1]), push([2]), push([3])]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['rejected', 'rejected', 'fulfilled', 'fulfilled'],
  );
  assert.match(String((results[0] as PromiseRejectedResult).reason), /unlucky/);
});

void test('a failed split entry drops its pieces still queued', async () => {
  const batches: number[][] = [];
  const q = new BatchQueue<number, null>(options({ preferredBatchSize: 2, timeout: 0 }), (items) => {
    batches.push(items);
    return items[0] === 0 ? Promise.reject(new Error('first piece fails')) : Promise.resolve(items);
  });
  await assert.rejects(
    q.enqueue('', () => ({ items: [0, 1, 2, 3, 4, 5], ctx: null })),
    /first piece fails/,
  );
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(batches, [[0, 1]]);
  assert.equal(q.queued, 0);
});

void test('a method returning another count of items fails the batch', async () => {
  const q = new BatchQueue<number, null>(options({ preferredBatchSize: 2 }), (items) =>
    Promise.resolve(items.slice(1)),
  );
  const push = () => q.enqueue('', () => ({ items: [1], ctx: null }));
  await assert.rejects(Promise.all([push(), push()]), /as many documents as it got: got 2, returned 1/);
});

/** A run function whose batches wait until released, recording how many run at once. */
function gated() {
  const gates: (() => void)[] = [];
  let active = 0;
  let maxActive = 0;
  const run = async (items: number[]) => {
    active++;
    maxActive = Math.max(maxActive, active);
    await new Promise<void>((r) => gates.push(r));
    active--;
    return items;
  };
  const releaseAll = async () => {
    while (gates.length > 0 || active > 0) {
      gates.splice(0).forEach((g) => g());
      await new Promise((r) => setImmediate(r));
    }
  };
  return { run, releaseAll, max: () => maxActive };
}

for (const limit of [1, 3]) {
  void test(`at most maxConcurrentBatches (${limit}) batches run at once`, async () => {
    const g = gated();
    const q = new BatchQueue<number, null>(
      options({ preferredBatchSize: 1, maxConcurrentBatches: limit }),
      g.run,
    );
    const outs = Array.from({ length: 8 }, (_, i) => q.enqueue('', () => ({ items: [i], ctx: null })));
    await new Promise((r) => setImmediate(r));
    assert.equal(q.active, limit);
    await g.releaseAll();
    await Promise.all(outs);
    assert.equal(g.max(), limit);
  });
}

void test('beyond maxQueuedDocs, entries wait unloaded instead of growing the queue', async () => {
  const g = gated();
  const q = new BatchQueue<number, null>(options({ preferredBatchSize: 2, maxQueuedDocs: 4 }), g.run);
  let loaded = 0;
  let maxQueued = 0;
  const outs = Array.from({ length: 40 }, (_, i) =>
    q.enqueue('', () => {
      loaded++;
      maxQueued = Math.max(maxQueued, q.queued + 1);
      return { items: [i], ctx: null };
    }),
  );
  await new Promise((r) => setImmediate(r));
  // one batch of 2 runs; 4 wait queued; the other 34 wait without being loaded
  assert.equal(q.active, 1);
  assert.equal(q.queued, 4);
  assert.equal(loaded, 6);
  assert.equal(q.waiting, 34);
  await g.releaseAll();
  const got = await Promise.all(outs);
  assert.deepEqual(
    got.map((o) => o.items[0]),
    Array.from({ length: 40 }, (_, i) => i),
  );
  assert.ok(maxQueued <= 4, `queued at most 4, saw ${maxQueued}`);
});

void test('drain() runs what is queued without waiting for the timeout, in batches of at most the size', async () => {
  const { q, batches, push } = doubling({ preferredBatchSize: 2, timeout: HOUR });
  const outs = [push('', [1]), push('', [2, 3, 4, 5]), push('b', [6])];
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  assert.deepEqual(
    batches,
    [
      [1, 2],
      [3, 4],
    ],
    'only full batches ran',
  );
  q.drain();
  outs.push(push('', [7]));
  await Promise.all(outs);
  assert.ok(batches.every((b) => b.length <= 2));
  assert.deepEqual(
    batches.flat().sort((a, b) => a - b),
    [1, 2, 3, 4, 5, 6, 7],
  );
});
