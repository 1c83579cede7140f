import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import {
  Client,
  Code,
  Document,
  DocumentArray,
  ExecutorError,
  Flow,
  FlowgateError,
  GatewayRuntime,
  WebSocketTransport,
  decodeDocs,
  encodeDocs,
} from '../src/index.js';
import { DataRequest } from '../src/proto/request.js';
import { jina } from '../src/proto/wire.js';
import { WsWorker } from './fixtures/ws-executors.js';

interface Frame {
  data: Buffer;
  isBinary: boolean;
}

interface JsonStatus {
  code: number;
  description: string;
  exception: { name: string; args: string[]; stacks: string[]; executor: string } | null;
}

/** A response frame in json mode (its exact shape is what the tests check). */
interface JsonResponse {
  header: { request_id: string; exec_endpoint: string; status: JsonStatus };
  parameters: Record<string, unknown>;
  routes: { executor: string; start_time: string; end_time: string; status: JsonStatus }[];
  data: { id: string; text: string; tags: Record<string, unknown> }[];
}

/** A raw `ws` client that keeps every frame and the close code. */
class RawSocket {
  readonly frames: Frame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiter: (() => void) | undefined;
  private read = 0;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary) => {
      this.frames.push({ data, isBinary });
      this.waiter?.();
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        this.waiter?.();
      }),
    );
  }

  static async open(port: number, path = '/', protocols?: string[]): Promise<RawSocket> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, protocols);
    const s = new RawSocket(ws);
    await once(ws, 'open');
    return s;
  }

  /** The next frame (fails after 5 s or when the socket closes first). */
  async next(): Promise<Frame> {
    const deadline = Date.now() + 5000;
    while (this.read >= this.frames.length) {
      if (this.ws.readyState === WebSocket.CLOSED) assert.fail(`socket closed after ${this.read} frames`);
      if (Date.now() > deadline) assert.fail(`no frame within 5 s after ${this.read} frames`);
      await new Promise<void>((r) => {
        this.waiter = r;
        setTimeout(r, 100);
      });
    }
    return this.frames[this.read++]!;
  }

  async nextJson<T = JsonResponse>(): Promise<T> {
    const f = await this.next();
    assert.equal(f.isBinary, false, 'expected a text frame');
    return JSON.parse(f.data.toString('utf8')) as T;
  }

  async nextRequest(): Promise<DataRequest> {
    const f = await this.next();
    assert.equal(f.isBinary, true, 'expected a binary frame');
    return DataRequest.decode(f.data);
  }

  send(data: string | Uint8Array): void {
    this.ws.send(data);
  }
}

const DOC_KEYS = [
  'id',
  'parent_id',
  'granularity',
  'adjacency',
  'blob',
  'tensor',
  'mime_type',
  'text',
  'weight',
  'uri',
  'tags',
  'offset',
  'location',
  'embedding',
  'modality',
  'evaluations',
  'scores',
  'chunks',
  'matches',
];

function docs(n: number, prefix = 'd'): DocumentArray {
  return new DocumentArray(
    Array.from({ length: n }, (_, i) => new Document({ id: `${prefix}${i}`, text: `${i}` })),
  );
}

function binaryRequest(endpoint: string, requestId: string, n = 2): Uint8Array {
  return DataRequest.create({ requestId, endpoint, docsBytes: encodeDocs(docs(n, requestId)) }).encode();
}

