import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnectionPool } from './connection-pool.js';
import { ExecutorStreamer, executorStreamers } from './executor-streamer.js';

void test("executor['unknown'] throws an error that lists the Executors; known names and object keys work", async () => {
  const pool = new ConnectionPool({ encoder: ['127.0.0.1:1'], indexer: ['127.0.0.1:2'] });
  try {
    const executor = executorStreamers(pool);
    assert.ok(executor.encoder instanceof ExecutorStreamer);
    assert.throws(
      () => executor.encodr!.post(),
      /no Executor named 'encodr' in this Flow: executor\[\.\.\.\] takes one of 'encoder', 'indexer'/,
    );
    assert.deepEqual(Object.keys(executor), ['encoder', 'indexer']);
    assert.equal('then' in executor, false);
    assert.equal(await Promise.resolve(executor), executor); // awaiting it asks for `then`
    assert.equal(typeof executor.toString, 'function');
  } finally {
    pool.close();
  }
});
