/**
 * Every protocol on ONE port: gRPC (HTTP/2), REST, WebSocket, GraphQL and gRPC-Web, reached with
 * the original's wire formats (raw grpc-js + proto-loader on jina.proto, fetch with the JSON
 * shapes of `/post`, raw ws frames) and with the flowgate Client on every protocol.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:http2';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import WebSocket from 'ws';
import { Client, Document, DocumentArray, Flow } from '../src/index.js';
import { decodeDocs, encodeDocs } from '../src/document/index.js';
import type { ClientProtocol } from '../src/client/client.js';
import { DataRequest } from '../src/proto/request.js';
import { frame, parseFrames } from '../src/transport/grpc/server-grpc-web.js';
import { FooExecutor } from './fixtures/protocol-executors.js';
import { decodeBase64Chunks, trailer } from './fixtures/grpc-web.js';

interface RawDoc {
  id?: string;
  text?: string;
}
interface RawRequest {
  header?: { request_id?: string; exec_endpoint?: string };
  data?: { docs?: { docs?: RawDoc[] }; docs_bytes?: Buffer };
}

/** A stub of `jina.JinaRPC` made by proto-loader from the shipped proto, as any gRPC client would. */
function rawJinaRpc(port: number): grpc.Client & Record<string, (...a: unknown[]) => unknown> {
  const def = protoLoader.loadSync('jina.proto', { includeDirs: ['proto'], keepCase: true, defaults: false });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    jina: Record<string, new (a: string, c: grpc.ChannelCredentials) => grpc.Client>;
  };
  return new pkg.jina.JinaRPC!(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as never;
}

function texts(res: RawRequest): string[] {
  if (res.data?.docs) return (res.data.docs.docs ?? []).map((d) => d.text ?? '');
  return [...decodeDocs(res.data!.docs_bytes!)].map((d) => d.text ?? '');
}

const protocols = ['grpc', 'http', 'websocket', 'graphql'] as const;