void describe('the WebSocket Gateway in front of a Flow', () => {
  // prefetch 2: two requests in flight per stream, so that back-pressure shows within a second.
  const flow = new Flow()
    .configGateway({ protocol: 'websocket', prefetch: 2 })
    .add({ name: 'wsexec', uses: WsWorker, restartPolicy: 'never' }); // the last test kills it for good
  let port: number;

  before(async () => {
    await flow.start();
    port = flow.port;
  });
  after(async () => {
    await flow.close();
  });

  void test('json mode (the default): the response has the original shape; {} closes with 1000', async () => {
    const s = await RawSocket.open(port);
    assert.equal(s.ws.protocol, '', 'no subprotocol offered, none echoed');
    s.send(
      JSON.stringify({
        data: [{ text: 'a' }],
        execEndpoint: '/tag',
        header: { request_id: 'my-id' },
        parameters: { k: 3 },
      }),
    );
    const res = await s.nextJson();
    assert.deepEqual(Object.keys(res), ['header', 'parameters', 'routes', 'data']);
    assert.deepEqual(res.header, {
      request_id: 'my-id',
      exec_endpoint: '/tag',
      status: { code: 0, description: '', exception: null },
    });
    assert.deepEqual(res.parameters, { k: 3 });
    assert.deepEqual(
      res.routes.map((r: { executor: string }) => r.executor),
      ['gateway', 'wsexec'],
    );
    for (const r of res.routes) {
      assert.ok(
        !Number.isNaN(Date.parse(r.start_time)) && !Number.isNaN(Date.parse(r.end_time)),
        JSON.stringify(r),
      );
      assert.equal(r.status.code, 0);
    }
    assert.equal(res.data.length, 1);
    assert.deepEqual(Object.keys(res.data[0]!), DOC_KEYS);
    assert.equal(res.data[0]!.text, 'a');
    assert.deepEqual(res.data[0]!.tags, { by: 'wsexec', k: 3 });
    s.send('{}');
    assert.deepEqual(await s.closed, { code: 1000, reason: '' });
  });

  void test('many requests in flight on one socket are answered as they complete, matched by id', async () => {
    const s = await RawSocket.open(port, '/', ['json']);
    assert.equal(s.ws.protocol, 'json');
    s.send(
      JSON.stringify({
        data: [{ text: 's' }],
        execEndpoint: '/slow',
        parameters: { ms: 600 },
        header: { request_id: 'slow' },
      }),
    );
    s.send(JSON.stringify({ data: [{ text: 'f' }], exec_endpoint: '/tag', header: { requestId: 'fast' } }));
    s.send('{}');
    const first = await s.nextJson();
    const second = await s.nextJson();
    assert.equal(first.header.request_id, 'fast');
    assert.equal(first.data[0]!.tags.by, 'wsexec');
    assert.equal(second.header.request_id, 'slow');
    assert.equal(second.data[0]!.tags.slept, 600);
    const closed = await s.closed;
    assert.equal(closed.code, 1000);
    assert.equal(s.frames.length, 2, 'the server closes after the last response, not before');
  });

  void test('one JSON message of 250 documents becomes 3 requests, each answered', async () => {
    const s = await RawSocket.open(port);
    const data = Array.from({ length: 250 }, (_, i) => ({ id: `x${i}`, text: `${i}` }));
    s.send(JSON.stringify({ data: { docs: data }, execEndpoint: '/tag', header: { request_id: 'big' } }));
    s.send('{}');
    const responses = [await s.nextJson(), await s.nextJson(), await s.nextJson()];
    assert.equal((await s.closed).code, 1000);
    assert.equal(s.frames.length, 3);
    const sizes = responses.map((r) => r.data.length).sort((a, b) => b - a);
    assert.deepEqual(sizes, [100, 100, 50]);
    const ids = responses.map((r) => r.header.request_id);
    assert.equal(new Set(ids).size, 3);
    assert.ok(ids.includes('big'), `the first request keeps the client's id: ${ids.join(', ')}`);
    const all = responses.flatMap((r) => r.data.map((d: { id: string }) => d.id)).sort();
    assert.deepEqual(all, data.map((d) => d.id).sort());
  });

  void test('bytes mode: DataRequestProto frames both ways, one 0x00 byte ends the input', async () => {
    const s = await RawSocket.open(port, '/', ['bytes']);
    assert.equal(s.ws.protocol, 'bytes');
    s.send(binaryRequest('/tag', 'b1', 3));
    s.send(binaryRequest('/tag', 'b2', 2));
    // A text frame in bytes mode is read as JSON and answered in bytes.
    s.send(JSON.stringify({ data: [{ text: 't' }], execEndpoint: '/tag', header: { request_id: 'b3' } }));
    s.send(Uint8Array.of(0));
    const got = new Map<string, DataRequest>();
    for (let i = 0; i < 3; i++) {
      const r = await s.nextRequest();
      got.set(r.requestId, r);
    }
    assert.deepEqual([...got.keys()].sort(), ['b1', 'b2', 'b3']);
    const b1 = decodeDocs(got.get('b1')!.docsBytes);
    assert.deepEqual(b1.ids, ['b10', 'b11', 'b12']);
    for (const d of b1) assert.equal(d.tags.by, 'wsexec');
    assert.equal(got.get('b2')!.endpoint, '/tag');
    assert.equal(decodeDocs(got.get('b3')!.docsBytes)[0]!.text, 't');
    assert.equal((await s.closed).code, 1000);
  });

  void test('unreadable frames get error responses; the same socket then serves a good request', async () => {
    const s = await RawSocket.open(port);
    s.send('not json{');
    const broken = await s.nextJson();
    assert.equal(broken.header.request_id, '');
    assert.equal(broken.header.status.code, 1);
    assert.equal(broken.header.status.exception!.name, 'InvalidArgument');
    assert.equal(broken.header.status.exception!.executor, '');
    assert.match(broken.header.status.exception!.args[0]!, /not valid JSON/);
    assert.match(broken.header.status.description, /^InvalidArgument\('the frame is not valid JSON/);
    assert.deepEqual(broken.data, []);

    s.send(JSON.stringify({ data: 'oops', header: { request_id: 'bad-1' } }));
    const wrongData = await s.nextJson();
    assert.equal(wrongData.header.request_id, 'bad-1');
    assert.equal(wrongData.header.status.code, 1);
    assert.match(wrongData.header.status.exception!.args[0]!, /^data must be a list of documents/);

    s.send(JSON.stringify({ data: [], parameters: 5 }));
    assert.match(
      (await s.nextJson()).header.status.exception!.args[0]!,
      /^parameters must be an object, got number/,
    );
    s.send('[1, 2]');
    assert.match((await s.nextJson()).header.status.exception!.args[0]!, /must be a JSON object, got list/);
    s.send(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff]));
    const garbage = await s.nextJson();
    assert.equal(garbage.header.status.exception!.name, 'InvalidArgument');
    assert.match(garbage.header.status.exception!.args[0]!, /not a serialised DataRequestProto/);

    // A binary DataRequestProto in json mode is accepted and answered in JSON.
    s.send(binaryRequest('/tag', 'bin-in-json', 1));
    const bin = await s.nextJson();
    assert.equal(bin.header.request_id, 'bin-in-json');
    assert.equal(bin.data[0]!.tags.by, 'wsexec');

    s.send(
      JSON.stringify({ data: [{ text: 'good' }], execEndpoint: '/tag', header: { request_id: 'good' } }),
    );
    const good = await s.nextJson();
    assert.equal(good.header.request_id, 'good');
    assert.equal(good.header.status.code, 0);
    assert.equal(good.data[0]!.tags.by, 'wsexec');
    s.send('{}');
    assert.equal((await s.closed).code, 1000);

    const b = await RawSocket.open(port, '/', ['bytes']);
    b.send(Buffer.from('garbage!'));
    const err = await b.nextRequest();
    assert.equal(err.isError, true);
    assert.equal(err.status?.exception?.name, 'InvalidArgument');
    b.send(binaryRequest('/tag', 'after-garbage', 1));
    assert.equal((await b.nextRequest()).requestId, 'after-garbage');
    b.send(Uint8Array.of(0));
    assert.equal((await b.closed).code, 1000);
  });

  void test('back-pressure: at the prefetch limit with a backlog, the Gateway stops reading the socket', async () => {
    const s = await RawSocket.open(port, '/', ['bytes']);
    const slow = (id: string) =>
      DataRequest.create({ requestId: id, endpoint: '/slow', parameters: { ms: 800 } }).encode();
    s.send(slow('slow-1'));
    s.send(slow('slow-2'));
    // Both slow requests fill the prefetch of 2; these 80 wait in the Gateway's backlog (limit 64).
    // 8 KiB each, so that what follows the 64th is more than one read of the socket (64 KiB).
    const text = 'x'.repeat(8192);
    for (let i = 0; i < 80; i++) {
      const docsBytes = encodeDocs(new DocumentArray([new Document({ text })]));
      s.send(DataRequest.create({ requestId: `q${i}`, endpoint: '/tag', docsBytes }).encode());
    }
    await new Promise((r) => setTimeout(r, 100));
    // A ping is answered only when the socket is read again: once the slow requests are done.
    const sent = Date.now();
    s.ws.ping();
    await once(s.ws, 'pong');
    const waited = Date.now() - sent;
    assert.ok(waited >= 400, `the pong came after ${waited} ms: the socket was still being read`);
    s.send(Uint8Array.of(0));
    assert.equal((await s.closed).code, 1000);
    assert.equal(s.frames.length, 82);
    const ids = s.frames.map((f) => DataRequest.decode(f.data).requestId);
    // No queued request can start before a slow one has been answered (prefetch 2).
    assert.match(ids[0]!, /^slow-/);
    assert.deepEqual(ids.filter((id) => id.startsWith('slow-')).sort(), ['slow-1', 'slow-2']);
  });

  void test('WebSocket /dry_run sends one status framed per subprotocol; HTTP GET /, /status, /dry_run', async () => {
    const j = await RawSocket.open(port, '/dry_run');
    j.send(new Uint8Array(0));
    assert.deepEqual(await j.nextJson<JsonStatus>(), { code: 0, description: '', exception: null });
    assert.equal((await j.closed).code, 1000);

    const b = await RawSocket.open(port, '/dry_run', ['bytes']);
    const f = await b.next();
    assert.equal(f.isBinary, true);
    assert.equal(jina.StatusProto.decode(f.data).code, jina.StatusProto.StatusCode.SUCCESS);
    assert.equal((await b.closed).code, 1000);

    const base = `http://127.0.0.1:${port}`;
    const health = await fetch(`${base}/`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), {});
    assert.deepEqual(await (await fetch(`${base}/dry_run`)).json(), {
      code: 0,
      description: '',
      exception: null,
    });
    const status = (await (await fetch(`${base}/status`)).json()) as {
      jina: Record<string, string>;
      envs: object;
    };
    assert.equal(status.jina.flowgate, '0.1.0');
    assert.equal(typeof status.envs, 'object');

    await assert.rejects(RawSocket.open(port, '/nope'), /Unexpected server response: 404/);
  });

  void test('Client over WebSocket: 1,000 docs in order, parameters, readiness, status', async () => {
    const client = new Client({ protocol: 'websocket', port });
    try {
      const inputs = docs(1000);
      const out = await client.post('/tag', inputs, { requestSize: 100, resultsInOrder: true });
      assert.deepEqual(out.ids, inputs.ids);
      for (const d of out) assert.equal(d.tags.by, 'wsexec');

      const responses = await client.post('/tag', docs(5), {
        parameters: { k: 'v' },
        requestSize: 2,
        prefetch: 1,
        returnResponses: true,
      });
      assert.equal(responses.length, 3);
      assert.deepEqual(responses[0]!.parameters, { k: 'v' });
      assert.deepEqual(
        responses.flatMap((r) => r.docs.map((d) => d.tags.k)),
        ['v', 'v', 'v', 'v', 'v'],
      );

      // The client's own prefetch: one request at a time, where the Gateway would run two.
      const started = Date.now();
      await client.post('/slow', docs(3), { requestSize: 1, prefetch: 1, parameters: { ms: 150 } });
      const took = Date.now() - started;
      assert.ok(took >= 440, `3 requests of 150 ms with prefetch 1 took ${took} ms`);

      assert.equal(await client.isFlowReady(), true);
      const status = await client.status();
      assert.equal(status.jina.flowgate, '0.1.0');
      assert.equal(status.jina.node, process.versions.node);
    } finally {
      await client.close();
    }
  });

  void test('Client over WebSocket: an Executor error rejects with an ExecutorError naming it', async () => {
    const client = new Client({ host: `ws://127.0.0.1:${port}` });
    try {
      await assert.rejects(client.post('/fail', docs(1)), (err: unknown) => {
        assert.ok(err instanceof ExecutorError, String(err));
        assert.equal(err.executor, 'wsexec');
        assert.equal(err.exceptionName, 'RangeError');
        assert.deepEqual(err.args, ['no way']);
        return true;
      });
      const after = await client.post('/tag', docs(1));
      assert.equal(after[0]!.tags.by, 'wsexec');
      await assert.rejects(
        client.post('/slow', docs(1), { parameters: { ms: 1500 }, timeout: 200 }),
        (err: unknown) => err instanceof FlowgateError && err.code === Code.DeadlineExceeded,
      );
    } finally {
      await client.close();
    }
  });

  void test('the json subprotocol on the client side', async () => {
    const t = new WebSocketTransport({ host: '127.0.0.1', port }, { subprotocol: 'json' });
    try {
      async function* requests() {
        for (let i = 0; i < 5; i++)
          yield DataRequest.create({
            requestId: `j${i}`,
            endpoint: '/tag',
            docsBytes: encodeDocs(docs(2, `j${i}-`)),
          });
      }
      const got: DataRequest[] = [];
      for await (const r of t.stream(requests(), { resultsInOrder: true })) got.push(r);
      assert.deepEqual(
        got.map((r) => r.requestId),
        ['j0', 'j1', 'j2', 'j3', 'j4'],
      );
      assert.equal(decodeDocs(got[4]!.docsBytes)[1]!.tags.by, 'wsexec');
      assert.equal((await t.dryRun()).code, 0);
    } finally {
      await t.close();
    }
  });

  // Last: it kills the Flow's Executor.
  void test('an Executor that is down closes the stream with 1011 and a reason naming it', async () => {
    const [executorPid] = flow.pids;
    process.kill(executorPid!, 'SIGKILL');
    for (;;) {
      try {
        process.kill(executorPid!, 0);
        await new Promise((r) => setTimeout(r, 20));
      } catch {
        break;
      }
    }
    const s = await RawSocket.open(port);
    s.send(JSON.stringify({ data: [{ text: 'x' }], execEndpoint: '/tag' }));
    const closed = await s.closed;
    assert.equal(closed.code, 1011);
    assert.match(closed.reason, /wsexec/);
    assert.ok(Buffer.byteLength(closed.reason) <= 123);

    const client = new Client({ protocol: 'websocket', port });
    try {
      await assert.rejects(client.post('/tag', docs(1)), (err: unknown) => {
        assert.ok(err instanceof FlowgateError, String(err));
        assert.equal(err.code, Code.Unavailable);
        assert.match(err.message, /wsexec/);
        return true;
      });
      assert.equal(await client.isFlowReady(), false);
    } finally {
      await client.close();
    }
    const dry = await RawSocket.open(port, '/dry_run');
    const dryClosed = await dry.closed;
    assert.equal(dryClosed.code, 1011);
    assert.match(dryClosed.reason, /wsexec/);
  });
});

