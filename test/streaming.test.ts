/**
 * Streaming endpoints end to end: an Executor's generator behind a worker (original-proto
 * `stream_doc` with @grpc/proto-loader), behind a Gateway on every protocol (the Client, raw SSE,
 * raw WebSocket frames), through a chain of Executors; cancellation, back-pressure, deadlines and
 * errors.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import WebSocket from 'ws';
import { Client, Document, ExecutorError, Flow, FlowgateError } from '../src/index.js';
import type { ClientProtocol } from '../src/client/client.js';
import { WorkerRuntime } from '../src/runtime/worker.js';
import { ConnectionPool } from '../src/gateway/connection-pool.js';
import { executorStreamers } from '../src/gateway/executor-streamer.js';
import { GraphWalker } from '../src/gateway/graph-walker.js';
import { StreamWalker } from '../src/gateway/stream-walker.js';
import { GatewayStreamer } from '../src/gateway/streamer.js';
import { buildTopology } from '../src/gateway/topology.js';
import { Prefix, Tokens, Upper } from './fixtures/stream-executors.js';

const dir = mkdtempSync(join(tmpdir(), 'flowgate-stream-'));
let markers = 0;
const marker = () => join(dir, `m${markers++}`);

/** Waits until `file` exists (the Executor's `finally` wrote it), at most `ms`; returns its text. */
async function waitForFile(file: string, ms: number): Promise<string> {
  const start = Date.now();
  while (!existsSync(file)) {
    if (Date.now() - start > ms) assert.fail(`${file} did not appear within ${ms} ms`);
    await sleep(10);
  }
  return readFileSync(file, 'utf8');
}

const protoDir = join(import.meta.dirname, '../proto');

