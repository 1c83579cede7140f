/**
 * Streaming, the rest of issue 17, over real processes: `flow.streamDoc` / `deployment.streamDoc`,
 * the stream metrics read from the real `/metrics` endpoints, `targetExecutor` on every protocol,
 * gRPC-Web `stream_doc` on the one-port front, the HTTP Client refused before a normal endpoint
 * runs, and a sharded streaming Executor behind its head (polling ANY streams, ALL is refused).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { Client, Deployment, Document, ExecutorError, Flow, FlowgateError } from '../src/index.js';
import type { ClientProtocol } from '../src/client/client.js';
import { createStreamDocRequest } from '../src/document/stream-request.js';
import { frame, parseFrames } from '../src/transport/grpc/server-grpc-web.js';
import { StreamDocCodec } from '../src/transport/grpc/stream-doc.js';
import { Prefix, Tokens } from './fixtures/stream-executors.js';
import { decodeBase64Chunks, trailer } from './fixtures/grpc-web.js';

const dir = mkdtempSync(join(tmpdir(), 'flowgate-stream-flow-'));
let markers = 0;
const marker = () => join(dir, `m${markers++}`);

/** Waits until `file` exists (the Executor wrote it), at most `ms`; returns its text. */
async function waitForFile(file: string, ms: number): Promise<string> {
  const start = Date.now();
  while (!existsSync(file)) {
    if (Date.now() - start > ms) assert.fail(`${file} did not appear within ${ms} ms`);
    await sleep(10);
  }
  return readFileSync(file, 'utf8');
}

async function texts(items: AsyncIterable<Document>): Promise<string[]> {
  const out: string[] = [];
  for await (const d of items) out.push(d.text ?? '');
  return out;
}

