/**
 * Property-based fuzzing of the Gateway (fast-check): random and mutated requests over HTTP (JSON
 * of any shape, bodies that are not JSON), WebSocket (text and binary frames) and gRPC (random bytes
 * as a DataRequestProto, on the unary and the streaming method). Each one must get an answer (a
 * normal one or an error; never a hang, never a 5xx that means the Gateway itself broke), the
 * Gateway process must stay alive, and a good request after each batch must succeed.
 *
 * A failure prints fast-check's seed and the shrunk counterexample; rerun with it to reproduce.
 */
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { Client, Document, Flow } from '../src/index.js';
import { WsWorker } from './fixtures/ws-executors.js';

const RUNS = Number(process.env.FLOWGATE_FUZZ_RUNS ?? 150);
const flow = new Flow()
  .configGateway({ protocol: ['grpc', 'http', 'websocket'], maxMessageBytes: 1 << 20 })
  .add({ name: 'w', uses: WsWorker });
let grpcPort: number;
let httpPort: number;
let wsPort: number;

before(async () => {
  await flow.start();
  [grpcPort, httpPort, wsPort] = flow.ports as [number, number, number];
});
after(async () => {
  await flow.close();
});

/** Every process of the Flow is alive, and a good request over each protocol succeeds. */
async function stillServing(): Promise<void> {
  for (const pid of flow.pids) assert.doesNotThrow(() => process.kill(pid, 0), `process ${pid} died`);
  for (const [protocol, port] of [
    ['grpc', grpcPort],
    ['http', httpPort],
    ['websocket', wsPort],
  ] as const) {
    const client = new Client({ protocol, port });
    try {
      const docs = await client.post('/tag', [new Document({ text: 'after fuzz' })]);
      assert.equal(docs[0]!.tags.by, 'w', `${protocol}: a good request after the fuzz batch`);
    } finally {
      await client.close();
    }
  }
}

const DOC_KEYS = [
  'id',
  'text',
  'tags',
  'embedding',
  'tensor',
  'chunks',
  'matches',
  'uri',
  'blob',
  'mime_type',
  'weight',
  'parent_id',
  'granularity',
];
/** Documents with real keys and values of any JSON type. */
const fuzzDoc = fc.dictionary(fc.constantFrom(...DOC_KEYS), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 });
const endpoint = fc.oneof(fc.constantFrom('/tag', '/fail', '/', '/nope'), fc.string({ maxLength: 20 }));
/** A request body: valid in shape with random parts, or any JSON at all. */
const jsonBody = fc.oneof(
  fc.record(
    {
      data: fc.oneof(
        fc.array(fuzzDoc, { maxLength: 4 }),
        fc.record({ docs: fc.array(fuzzDoc) }),
        fc.jsonValue(),
      ),
      execEndpoint: fc.oneof(endpoint, fc.jsonValue()),
      exec_endpoint: endpoint,
      parameters: fc.jsonValue({ maxDepth: 2 }),
      target_executor: fc.oneof(fc.string(), fc.jsonValue()),
      header: fc.jsonValue({ maxDepth: 2 }),
    },
    { requiredKeys: [] },
  ),
  fc.jsonValue({ maxDepth: 4 }),
);

void describe('HTTP', () => {
  const routes = ['/post', '/tag', '/index', '/search', '/update', '/delete', '/dry_run', '/status'];

  void test('random JSON bodies on every route: an answer below 500 (or a precise 503/504)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.constantFrom('POST', 'PUT', 'DELETE', 'GET'),
        jsonBody,
        async (route, method, body) => {
          const res = await fetch(`http://127.0.0.1:${httpPort}${route}`, {
            method,
            headers: { 'content-type': 'application/json' },
            body: method === 'GET' ? undefined : JSON.stringify(body),
          });
          const text = await res.text();
          assert.ok(res.status < 500, `${method} ${route} -> ${res.status}: ${text.slice(0, 300)}`);
          if (res.headers.get('content-type')?.includes('json')) JSON.parse(text);
        },
      ),
      { numRuns: RUNS },
    );
    await stillServing();
  });

  void test('bodies that are not JSON, under any content type, get a 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/post', '/tag'),
        fc.constantFrom(
          'application/json',
          'text/plain',
          'application/octet-stream',
          'multipart/form-data',
          '',
        ),
        fc.uint8Array({ maxLength: 2000 }),
        async (route, type, bytes) => {
          const res = await fetch(`http://127.0.0.1:${httpPort}${route}`, {
            method: 'POST',
            headers: type ? { 'content-type': type } : {},
            body: bytes,
          });
          const text = await res.text();
          // bytes that happen to be valid JSON may be answered normally
          assert.ok(res.status < 500, `${route} (${type}) -> ${res.status}: ${text.slice(0, 300)}`);
        },
      ),
      { numRuns: RUNS },
    );
    await stillServing();
  });
});

