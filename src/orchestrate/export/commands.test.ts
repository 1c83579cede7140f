import assert from 'node:assert/strict';
import { test } from 'node:test';
import { executorArgs } from './commands.js';

void test('an exported Executor keeps its dynamic batching as --uses-dynamic-batching', () => {
  const batching = { '/embed': { preferredBatchSize: 32, timeout: 10 } };
  const args = executorArgs({ name: 'e', uses: 'e.ts:E', port: 8080, usesDynamicBatching: batching });
  const i = args.indexOf('--uses-dynamic-batching');
  assert.ok(i > 0, args.join(' '));
  assert.deepEqual(JSON.parse(args[i + 1]!), batching);
  assert.equal(
    executorArgs({ name: 'e', uses: 'e.ts:E', port: 8080 }).includes('--uses-dynamic-batching'),
    false,
  );
});