void describe('one port for grpc, http, websocket and graphql', () => {
  const flow = new Flow()
    .configGateway({ protocol: [...protocols], port: 0, cors: true })
    .add({ name: 'foo', uses: FooExecutor });
  let port = 0;
  before(async () => {
    await flow.start();
    port = flow.port;
  });
  after(async () => {
    await flow.close();
  });

  void test('every protocol reports the same port', () => {
    assert.ok(port > 0);
    assert.deepEqual(flow.ports, [port, port, port, port]);
  });

  void test('the original gRPC client: JinaRPC/Call over HTTP/2 with proto-loader messages', async () => {
    const stub = rawJinaRpc(port);
    try {
      const call = stub.Call!() as grpc.ClientDuplexStream<RawRequest, RawRequest>;
      const got: RawRequest[] = [];
      call.on('data', (r: RawRequest) => got.push(r));
      const ended = once(call, 'end');
      call.write({
        header: { request_id: 'r1', exec_endpoint: '/' },
        data: { docs: { docs: [{ id: 'a', text: 'hi' }] } },
      });
      call.end();
      await ended;
      assert.equal(got.length, 1);
      assert.equal(got[0]!.header?.request_id, 'r1');
      assert.deepEqual(texts(got[0]!), ['hi', 'foo was called']);
    } finally {
      stub.close();
    }
  });

  void test('the original HTTP client: POST /post with the JSON shape, GET / and /status', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/post`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ data: [{ text: 'hi' }], execEndpoint: '/' }),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { data: { text: string }[]; header: { status?: unknown } };
    assert.deepEqual(
      body.data.map((d) => d.text),
      ['hi', 'foo was called'],
    );
    assert.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 200);
    const status = (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as { jina: unknown };
    assert.ok(status.jina);
  });

  void test('the original WebSocket client: bytes frames on /, end of input is one 0x00 byte', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, ['bytes']);
    await once(ws, 'open');
    const frames: Buffer[] = [];
    ws.on('message', (data: Buffer) => frames.push(data));
    const closed = once(ws, 'close');
    const req = DataRequest.create({
      requestId: 'w1',
      endpoint: '/',
      docsBytes: encodeDocs(new DocumentArray([new Document({ text: 'ws' })])),
    });
    ws.send(req.encode());
    ws.send(Buffer.from([0]));
    await closed;
    assert.equal(frames.length, 1);
    const res = DataRequest.decode(frames[0]!);
    assert.equal(res.requestId, 'w1');
    assert.deepEqual(
      [...decodeDocs(res.docsBytes)].map((d) => d.text),
      ['ws', 'foo was called'],
    );
  });

  void test('GraphQL: a docs mutation on /graphql', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'mutation { docs(data: [{text: "gq"}], execEndpoint: "/") { text } }' }),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { data: { docs: { text: string }[] } };
    assert.deepEqual(
      body.data.docs.map((d) => d.text),
      ['gq', 'foo was called'],
    );
  });

  void test('gRPC-Web (binary and text) over HTTP/1.1: process_single_data and Call', async () => {
    const req = DataRequest.create({
      requestId: 'gw',
      endpoint: '/',
      docsBytes: encodeDocs(new DocumentArray([new Document({ text: 'web' })])),
    });
    for (const [path, ct] of [
      ['/jina.JinaSingleDataRequestRPC/process_single_data', 'application/grpc-web+proto'],
      ['/jina.JinaRPC/Call', 'application/grpc-web-text'],
    ] as const) {
      const body = frame(0, req.encode());
      const text = ct.includes('text');
      const res = await fetch(`http://127.0.0.1:${port}${path}`, {
        method: 'POST',
        headers: { 'content-type': ct, 'x-grpc-web': '1' },
        body: text ? body.toString('base64') : body,
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('access-control-allow-origin'), '*');
      const raw = Buffer.from(await res.arrayBuffer());
      const bytes = text ? decodeBase64Chunks(raw.toString('latin1')) : raw;
      // the last frame is the trailer (flag 0x80)
      const messages = parseFrames(bytes);
      assert.equal(messages.length, 1, path);
      const out = DataRequest.decode(messages[0]!);
      assert.deepEqual(
        [...decodeDocs(out.docsBytes)].map((d) => d.text),
        ['web', 'foo was called'],
      );
      assert.match(trailer(bytes), /grpc-status:0/);
    }
  });

  void test('gRPC-Web: an unknown method is UNIMPLEMENTED in the trailer; a CORS preflight is answered', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/jina.JinaRPC/Nope`, {
      method: 'POST',
      headers: { 'content-type': 'application/grpc-web+proto' },
      body: frame(0, Buffer.alloc(0)),
    });
    assert.match(trailer(Buffer.from(await res.arrayBuffer())), /grpc-status:12/);
    const pre = await fetch(`http://127.0.0.1:${port}/jina.JinaRPC/Call`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://example.test',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-grpc-web',
      },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-headers'), 'content-type,x-grpc-web');
  });

  void test('HTTP/2 with prior knowledge: a REST request reaches the routes', async () => {
    const session = connect(`http://127.0.0.1:${port}`);
    try {
      const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = session.request({ ':method': 'GET', ':path': '/status' });
        let status = 0;
        let body = '';
        req.on('response', (h) => (status = Number(h[':status'])));
        req.setEncoding('utf8');
        req.on('data', (c: string) => (body += c));
        req.on('end', () => resolve({ status, body }));
        req.on('error', reject);
        req.end();
      });
      assert.equal(res.status, 200);
      assert.ok((JSON.parse(res.body) as { jina?: unknown }).jina);
    } finally {
      session.close();
    }
  });

  for (const protocol of ['grpc', 'http', 'websocket'] satisfies ClientProtocol[]) {
    void test(`the flowgate Client over ${protocol} on the one port`, async () => {
      const client = new Client({ protocol, port });
      try {
        const docs = await client.post('/', [new Document({ text: protocol })]);
        assert.deepEqual(docs.texts, [protocol, 'foo was called']);
        assert.equal(await client.isFlowReady(), true);
      } finally {
        await client.close();
      }
    });
  }
});