void describe('a WebSocket Gateway with limits (no Executors: requests are echoed)', () => {
  let rt: GatewayRuntime;
  let port: number;

  before(async () => {
    rt = new GatewayRuntime({
      protocols: ['websocket'],
      nodes: [],
      gatewayOptions: { maxMessageBytes: 1024, noDebugEndpoints: true },
    });
    [port] = (await rt.start()) as [number];
  });
  after(async () => {
    await rt.close();
  });

  void test('a frame over maxMessageBytes closes that socket with 1009; others keep being served', async () => {
    const bystander = await RawSocket.open(port, '/', ['bytes']);
    const big = await RawSocket.open(port);
    big.send(JSON.stringify({ data: [{ text: 'x'.repeat(2048) }] }));
    assert.equal((await big.closed).code, 1009);

    bystander.send(binaryRequest('/', 'still-here', 1));
    assert.equal((await bystander.nextRequest()).requestId, 'still-here');
    bystander.send(Uint8Array.of(0));
    assert.equal((await bystander.closed).code, 1000);

    const fresh = await RawSocket.open(port);
    fresh.send(JSON.stringify({ data: [{ text: 'small' }], header: { request_id: 'fresh' } }));
    const res = await fresh.nextJson();
    assert.equal(res.header.request_id, 'fresh');
    assert.equal(res.data[0]!.text, 'small');
    fresh.send('{}');
    assert.equal((await fresh.closed).code, 1000);
  });

  void test('noDebugEndpoints: no /status or /dry_run, over HTTP or WebSocket; GET / stays', async () => {
    const base = `http://127.0.0.1:${port}`;
    assert.equal((await fetch(`${base}/`)).status, 200);
    assert.equal((await fetch(`${base}/status`)).status, 404);
    assert.equal((await fetch(`${base}/dry_run`)).status, 404);
    await assert.rejects(RawSocket.open(port, '/dry_run'), /Unexpected server response: 404/);
    const client = new Client({ protocol: 'websocket', port });
    assert.equal(await client.isFlowReady(), false);
    await client.close();
  });
});

