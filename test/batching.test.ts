/**
 * Dynamic batching over real processes: a Flow whose Executor runs in its own process, a real
 * Client. The fixture tags each document with its batch number, the batch size and the parameter
 * it saw (test/fixtures/batching-executors.ts).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { Client, Document, DocumentArray, Flow, type Response } from '../src/index.js';
import { freePort } from '../src/serve/gateway-runtime.js';
import { Batched, StreamingBatched } from './fixtures/batching-executors.js';

const fixture = resolve('test/fixtures/batching-executors.ts');

function docs(n: number, prefix = 'd'): DocumentArray {
  return new DocumentArray(
    Array.from({ length: n }, (_, i) => new Document({ id: `${prefix}${i}`, text: `${prefix}${i}` })),
  );
}

/** Batch number -> the sizes its documents report, from documents tagged by the fixture. */
function batchesOf(da: DocumentArray): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const d of da) {
    const b = d.tags.batch as number;
    out.set(b, [...(out.get(b) ?? []), d.tags.size as number]);
  }
  return out;
}

async function scrape(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

void describe('batching by decorator', () => {
  let flow: Flow;
  let client: Client;
  before(async () => {
    flow = new Flow().add({ uses: Batched, name: 'b', monitoring: true });
    await flow.start();
    client = new Client({ port: flow.port });
  });
  after(() => flow.close());

  void test('eight one-document requests run as two batches of exactly preferredBatchSize', async () => {
    const out = await client.post('/four', docs(8), { requestSize: 1 });
    assert.equal(out.length, 8);
    const batches = batchesOf(out);
    assert.equal(batches.size, 2);
    for (const sizes of batches.values()) assert.deepEqual(sizes, [4, 4, 4, 4]);
    assert.ok(
      out.every((d) => d.text === `${d.id}!`),
      'each caller gets its own documents back, changed',
    );
  });

  void test('requests with different parameters never share a batch', async () => {
    const [a, b] = await Promise.all([
      client.post('/four', docs(4, 'a'), { requestSize: 1, parameters: { p: 'a' } }),
      client.post('/four', docs(4, 'b'), { requestSize: 1, parameters: { p: 'b' } }),
    ]);
    for (const [da, p] of [
      [a, 'a'],
      [b, 'b'],
    ] as const) {
      assert.equal(da.length, 4);
      assert.ok(
        da.every((d) => d.tags.seen === p && d.id.startsWith(p)),
        `p=${p} batch saw ${JSON.stringify(da.map((d) => d.tags.seen))}`,
      );
      assert.equal(new Set(da.map((d) => d.tags.batch)).size, 1, 'the four shared one batch');
    }
    assert.notEqual(a[0]!.tags.batch, b[0]!.tags.batch);
  });

  void test('a lone request runs alone once the timeout has passed', async () => {
    const started = performance.now();
    const out = await client.post('/lone', docs(1));
    const ms = performance.now() - started;
    assert.equal(out[0]!.tags.size, 1);
    assert.ok(ms >= 140, `waited ${ms.toFixed(0)} ms, the timeout is 150`);
    assert.ok(ms < 10_000, `waited ${ms.toFixed(0)} ms`);
  });

  void test('a request larger than a batch is split and rejoined in its order', async () => {
    const input = docs(12, 'big');
    const out = await client.post('/four', input, { requestSize: 12 });
    assert.deepEqual(
      out.map((d) => d.id),
      input.map((d) => d.id),
    );
    const batches = batchesOf(out);
    assert.equal(batches.size, 3);
    for (const sizes of batches.values()) assert.deepEqual(sizes, [4, 4, 4, 4]);
  });

  void test('returned documents are split back by position: each caller gets its own, in order', async () => {
    const input = docs(8, 'r');
    const responses = await client.post('/returns', input, {
      requestSize: 3,
      resultsInOrder: true,
      returnResponses: true,
    });
    assert.deepEqual(
      responses.map((r) => r.docs.map((d) => d.text)),
      [
        ['R0', 'R1', 'R2'],
        ['R3', 'R4', 'R5'],
        ['R6', 'R7'],
      ],
    );
  });

  void test('an error fails every request of its batch with the Executor error; the next batch runs', async () => {
    const failed: Response[] = [];
    const boom = new DocumentArray([new Document({ text: 'boom' }), new Document({ text: 'fine' })]);
    await client.post('/fail', boom, { requestSize: 1, onError: (r) => void failed.push(r) });
    assert.equal(failed.length, 2, 'both requests of the batch fail');
    for (const r of failed) assert.match(r.status?.description ?? '', /a boom in the batch/);
    const ok = await client.post('/fail', docs(2), { requestSize: 1 });
    assert.deepEqual(
      ok.map((d) => d.tags.size),
      [2, 2],
    );
  });

  void test('maxConcurrentBatches: 2 runs two batches at once, not more', async () => {
    const out = await client.post('/slow', docs(6), { requestSize: 1 });
    assert.equal(Math.max(...out.map((d) => d.tags.concurrent as number)), 2);
  });

  void test('jina_dynamic_batch_size and the queue wait are in the Executor metrics', async () => {
    const text = await scrape(flow.monitoringPorts.b!);
    const count = /jina_dynamic_batch_size_count\{[^}]*executor_endpoint="\/four"[^}]*\} (\d+)/.exec(text);
    assert.ok(count && Number(count[1]) >= 7, `batches of /four counted: ${count?.[1]}`);
    assert.match(text, /jina_dynamic_batch_size_bucket\{[^}]*le="4"[^}]*\} [1-9]/);
    assert.match(text, /jina_dynamic_batch_wait_seconds_count\{[^}]*executor_endpoint="\/lone"[^}]*\} [1-9]/);
  });

  void test('an endpoint without batching still gets each request on its own', async () => {
    const out = await client.post('/plain', docs(4), { requestSize: 1 });
    assert.equal(new Set(out.map((d) => d.tags.batch)).size, 4);
  });
});

