import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batchDocs } from './batch.js';
import { Document } from './document.js';

async function sizes(source: Iterable<{ text: string }> | AsyncIterable<{ text: string }>, size: number) {
  const out: number[] = [];
  for await (const b of batchDocs(source, size)) {
    assert.ok(b.every((d) => d instanceof Document));
    out.push(b.length);
  }
  return out;
}

void test('batchDocs cuts sync and async inputs into batches of at most size; no input gives one empty batch', async () => {
  const five = Array.from({ length: 5 }, (_, i) => ({ text: `${i}` }));
  assert.deepEqual(await sizes(five, 2), [2, 2, 1]);
  assert.deepEqual(await sizes(five, 5), [5]);
  assert.deepEqual(await sizes(five, Infinity), [5]);
  assert.deepEqual(await sizes([], 3), [0]);
  async function* gen() {
    yield* five;
  }
  assert.deepEqual(await sizes(gen(), 4), [4, 1]);
});