/** Sends frames on one socket and collects what comes back until the socket closes or goes quiet. */
async function exchange(
  subprotocol: 'json' | 'bytes',
  frames: (string | Uint8Array)[],
): Promise<{ answers: number; close?: number }> {
  const ws = new WebSocket(`ws://127.0.0.1:${wsPort}/`, subprotocol);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let answers = 0;
  let close: number | undefined;
  const closed = new Promise<void>((resolve) =>
    ws.once('close', (code) => {
      close = code;
      resolve();
    }),
  );
  ws.on('message', () => answers++);
  for (const f of frames) ws.send(f, { binary: typeof f !== 'string' });
  // every frame is answered (or the socket closed with a reason) within a few seconds
  const deadline = Date.now() + 5000;
  while (answers < frames.length && close === undefined && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 10));
  ws.close();
  await closed;
  return { answers, close };
}

/** End markers (`{}` in json mode, a single 0x00 in bytes mode) end the stream: not fuzz input. */
const isEndMarker = (f: string | Uint8Array) =>
  typeof f === 'string' ? f.trim() === '{}' : f.length === 1 && f[0] === 0;

void describe('WebSocket', () => {
  for (const subprotocol of ['json', 'bytes'] as const) {
    void test(`${subprotocol} mode: random text and binary frames are each answered or close the socket with a reason`, async () => {
      const frame = fc.oneof(
        jsonBody.map((b) => JSON.stringify(b)),
        fc.string({ maxLength: 500 }),
        fc.uint8Array({ maxLength: 500 }),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 8 }), async (frames) => {
          const sent = frames.filter((f) => !isEndMarker(f));
          if (sent.length === 0) return;
          const { answers, close } = await exchange(subprotocol, sent);
          assert.ok(
            answers >= sent.length || (close !== undefined && close !== 1006),
            `${sent.length} frames, ${answers} answers, close ${close}`,
          );
        }),
        { numRuns: Math.ceil(RUNS / 3) },
      );
      await stillServing();
    });
  }
});

void describe('gRPC', () => {
  const raw = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b };
  const unary = {
    path: '/jina.JinaSingleDataRequestRPC/process_single_data',
    requestStream: false,
    responseStream: false,
    requestSerialize: raw.serialize,
    requestDeserialize: raw.deserialize,
    responseSerialize: raw.serialize,
    responseDeserialize: raw.deserialize,
  };
  let client: grpc.Client;
  before(() => {
    client = new grpc.Client(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure());
  });
  after(() => client.close());

  void test('random bytes as a DataRequestProto: an answer or a status other than UNAVAILABLE', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 3000 }), async (bytes) => {
        const status = await new Promise<number>((resolve) =>
          client.makeUnaryRequest(
            unary.path,
            raw.serialize,
            raw.deserialize,
            Buffer.from(bytes),
            { deadline: Date.now() + 10_000 },
            (err) => resolve(err?.code ?? grpc.status.OK),
          ),
        );
        assert.notEqual(status, grpc.status.UNAVAILABLE, 'the Gateway stopped answering');
        assert.notEqual(status, grpc.status.DEADLINE_EXCEEDED, 'no answer within 10 s');
      }),
      { numRuns: RUNS },
    );
    await stillServing();
  });

  void test('random frames on the streaming Call: each answered, or the stream ends with a status', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 1000 }), { minLength: 1, maxLength: 6 }),
        async (frames) => {
          const call = client.makeBidiStreamRequest('/jina.JinaRPC/Call', raw.serialize, raw.deserialize, {
            deadline: Date.now() + 10_000,
          });
          let answers = 0;
          call.on('data', () => answers++);
          const ended = new Promise<grpc.status>((resolve) => {
            call.on('status', (s: grpc.StatusObject) => resolve(s.code));
            call.on('error', () => undefined);
          });
          for (const f of frames) call.write(Buffer.from(f));
          call.end();
          const code = await ended;
          assert.notEqual(code, grpc.status.UNAVAILABLE, 'the Gateway stopped answering');
          assert.notEqual(code, grpc.status.DEADLINE_EXCEEDED, 'no answer within 10 s');
          if (code === grpc.status.OK) assert.equal(answers, frames.length);
        },
      ),
      { numRuns: Math.ceil(RUNS / 3) },
    );
    await stillServing();
  });
});

void test('a targetExecutor that is not a valid regular expression is a precise error on every protocol', async () => {
  for (const [protocol, port] of [
    ['grpc', grpcPort],
    ['http', httpPort],
    ['websocket', wsPort],
  ] as const) {
    const client = new Client({ protocol, port });
    try {
      await assert.rejects(
        client.post('/tag', [new Document({ text: 'x' })], { targetExecutor: '*oops' }),
        /targetExecutor '\*oops' is not a valid regular expression/,
        protocol,
      );
    } finally {
      await client.close();
    }
  }
  await stillServing();
});