/** The value of the sample `name{labels...}` in a Prometheus text scrape (0 when absent). */
function sample(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    const m = /^([\w:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return 0;
}

async function scrape(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(res.status, 200);
  return res.text();
}

void describe('a streaming Deployment on one port (gRPC, HTTP, WebSocket, gRPC-Web), with monitoring', () => {
  let dep: Deployment;
  before(async () => {
    dep = await new Deployment({
      uses: Tokens,
      name: 'tokens',
      protocol: ['grpc', 'http', 'websocket'],
      port: 0,
      monitoring: true,
    }).start();
  });
  after(() => dep?.close());

  void test('deployment.streamDoc streams over its first protocol, and over another with client overrides', async () => {
    assert.equal(new Set(dep.ports).size, 1, 'one port for every protocol');
    assert.deepEqual(await texts(dep.streamDoc({ on: '/generate', inputs: { text: 'a b c' } })), [
      'a',
      'b',
      'c',
    ]);
    for (const protocol of ['http', 'websocket'] as const)
      assert.deepEqual(
        await texts(dep.streamDoc({ on: '/count', inputs: {}, parameters: { n: 2 }, client: { protocol } })),
        ['0', '1'],
        protocol,
      );
  });

  void test('the stream metrics count items, the first item and outcomes, on the Gateway and the worker', async () => {
    const ports = dep.monitoringPorts;
    const labels = (runtime: string) => ({ runtime_name: runtime, executor_endpoint: '/generate' });
    assert.deepEqual(Object.keys(ports).sort(), ['gateway', 'tokens'], 'monitoring reaches the Gateway too');
    const gatewayName = 'gateway';
    const read = async () => {
      const [g, w] = [await scrape(ports[gatewayName]!), await scrape(ports.tokens!)];
      return {
        gItems: sample(g, 'flowgate_stream_items_total', labels('gateway')),
        gFirst: sample(g, 'flowgate_stream_first_item_seconds_count', labels('gateway')),
        gOk: sample(g, 'flowgate_streams_total', { ...labels('gateway'), outcome: 'ok' }),
        wItems: sample(w, 'flowgate_stream_items_total', labels('tokens')),
        wFirst: sample(w, 'flowgate_stream_first_item_seconds_count', labels('tokens')),
        wOk: sample(w, 'flowgate_streams_total', { ...labels('tokens'), outcome: 'ok' }),
        wCancelled: sample(w, 'flowgate_streams_total', { ...labels('tokens'), outcome: 'cancelled' }),
      };
    };
    const before0 = await read();
    assert.deepEqual(
      await texts(dep.streamDoc({ on: '/generate', inputs: { text: 'one two three four' } })),
      ['one', 'two', 'three', 'four'],
    );
    const mid = await read();
    assert.equal(mid.gItems - before0.gItems, 4, 'the Gateway counted 4 items');
    assert.equal(mid.wItems - before0.wItems, 4, 'the worker counted 4 items');
    assert.equal(mid.gFirst - before0.gFirst, 1, 'one first-item time per stream');
    assert.equal(mid.wFirst - before0.wFirst, 1);
    assert.equal(mid.gOk - before0.gOk, 1);
    assert.equal(mid.wOk - before0.wOk, 1);
    const file = marker();
    for await (const _ of dep.streamDoc({
      on: '/generate',
      inputs: { text: Array.from({ length: 100 }, (_, k) => `w${k}`).join(' ') },
      parameters: { delayMs: 50, marker: file },
    })) {
      void _;
      break;
    }
    await waitForFile(file, 1000);
    const now = await read();
    assert.equal(now.gFirst - mid.gFirst, 1);
    assert.equal(now.wFirst - mid.wFirst, 1);
    assert.ok(now.wItems - mid.wItems >= 1 && now.wItems - mid.wItems < 100, `${now.wItems - mid.wItems}`);
    assert.equal(now.wCancelled - mid.wCancelled, 1, 'the break is a cancelled stream');
    assert.equal(now.wOk, mid.wOk);
    const g = await scrape(dep.monitoringPorts[gatewayName]!);
    assert.match(g, /^# TYPE flowgate_stream_first_item_seconds histogram$/m);
  });

  void test('gRPC-Web (binary and text) serves stream_doc: one frame per item, then OK trailers', async () => {
    const port = dep.port;
    for (const ct of ['application/grpc-web+proto', 'application/grpc-web-text']) {
      const req = createStreamDocRequest({
        endpoint: '/generate',
        doc: new Document({ text: 'web stream' }),
      });
      const body = frame(0, StreamDocCodec.encode(req));
      const text = ct.includes('text');
      const res = await fetch(`http://127.0.0.1:${port}/jina.JinaSingleDocumentRequestRPC/stream_doc`, {
        method: 'POST',
        headers: { 'content-type': ct, 'x-grpc-web': '1' },
        body: text ? body.toString('base64') : body,
      });
      assert.equal(res.status, 200);
      const raw = Buffer.from(await res.arrayBuffer());
      const bytes = text ? decodeBase64Chunks(raw.toString('latin1')) : raw;
      const items = parseFrames(bytes).map((m) => StreamDocCodec.decode(m));
      assert.deepEqual(
        items.map((i) => i.document?.text),
        ['web', 'stream'],
        ct,
      );
      assert.match(trailer(bytes), /grpc-status:0/);
    }
  });

  void test('gRPC-Web: an Executor error is the last item; closing the response closes the generator', async () => {
    const fail = createStreamDocRequest({
      endpoint: '/fail-after',
      doc: new Document(),
      parameters: { n: 1 },
    });
    const res = await fetch(`http://127.0.0.1:${dep.port}/jina.JinaSingleDocumentRequestRPC/stream_doc`, {
      method: 'POST',
      headers: { 'content-type': 'application/grpc-web+proto' },
      body: frame(0, StreamDocCodec.encode(fail)),
    });
    const items = parseFrames(Buffer.from(await res.arrayBuffer())).map((m) => StreamDocCodec.decode(m));
    assert.equal(items[0]!.document?.text, 'item 0');
    assert.match(items[1]!.header.status?.description ?? '', /boom after 1/);
    assert.equal(items[1]!.header.status?.exception?.executor, 'tokens');

    const file = marker();
    const long = createStreamDocRequest({
      endpoint: '/generate',
      doc: new Document({ text: Array.from({ length: 100 }, (_, k) => `w${k}`).join(' ') }),
      parameters: { delayMs: 50, marker: file },
    });
    const abort = new AbortController();
    const open = await fetch(`http://127.0.0.1:${dep.port}/jina.JinaSingleDocumentRequestRPC/stream_doc`, {
      method: 'POST',
      headers: { 'content-type': 'application/grpc-web+proto' },
      body: frame(0, StreamDocCodec.encode(long)),
      signal: abort.signal,
    });
    const reader = open.body!.getReader();
    const first = await reader.read();
    assert.ok(first.value && first.value.length > 5, 'the first item arrived');
    abort.abort();
    assert.equal(await waitForFile(file, 1000), 'generate closed');
  });

  void test('the HTTP Client streaming a normal endpoint is refused before the endpoint runs', async () => {
    await using client = new Client({ protocol: 'http', port: dep.port });
    const file = marker();
    await assert.rejects(
      texts(client.streamDoc({ on: '/normal', inputs: { text: 'x' }, parameters: { marker: file } })),
      (err: unknown) => {
        assert.ok(err instanceof FlowgateError, String(err));
        assert.equal(err.code, 3);
        assert.match(err.message, /endpoint \/normal is not a streaming endpoint.*call it with post/);
        return true;
      },
    );
    assert.equal(existsSync(file), false, 'the normal endpoint did not run');
    // the same endpoint still answers post
    const out = await client.post('/normal', [new Document({ text: 'y' })], { parameters: { marker: file } });
    assert.equal(out[0]!.text, 'normal y');
    assert.equal(await waitForFile(file, 1000), 'normal ran');
  });
});

void describe('targetExecutor applies to streams on every protocol', () => {
  const protocols: ClientProtocol[] = ['grpc', 'http', 'websocket'];
  const flow = new Flow()
    .configGateway({ protocol: protocols })
    .add({ name: 'prefix', uses: Prefix })
    .add({ name: 'tokens', uses: Tokens });
  before(() => flow.start());
  after(() => flow.close());

  for (const [i, protocol] of protocols.entries())
    void test(`over ${protocol}: Executors not matching are passed through; no streaming match is precise`, async () => {
      await using client = new Client({ protocol, port: flow.ports[i] });
      const stream = (targetExecutor?: string) =>
        texts(client.streamDoc({ on: '/generate', inputs: { text: 'a b' }, targetExecutor }));
      assert.deepEqual(await stream(), ['pre', 'a', 'b']);
      assert.deepEqual(await stream('tok'), ['a', 'b'], 'prefix is passed through');
      await assert.rejects(stream('prefix'), (err: unknown) => {
        assert.ok(err instanceof FlowgateError && !(err instanceof ExecutorError), String(err));
        assert.equal(err.code, 3);
        assert.match(
          err.message,
          /^no Executor of this Flow whose name matches targetExecutor 'prefix' serves \/generate as a streaming endpoint/,
        );
        return true;
      });
    });

  void test('flow.streamDoc passes targetExecutor on', async () => {
    assert.deepEqual(
      await texts(flow.streamDoc({ on: '/generate', inputs: { text: 'c' }, targetExecutor: 'tokens' })),
      ['c'],
    );
  });
});

void describe('a sharded streaming Executor behind its head', () => {
  let dep: Deployment;
  before(async () => {
    dep = await new Deployment({
      uses: Tokens,
      name: 'llm',
      shards: 2,
      polling: { '/fail-after': 'ALL', '*': 'ANY' },
      protocol: ['grpc', 'http'],
    }).start();
  });
  after(() => dep?.close());

  void test('polling ANY: each stream goes to one shard, round robin, over gRPC and HTTP', async () => {
    const shards = new Set<string>();
    for (const protocol of ['grpc', 'http'] as const)
      for (let k = 0; k < 2; k++) {
        const items: Document[] = [];
        for await (const d of dep.streamDoc({
          on: '/generate',
          inputs: { text: 'a b c' },
          client: { protocol },
        }))
          items.push(d);
        assert.deepEqual(
          items.map((d) => d.text),
          ['a', 'b', 'c'],
        );
        assert.equal(new Set(items.map((d) => JSON.stringify(d.tags.shard))).size, 1, 'one shard per stream');
        shards.add(JSON.stringify(items[0]!.tags.shard));
      }
    assert.equal(shards.size, 2, `both shards streamed: ${[...shards].join(', ')}`);
  });

  void test('break closes the shard generator through the head within a second', async () => {
    const file = marker();
    for await (const d of dep.streamDoc({
      on: '/generate',
      inputs: { text: Array.from({ length: 100 }, (_, k) => `w${k}`).join(' ') },
      parameters: { delayMs: 50, marker: file },
    })) {
      assert.equal(d.text, 'w0');
      break;
    }
    assert.equal(await waitForFile(file, 1000), 'generate closed');
  });

  void test('polling ALL for a streaming endpoint is UNIMPLEMENTED, naming the way out', async () => {
    await assert.rejects(texts(dep.streamDoc({ on: '/fail-after', inputs: {} })), (err: unknown) => {
      assert.ok(err instanceof FlowgateError, String(err));
      assert.equal(err.code, 12);
      assert.match(err.message, /head of llm cannot stream \/fail-after with polling ALL.*polling ANY/);
      return true;
    });
    // the Deployment keeps serving
    assert.deepEqual(await texts(dep.streamDoc({ on: '/count', inputs: {}, parameters: { n: 1 } })), ['0']);
  });
});
