import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProgressBar } from './progress.js';

function sink() {
  const chunks: string[] = [];
  return { chunks, stream: { write: (c: string) => chunks.push(c) > 0, columns: 200 } };
}

void test('with a known total: a bar, a percentage, docs, req/s and errors; ends with a newline', () => {
  const { chunks, stream } = sink();
  const bar = new ProgressBar({ label: '/index', total: 200, stream, fps: 1e9 });
  bar.sent(100);
  bar.received(100, true);
  bar.sent(100);
  bar.received(0, false);
  bar.done();
  const last = chunks.at(-2)!;
  assert.match(last, /^\r\/index \[█{12}░{12}\] 50% 100\/200 docs · \d+ req\/s · 1 error · \d+\.\d s/);
  assert.equal(chunks.at(-1), '\n');
});

void test('without a total: counts; nothing is drawn before delayMs, nor at done()', () => {
  const { chunks, stream } = sink();
  const bar = new ProgressBar({ label: '/', stream, delayMs: 60_000 });
  bar.sent(5);
  bar.received(5, true);
  bar.done();
  assert.deepEqual(chunks, []);
  const b2 = new ProgressBar({ label: '/', stream, fps: 1e9 });
  b2.sent(1_500);
  assert.match(chunks.at(-1)!, /1,500 docs sent, 0 received · \d+ req\/s · 0 errors/);
});