void test('usesDynamicBatching overrides the decorator, key by key, and snake_case is accepted', async () => {
  const flow = new Flow().add({
    uses: Batched,
    usesDynamicBatching: { '/four': { preferredBatchSize: 2 }, slow: { max_concurrent_batches: 1 } },
  });
  await flow.start();
  try {
    const client = new Client({ port: flow.port });
    const out = await client.post('/four', docs(6), { requestSize: 1 });
    for (const sizes of batchesOf(out).values()) assert.deepEqual(sizes, [2, 2]);
    const slow = await client.post('/slow', docs(3), { requestSize: 1 });
    assert.equal(Math.max(...slow.map((d) => d.tags.concurrent as number)), 1);
  } finally {
    await flow.close();
  }
});

void test('Flow YAML uses_dynamic_batching overrides the Executor YAML dynamic_batching section', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'flowgate-batching-'));
  try {
    await writeFile(
      join(dir, 'exec.yml'),
      [
        'jtype: Batched',
        `py_modules: ${fixture}`,
        'dynamic_batching:',
        '  /four: { preferred_batch_size: 3 }',
        '  /plain: { preferred_batch_size: 3, timeout: 60000 }',
      ].join('\n'),
    );
    await writeFile(
      join(dir, 'flow.yml'),
      [
        'jtype: Flow',
        'executors:',
        '  - name: y',
        `    uses: ${join(dir, 'exec.yml')}`,
        '    uses_dynamic_batching:',
        "      '/four': { preferred_batch_size: 2 }",
      ].join('\n'),
    );
    const flow = await Flow.load(join(dir, 'flow.yml'));
    await flow.start();
    try {
      const client = new Client({ port: flow.port });
      const four = await client.post('/four', docs(4), { requestSize: 1 });
      for (const sizes of batchesOf(four).values()) assert.deepEqual(sizes, [2, 2], 'the Flow YAML wins');
      const plain = await client.post('/plain', docs(6), { requestSize: 1 });
      for (const sizes of batchesOf(plain).values())
        assert.deepEqual(sizes, [3, 3, 3], 'the Executor YAML batches an undecorated endpoint');
    } finally {
      await flow.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

void test('flowgate executor --uses-dynamic-batching configures the batching', async () => {
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...['--import', 'tsx', 'src/cli/main.ts', 'executor', '--name', 'cli', '--host', '127.0.0.1'],
      ...['--port', String(port), '--uses', `${fixture}:Batched`],
      ...['--uses-dynamic-batching', '{"/four":{"preferred_batch_size":2}}'],
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  try {
    const lines = createInterface({ input: child.stderr! });
    for await (const line of lines) if (/serving gRPC on/.test(line)) break;
    const flow = new Flow().add({ name: 'cli', external: true, host: '127.0.0.1', port });
    await flow.start();
    try {
      const out = await new Client({ port: flow.port }).post('/four', docs(4), { requestSize: 1 });
      for (const sizes of batchesOf(out).values()) assert.deepEqual(sizes, [2, 2]);
    } finally {
      await flow.close();
    }
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
});

void test('a streaming endpoint with batching is refused at start with a clear error', async () => {
  const flow = new Flow().add({ uses: StreamingBatched, name: 's' });
  await assert.rejects(flow.start(), /streaming endpoints cannot be batched/);
  await flow.close();
});

void test('bad batching configuration is refused when added', () => {
  assert.throws(
    () => new Flow().add({ uses: Batched, usesDynamicBatching: { '/four': { preferredBatchSize: 0 } } }),
    /preferredBatchSize must be an integer >= 1, got 0/,
  );
  assert.throws(
    () => new Flow().add({ uses: Batched, usesDynamicBatching: { '/four': { size: 3 } } }),
    /unknown key 'size'/,
  );
});
