import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { DocumentArray, encodeDocs, decodeDocs, Document } from '../document/index.js';
import { DataRequest } from '../proto/request.js';
import { DynamicBatcher, groupKey } from './dynamic-batcher.js';
import { dynamicBatching, parseBatchingConfig, resolveBatchings } from './dynamic-batching.js';
import { Executor, type HandlerArgs } from './executor.js';
import { requests } from './requests.js';

class Exec extends Executor {
  @dynamicBatching({ preferredBatchSize: 2, timeout: 60_000 })
  @requests({ on: '/a' })
  a({ docs }: HandlerArgs) {
    for (const d of docs) d.tags.size = docs.length;
  }

  @requests()
  @dynamicBatching({ preferredBatchSize: 3, timeout: 60_000 })
  other({ docs }: HandlerArgs) {
    for (const d of docs) d.tags.size = docs.length;
  }

  @requests({ on: '/plain' })
  plain() {}
}

function request(endpoint: string, text: string): DataRequest {
  return DataRequest.create({ endpoint, docsBytes: encodeDocs(new DocumentArray([new Document({ text })])) });
}

void test('the decorator works above or below @requests, and on the catch-all', () => {
  const table = resolveBatchings(Exec);
  assert.equal(table.get('/a')?.preferredBatchSize, 2);
  assert.equal(table.get('/default')?.preferredBatchSize, 3);
  assert.equal(table.get('/default')?.maxQueuedDocs, 12, 'default bound: 4 * size * concurrency');
  assert.equal(table.has('/plain'), false);
  const batcher = DynamicBatcher.create(new Exec())!;
  assert.equal(batcher.handles('/a'), true);
  assert.equal(batcher.handles('/anything'), true, 'served by the batched catch-all');
  assert.equal(batcher.handles('/plain'), false);
});

void test('configuration overrides the decorator key by key; snake_case and bare endpoints accepted', () => {
  const table = resolveBatchings(
    Exec,
    parseBatchingConfig({ a: { timeout: 7 }, '/plain': { preferred_batch_size: 5, timeout: 1 } }, 'x'),
  );
  assert.deepEqual(table.get('/a'), {
    preferredBatchSize: 2,
    timeout: 7,
    maxConcurrentBatches: 1,
    maxQueuedDocs: 8,
  });
  assert.equal(table.get('/plain')?.preferredBatchSize, 5);
  assert.throws(
    () => resolveBatchings(Exec, { '/plain': { timeout: 1 } }),
    /needs preferredBatchSize and timeout/,
  );
  class Narrow extends Executor {
    @requests({ on: '/only' })
    only() {}
  }
  assert.throws(
    () => resolveBatchings(Narrow, { '/nope': { preferredBatchSize: 1, timeout: 1 } }),
    /serves no such endpoint \(it serves \/only\)/,
  );
  assert.throws(
    () => parseBatchingConfig('{', '--uses-dynamic-batching'),
    /--uses-dynamic-batching: not valid JSON/,
  );
});

void test('the group key ignores key order and __results__', () => {
  assert.equal(
    groupKey({ a: 1, b: { y: 2, x: 1 } }),
    groupKey({ b: { x: 1, y: 2 }, a: 1, __results__: { up: 1 } }),
  );
  assert.notEqual(groupKey({ a: 1 }), groupKey({ a: 2 }));
});

void test('the endpoint span of each request carries the batch size and the wait', async () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = provider.getTracer('test');
  const batcher = DynamicBatcher.create(new Exec({ metas: { name: 'e' } }))!;
  const sizes: number[] = [];
  const waits: number[] = [];
  const observer = {
    batch: (_e: string, n: number) => sizes.push(n),
    wait: (_e: string, s: number) => waits.push(s),
  };
  const run = async (text: string) => {
    const span = tracer.startSpan('/a');
    const res = await batcher.handle([request('/a', text)], {
      tracingContext: trace.setSpan(ROOT_CONTEXT, span),
      tracer,
      batchObserver: observer,
    });
    span.end();
    return res;
  };
  const [r1, r2] = await Promise.all([run('x'), run('y')]);
  assert.deepEqual(
    [...decodeDocs(r1.docsBytes)].map((d) => [d.text, d.tags.size]),
    [['x', 2]],
  );
  assert.deepEqual(
    [...decodeDocs(r2.docsBytes)].map((d) => [d.text, d.tags.size]),
    [['y', 2]],
  );
  assert.deepEqual(sizes, [2]);
  assert.equal(waits.length, 2);
  const spans = exporter.getFinishedSpans();
  assert.equal(spans.length, 2);
  for (const s of spans) {
    assert.equal(s.attributes['flowgate.batch_size'], 2);
    assert.equal(typeof s.attributes['flowgate.batch_wait_ms'], 'number');
  }
  await provider.shutdown();
});
