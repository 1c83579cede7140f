import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_PREFETCH, inFlightLimit, mapInFlight } from './in-flight.js';

/** A promise with its resolve/reject, to settle calls in a chosen order. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

void test('inFlightLimit: undefined is the default 1000, 0 or less is unlimited', () => {
  assert.equal(DEFAULT_PREFETCH, 1000);
  assert.equal(inFlightLimit(undefined), 1000);
  assert.equal(inFlightLimit(undefined, 7), 7);
  assert.equal(inFlightLimit(0), Infinity);
  assert.equal(inFlightLimit(-1), Infinity);
  assert.equal(inFlightLimit(3), 3);
});

void test('mapInFlight never has more than limit calls unsettled and reads the source only below it', async () => {
  let active = 0;
  let peak = 0;
  let read = 0;
  async function* source() {
    for (let i = 0; i < 20; i++) {
      read++;
      yield i;
    }
  }
  const out: number[] = [];
  for await (const v of mapInFlight(
    source(),
    async (x) => {
      active++;
      peak = Math.max(peak, active);
      assert.ok(read - out.length <= 3 + 1, `read ${read} with ${out.length} answered`);
      await tick();
      active--;
      return x * 2;
    },
    { limit: 3 },
  ))
    out.push(v);
  assert.equal(peak, 3);
  assert.deepEqual(
    out.sort((a, b) => a - b),
    Array.from({ length: 20 }, (_, i) => i * 2),
  );
});

void test('mapInFlight yields in completion order, or in source order with ordered', async () => {
  const run = async (ordered: boolean) => {
    const d = [deferred<string>(), deferred<string>(), deferred<string>()];
    const it = mapInFlight([0, 1, 2], (i) => d[i]!.promise, { limit: 0, ordered });
    const got: string[] = [];
    const done = (async () => {
      for await (const v of it) got.push(v);
    })();
    await tick();
    d[2]!.resolve('c');
    await tick();
    d[0]!.resolve('a');
    await tick();
    d[1]!.resolve('b');
    await done;
    return got;
  };
  assert.deepEqual(await run(false), ['c', 'a', 'b']);
  assert.deepEqual(await run(true), ['a', 'b', 'c']);
});

void test('mapInFlight: the first failure ends the iteration, aborts the calls in flight and closes the source', async () => {
  const signals: AbortSignal[] = [];
  let closed = false;
  function* source() {
    try {
      for (let i = 0; ; i++) yield i;
    } finally {
      closed = true;
    }
  }
  const it = mapInFlight(
    source(),
    (i, _idx, signal) => {
      signals.push(signal);
      if (i === 2) return Promise.reject(new Error('boom'));
      return new Promise<number>(() => undefined); // never settles
    },
    { limit: 4 },
  );
  await assert.rejects(async () => {
    for await (const _ of it);
  }, /boom/);
  assert.ok(signals.length >= 3 && signals.every((s) => s.aborted));
  assert.ok(closed);
});

void test('mapInFlight: an aborted signal throws abortError; a consumer that breaks off aborts the calls', async () => {
  const ac = new AbortController();
  const seen: AbortSignal[] = [];
  const it = mapInFlight(
    [1, 2],
    (_i, _idx, s) => {
      seen.push(s);
      return new Promise<number>(() => undefined);
    },
    { signal: ac.signal, abortError: () => new Error('cancelled') },
  );
  const p = it.next();
  await tick();
  ac.abort();
  await assert.rejects(p, /cancelled/);
  assert.ok(seen.every((s) => s.aborted));

  const calls: AbortSignal[] = [];
  for await (const v of mapInFlight([1, 2, 3], async (i, _idx, s) => {
    calls.push(s);
    if (i > 1) await new Promise<void>(() => undefined);
    return i;
  }))
    if (v === 1) break;
  assert.ok(calls.length >= 1 && calls.every((s) => s.aborted));
});

void test('mapInFlight: an empty source ends at once; a source that throws ends with its error', async () => {
  const none: number[] = [];
  for await (const v of mapInFlight([], async (x: number) => x)) none.push(v);
  assert.deepEqual(none, []);
  async function* bad() {
    yield 1;
    throw new Error('source broke');
  }
  await assert.rejects(async () => {
    for await (const _ of mapInFlight(bad(), async (x) => x));
  }, /source broke/);
});