/** An original-proto client (generated from proto/jina.proto, not flowgate's code). */
function originalStreamClient(
  port: number,
): grpc.Client & Record<string, grpc.MethodDefinition<unknown, unknown>> {
  const def = protoLoader.loadSync('jina.proto', { includeDirs: [protoDir], keepCase: true, defaults: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    jina: { JinaSingleDocumentRequestRPC: grpc.ServiceClientConstructor };
  };
  return new pkg.jina.JinaSingleDocumentRequestRPC(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
  ) as never;
}

interface OriginalItem {
  header: {
    request_id: string;
    status?: { code: string | number; description: string; exception?: { executor: string } };
  };
  document?: { text?: string };
}

async function originalStream(port: number, request: object): Promise<OriginalItem[]> {
  const client = originalStreamClient(port);
  try {
    const call = (
      client as unknown as { stream_doc(r: object): grpc.ClientReadableStream<OriginalItem> }
    ).stream_doc(request);
    const out: OriginalItem[] = [];
    for await (const item of call) out.push(item as OriginalItem);
    return out;
  } finally {
    client.close();
  }
}

void describe('a worker serves stream_doc as the original proto says', () => {
  let worker: WorkerRuntime;
  let port: number;
  before(async () => {
    worker = new WorkerRuntime({ executor: new Tokens({ metas: { name: 'tokens' } }) });
    port = await worker.start();
  });
  after(async () => {
    await worker.close();
  });

  void test('each yielded document is one SingleDocumentRequestProto', async () => {
    const items = await originalStream(port, {
      header: { request_id: 'r1', exec_endpoint: '/generate' },
      document: { id: 'in', text: 'hello streaming world' },
    });
    assert.deepEqual(
      items.map((i) => i.document?.text),
      ['hello', 'streaming', 'world'],
    );
    assert.ok(items.every((i) => i.header.request_id === 'r1'));
  });

  void test('stream_doc to a normal endpoint gets an error item naming the endpoint', async () => {
    const items = await originalStream(port, {
      header: { request_id: 'r2', exec_endpoint: '/normal' },
      document: { text: 'x' },
    });
    assert.equal(items.length, 1);
    assert.match(
      items[0]!.header.status!.description,
      /\/normal of Executor tokens is not a streaming endpoint/,
    );
  });

  void test('a mid-stream error is the last item, with the exception and the Executor', async () => {
    const items = await originalStream(port, {
      header: { request_id: 'r3', exec_endpoint: '/fail-after' },
      document: {},
    });
    assert.deepEqual(
      items.slice(0, 2).map((i) => i.document?.text),
      ['item 0', 'item 1'],
    );
    const last = items[2]!.header.status!;
    assert.match(last.description, /RangeError\('boom after 2'\)/);
    assert.equal(last.exception?.executor, 'tokens');
  });
});

const protocols: ClientProtocol[] = ['grpc', 'http', 'websocket'];
const single = new Flow().configGateway({ protocol: protocols }).add({ name: 'tokens', uses: Tokens });

before(async () => {
  await single.start();
});
after(async () => {
  await single.close();
});

void describe('one streaming Executor behind the Gateway', () => {
  void test('the original-proto client streams through the Gateway', async () => {
    const items = await originalStream(single.ports[0]!, {
      header: { request_id: 'g1', exec_endpoint: '/generate' },
      document: { text: 'a b' },
    });
    assert.deepEqual(
      items.map((i) => i.document?.text),
      ['a', 'b'],
    );
  });

  for (const [i, protocol] of protocols.entries()) {
    void describe(`over ${protocol}`, () => {
      let client: Client;
      before(() => {
        client = new Client({ protocol, port: single.ports[i] });
      });
      after(async () => {
        await client.close();
      });

      void test('items arrive one by one, as they are yielded', async () => {
        const seen: { text: string; at: number }[] = [];
        const start = Date.now();
        for await (const d of client.streamDoc({
          on: '/generate',
          inputs: { text: 'one two three' },
          parameters: { delayMs: 150 },
        }))
          seen.push({ text: d.text!, at: Date.now() - start });
        assert.deepEqual(
          seen.map((s) => s.text),
          ['one', 'two', 'three'],
        );
        // the first item comes long before the last was yielded (2 x 150 ms later)
        assert.ok(seen[2]!.at - seen[0]!.at >= 150, JSON.stringify(seen));
      });

      void test('a sync generator streams too', async () => {
        const out: string[] = [];
        for await (const d of client.streamDoc({
          on: '/count',
          inputs: new Document(),
          parameters: { n: 4 },
        }))
          out.push(d.text!);
        assert.deepEqual(out, ['0', '1', '2', '3']);
      });

      void test('a mid-stream error ends the stream with an ExecutorError naming the Executor', async () => {
        const out: string[] = [];
        await assert.rejects(
          (async () => {
            for await (const d of client.streamDoc({ on: '/fail-after', inputs: {}, parameters: { n: 2 } }))
              out.push(d.text!);
          })(),
          (err: unknown) => {
            assert.ok(err instanceof ExecutorError, String(err));
            assert.equal(err.executor, 'tokens');
            assert.match(err.message, /boom after 2/);
            return true;
          },
        );
        assert.deepEqual(out, ['item 0', 'item 1']);
      });

      void test('an error before the first item rejects', async () => {
        await assert.rejects(
          (async () => {
            for await (const _ of client.streamDoc({ on: '/fail-after', inputs: {}, parameters: { n: 0 } }))
              void _;
          })(),
          /boom after 0/,
        );
      });

      void test('post to a streaming endpoint gets a precise error', async () => {
        await assert.rejects(
          client.post('/generate', [new Document({ text: 'a' })]),
          /streaming endpoint.*call it with streamDoc/,
        );
      });

      void test('break closes the generator (its finally runs) within a second', async () => {
        const file = marker();
        for await (const d of client.streamDoc({
          on: '/generate',
          inputs: { text: Array.from({ length: 100 }, (_, k) => `w${k}`).join(' ') },
          parameters: { delayMs: 50, marker: file },
        })) {
          assert.equal(d.text, 'w0');
          break;
        }
        assert.equal(await waitForFile(file, 1000), 'generate closed');
      });

      void test('a slow reader holds the generator back (bounded buffering)', async () => {
        const file = marker();
        let read = 0;
        for await (const _ of client.streamDoc({
          on: '/endless',
          inputs: {},
          parameters: { size: 16384, marker: file },
        })) {
          void _;
          if (++read === 1) await sleep(1500); // a reader that stops reading
          if (read === 2) break;
        }
        const produced = Number(await waitForFile(file, 1000));
        if (process.env.FLOWGATE_STREAM_DEBUG) console.log(`${protocol}: produced ${produced}`);
        // Unbounded, the generator yields tens of thousands of 16 KiB items in 1.5 s.
        assert.ok(produced < STREAM_BOUND_ITEMS, `the generator ran ${produced} items ahead`);
      });

      void test('the timeout applies to the whole stream and closes the generator', async () => {
        const file = marker();
        const got: string[] = [];
        await assert.rejects(
          (async () => {
            for await (const d of client.streamDoc({
              on: '/generate',
              inputs: { text: Array.from({ length: 100 }, (_, k) => `w${k}`).join(' ') },
              parameters: { delayMs: 50, marker: file },
              timeout: 600,
            }))
              got.push(d.text!);
          })(),
          (err: unknown) => err instanceof FlowgateError && err.code === 4,
        );
        assert.ok(got.length > 2 && got.length < 20, `${got.length} items`);
        assert.equal(await waitForFile(file, 1500), 'generate closed');
      });
    });
  }
});

/** 16 KiB items a stalled reader lets the generator run ahead by, at most, on every protocol. */
const STREAM_BOUND_ITEMS = 2000;

void describe('the SSE routes and WebSocket frames, raw', () => {
  let http: string;
  let wsUrl: string;
  before(() => {
    http = `http://127.0.0.1:${single.ports[1]}`;
    wsUrl = `ws://127.0.0.1:${single.ports[2]}/`;
  });

  void test('GET with query parameters answers text/event-stream: update events, then end', async () => {
    const res = await fetch(`${http}/generate?text=${encodeURIComponent('a b')}&tags__k=v`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const events = [...(await res.text()).matchAll(/event: (\w+)\ndata: (.*)\n\n/g)].map((m) => [
      m[1],
      JSON.parse(m[2]!) as unknown,
    ]);
    assert.deepEqual(
      events.map(([e, d]) => [e, (d as { text?: string }).text]),
      [
        ['update', 'a'],
        ['update', 'b'],
        ['end', undefined],
      ],
    );
  });

  void test('POST with the document as the body streams the same way', async () => {
    const res = await fetch(`${http}/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'x y z' }),
    });
    const text = await res.text();
    assert.equal((text.match(/event: update/g) ?? []).length, 3);
    assert.match(text, /event: end\n/);
  });

  void test('an error before the first item is HTTP 499 with detail; after it an error event', async () => {
    const first = await fetch(`${http}/fail-after?parameters__n=0`);
    assert.equal(first.status, 499);
    assert.match(((await first.json()) as { detail: string }).detail, /RangeError\('boom after 0'\)/);
    const later = await fetch(`${http}/fail-after?parameters__n=1`);
    assert.equal(later.status, 200);
    const text = await later.text();
    assert.match(text, /^event: update\n/);
    const error = /event: error\ndata: (.*)\n\n/.exec(text);
    assert.deepEqual(JSON.parse(error![1]!), {
      name: 'RangeError',
      message: 'boom after 1',
      executor: 'tokens',
    });
    assert.doesNotMatch(text, /event: end/);
  });

  void test('normal endpoints keep their POST; streaming ones are in the OpenAPI document', async () => {
    const normal = await fetch(`${http}/normal`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ data: [{ text: 'n' }] }),
    });
    assert.deepEqual(
      ((await normal.json()) as { data: { text: string }[] }).data.map((d) => d.text),
      ['normal n'],
    );
    const spec = (await (await fetch(`${http}/openapi.json`)).json()) as {
      paths: Record<
        string,
        Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>
      >;
    };
    assert.ok(spec.paths['/generate']?.get && spec.paths['/generate'].post);
    assert.ok(spec.paths['/generate'].get.responses['200']?.content?.['text/event-stream']);
    assert.equal(spec.paths['/normal']?.get, undefined);
  });

  void test('closing the HTTP response closes the generator within a second', async () => {
    const file = marker();
    const abort = new AbortController();
    const res = await fetch(
      `${http}/generate?parameters__delayMs=50&parameters__marker=${encodeURIComponent(file)}&text=${'w '.repeat(100)}`,
      {
        signal: abort.signal,
      },
    );
    const reader = res.body!.getReader();
    await reader.read();
    abort.abort();
    assert.equal(await waitForFile(file, 1000), 'generate closed');
  });

  void test('cancelling the original-proto gRPC call closes the generator within a second', async () => {
    const file = marker();
    const client = originalStreamClient(single.ports[0]!);
    const call = (
      client as unknown as { stream_doc(r: object): grpc.ClientReadableStream<OriginalItem> }
    ).stream_doc({
      header: { request_id: 'c1', exec_endpoint: '/generate' },
      // google.protobuf.Struct as protobufjs's bundled struct.proto spells its fields
      parameters: { fields: { delayMs: { numberValue: 50 }, marker: { stringValue: file } } },
      document: { text: 'w '.repeat(100) },
    });
    call.on('error', () => undefined);
    await new Promise((resolve) => call.once('data', resolve));
    call.cancel();
    assert.equal(await waitForFile(file, 1000), 'generate closed');
    client.close();
  });

  void test('several streams share one WebSocket, each item tagged with its request id', async () => {
    const ws = new WebSocket(wsUrl, ['json']);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const frames: { stream: string; event: string; document?: { text: string } }[] = [];
    const ended = new Promise<void>((resolve) => {
      ws.on('message', (data) => {
        frames.push(JSON.parse((data as Buffer).toString('utf8')) as (typeof frames)[number]);
        if (frames.filter((f) => f.event === 'end').length === 2) resolve();
      });
    });
    ws.send(
      JSON.stringify({
        streamDoc: {
          requestId: 's1',
          execEndpoint: '/generate',
          document: { text: 'a b c' },
          parameters: { delayMs: 30 },
        },
      }),
    );
    ws.send(
      JSON.stringify({
        streamDoc: { requestId: 's2', execEndpoint: '/count', document: {}, parameters: { n: 2 } },
      }),
    );
    await ended;
    const of = (id: string) => frames.filter((f) => f.stream === id).map((f) => f.document?.text ?? f.event);
    assert.deepEqual(of('s1'), ['a', 'b', 'c', 'end']);
    assert.deepEqual(of('s2'), ['0', '1', 'end']);
    ws.close();
  });

  void test('closing the WebSocket closes the generator within a second', async () => {
    const file = marker();
    const ws = new WebSocket(wsUrl, ['json']);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.send(
      JSON.stringify({
        streamDoc: {
          requestId: 'c',
          execEndpoint: '/generate',
          document: { text: 'w '.repeat(100) },
          parameters: { delayMs: 50, marker: file },
        },
      }),
    );
    await new Promise((resolve) => ws.once('message', resolve));
    ws.close();
    assert.equal(await waitForFile(file, 1000), 'generate closed');
  });
});

void describe('a streaming Executor inside a chain', () => {
  const chain = new Flow()
    .configGateway({ protocol: ['grpc', 'http', 'websocket'] })
    .add({ name: 'prefix', uses: Prefix })
    .add({ name: 'tokens', uses: Tokens })
    .add({ name: 'upper', uses: Upper });
  before(async () => {
    await chain.start();
  });
  after(async () => {
    await chain.close();
  });

  for (const [i, protocol] of protocols.entries()) {
    void test(`over ${protocol}: Executors before it change the input, those after it each item`, async () => {
      await using client = new Client({ protocol, port: chain.ports[i] });
      const out: string[] = [];
      for await (const d of client.streamDoc({ on: '/generate', inputs: { text: 'a b' } })) out.push(d.text!);
      // prefix turned 'a b' into 'pre a b'; tokens streamed 'pre', 'a', 'b'; upper upper-cased each
      assert.deepEqual(out, ['PRE', 'A', 'B']);
    });
  }

  void test('an error after the streaming Executor ends the stream naming that Executor', async () => {
    await using client = new Client({ port: chain.ports[0] });
    const out: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const d of client.streamDoc({
          on: '/generate',
          inputs: { text: 'a b' },
          parameters: { fail: 'A' },
        }))
          out.push(d.text!);
      })(),
      (err: unknown) => err instanceof ExecutorError && err.executor === 'upper',
    );
    assert.deepEqual(out, ['PRE']);
  });

  void test('break in the Client cancels through the chain', async () => {
    const file = marker();
    await using client = new Client({ port: chain.ports[0] });
    for await (const _ of client.streamDoc({
      on: '/generate',
      inputs: { text: 'w '.repeat(100) },
      parameters: { delayMs: 50, marker: file },
    })) {
      void _;
      break;
    }
    assert.equal(await waitForFile(file, 1000), 'generate closed');
  });
});

void describe('custom Gateways: streamer.streamDoc and executor[name].streamDoc', () => {
  let worker: WorkerRuntime;
  let pool: ConnectionPool;
  let streamer: GatewayStreamer;
  before(async () => {
    worker = new WorkerRuntime({ executor: new Tokens({ metas: { name: 'tokens' } }) });
    const port = await worker.start();
    pool = new ConnectionPool({ tokens: [`127.0.0.1:${port}`] });
    const topology = buildTopology([{ name: 'tokens', needs: ['gateway'] }]);
    streamer = new GatewayStreamer(
      new GraphWalker(topology, pool),
      pool,
      100,
      undefined,
      new StreamWalker(topology, pool),
    );
  });
  after(async () => {
    pool.close();
    await worker.close();
  });

  void test('both return async iterables of Documents', async () => {
    const viaFlow: string[] = [];
    for await (const d of streamer.streamDoc({
      doc: new Document({ text: 'x y' }),
      execEndpoint: '/generate',
    }))
      viaFlow.push(d.text!);
    assert.deepEqual(viaFlow, ['x', 'y']);
    const direct: string[] = [];
    for await (const d of executorStreamers(pool).tokens!.streamDoc({
      doc: new Document(),
      execEndpoint: '/count',
      parameters: { n: 2 },
    }))
      direct.push(d.text!);
    assert.deepEqual(direct, ['0', '1']);
  });

  void test('an Executor error throws its ExecutorError', async () => {
    await assert.rejects(
      (async () => {
        for await (const _ of streamer.streamDoc({
          doc: new Document(),
          execEndpoint: '/fail-after',
          parameters: { n: 1 },
        }))
          void _;
      })(),
      (err: unknown) =>
        err instanceof ExecutorError && err.exceptionName === 'RangeError' && err.executor === 'tokens',
    );
  });
});