void test('a Client of a port where no Gateway listens rejects with Unavailable', async () => {
  const free = new GatewayRuntime({ protocols: ['websocket'], nodes: [] });
  const [port] = (await free.start()) as [number];
  await free.close();
  const client = new Client({ host: `ws://127.0.0.1:${port}` });
  try {
    await assert.rejects(client.post('/', docs(1)), (err: unknown) => {
      assert.ok(err instanceof FlowgateError && err.code === Code.Unavailable, String(err));
      assert.match(
        err.message,
        new RegExp(`cannot reach the Gateway at ws://127.0.0.1:${port}/: .*ECONNREFUSED`),
      );
      return true;
    });
    assert.equal(await client.isFlowReady(500), false);
    await assert.rejects(client.status(), /ECONNREFUSED/);
  } finally {
    await client.close();
  }
});

/** A self-signed certificate for 127.0.0.1 and localhost, or undefined without openssl. */
function selfSigned(): { key: Buffer; cert: Buffer } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-ws-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
        ...['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1'],
        ...['-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void describe('a WebSocket Gateway over TLS (wss://, https://)', () => {
  const tls = selfSigned();
  let rt: GatewayRuntime;
  let port: number;

  before(async () => {
    if (!tls) return;
    rt = new GatewayRuntime({ protocols: ['websocket'], nodes: [], gatewayOptions: { tls } });
    [port] = (await rt.start()) as [number];
  });
  after(async () => {
    await rt?.close();
  });

  void test(
    'the Client posts, checks readiness and reads the status over wss://',
    { skip: !tls },
    async () => {
      const client = new Client({ host: `wss://localhost:${port}`, rootCertificates: tls!.cert });
      try {
        const out = await client.post('/', docs(3));
        assert.deepEqual(out.ids, ['d0', 'd1', 'd2']);
        assert.equal(await client.isFlowReady(), true);
        assert.equal((await client.status()).jina.flowgate, '0.1.0');
      } finally {
        await client.close();
      }
      // Without the CA the certificate is refused.
      const untrusting = new Client({ host: `wss://localhost:${port}` });
      await assert.rejects(untrusting.post('/', docs(1)), (err: unknown) => {
        assert.ok(err instanceof FlowgateError && err.code === Code.Unavailable, String(err));
        assert.match(err.message, /certificate/);
        return true;
      });
      await untrusting.close();
    },
  );
});
