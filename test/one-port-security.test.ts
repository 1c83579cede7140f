/**
 * TLS, the bearer token and maxMessageBytes on ONE port: the same rules whichever protocol arrives
 * (gRPC over ALPN h2, HTTP/1.1, WebSocket, REST and gRPC-Web over HTTP/2).
 */
import assert from 'node:assert/strict';
import { connect, type ClientHttp2Session } from 'node:http2';
import { after, before, describe, test } from 'node:test';
import { Client, Document, Flow } from '../src/index.js';
import { DataRequest } from '../src/proto/request.js';
import { encodeDocs } from '../src/document/index.js';
import { DocumentArray } from '../src/index.js';
import { frame } from '../src/transport/grpc/server-grpc-web.js';
import { FooExecutor } from './fixtures/protocol-executors.js';
import { makeCertificates } from './fixtures/tls-certs.js';

const certs = makeCertificates();
const skip = certs ? false : 'openssl is not installed';
const TOKEN = 'one-port-secret';
const LIMIT = 200_000;

/** One HTTP/2 request; resolves to status, headers and body. */
function h2request(
  session: ClientHttp2Session,
  headers: Record<string, string>,
  body?: Buffer | string,
): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = session.request(headers);
    const chunks: Buffer[] = [];
    let head: Record<string, unknown> = {};
    req.on('response', (h) => (head = h));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () =>
      resolve({ status: Number(head[':status']), headers: head, body: Buffer.concat(chunks) }),
    );
    req.on('error', reject);
    req.end(body);
  });
}

void describe('one port with TLS, authToken and maxMessageBytes', { skip }, () => {
  const flow = new Flow()
    .configGateway({
      protocol: ['grpc', 'http', 'websocket', 'graphql'],
      port: 0,
      sslCertfile: certs?.certFile,
      sslKeyfile: certs?.keyFile,
      authToken: TOKEN,
      maxMessageBytes: LIMIT,
    })
    .add({ name: 'foo', uses: FooExecutor });
  let port = 0;
  const clients = (authToken?: string) => [
    new Client({ host: `grpcs://localhost:${port}`, caFile: certs!.caFile, authToken }),
    new Client({ host: `https://127.0.0.1:${port}`, rootCertificates: certs!.ca, authToken }),
    new Client({
      host: 'localhost',
      port,
      protocol: 'websocket',
      tls: true,
      caFile: certs!.caFile,
      authToken,
    }),
  ];

  before(async () => {
    await flow.start();
    port = flow.port;
  });
  after(async () => {
    await flow.close();
    certs?.remove();
  });

  void test('the Client over grpcs, https and wss with the token is served on the one port', async () => {
    for (const client of clients(TOKEN)) {
      try {
        const docs = await client.post('/', [new Document({ text: 'tls' })]);
        assert.deepEqual(docs.texts, ['tls', 'foo was called']);
      } finally {
        await client.close();
      }
    }
  });

  void test('without the token every protocol is refused', async () => {
    for (const client of clients(undefined)) {
      try {
        await assert.rejects(client.post('/', [new Document({ text: 'x' })]), /unauth|401|token/i);
      } finally {
        await client.close();
      }
    }
  });

  void test('a request over maxMessageBytes is refused on gRPC, HTTP and WebSocket; the next one is served', async () => {
    const big = [new Document({ text: 'x'.repeat(LIMIT + 10_000) })];
    const [grpc, http, ws] = clients(TOKEN);
    try {
      await assert.rejects(grpc!.post('/', big), /larger than/i);
      await assert.rejects(http!.post('/', big), /larger than the limit of 200000 bytes/);
      await assert.rejects(ws!.post('/', big), /larger than the limit of 200000 bytes/);
      for (const c of [grpc!, http!, ws!])
        assert.deepEqual((await c.post('/', [new Document({ text: 'ok' })])).texts, ['ok', 'foo was called']);
    } finally {
      await Promise.all([grpc!.close(), http!.close(), ws!.close()]);
    }
  });

  void test('REST and gRPC-Web over HTTP/2 (ALPN h2) reach the routes, with the same token rule', async () => {
    const session = connect(`https://localhost:${port}`, { ca: certs!.ca });
    try {
      const health = await h2request(session, { ':method': 'GET', ':path': '/' });
      assert.equal(health.status, 200);
      const refused = await h2request(
        session,
        { ':method': 'POST', ':path': '/post', 'content-type': 'application/json' },
        JSON.stringify({ data: [{ text: 'h2' }] }),
      );
      assert.equal(refused.status, 401);
      const post = await h2request(
        session,
        {
          ':method': 'POST',
          ':path': '/post',
          'content-type': 'application/json',
          authorization: `Bearer ${TOKEN}`,
        },
        JSON.stringify({ data: [{ text: 'h2' }] }),
      );
      assert.equal(post.status, 200);
      const body = JSON.parse(post.body.toString()) as { data: { text: string }[] };
      assert.deepEqual(
        body.data.map((d) => d.text),
        ['h2', 'foo was called'],
      );
      const req = DataRequest.create({
        requestId: 'w',
        endpoint: '/',
        docsBytes: encodeDocs(new DocumentArray([new Document({ text: 'gw' })])),
      });
      const path = '/jina.JinaSingleDataRequestRPC/process_single_data';
      const web = { ':method': 'POST', ':path': path, 'content-type': 'application/grpc-web+proto' };
      const denied = await h2request(session, web, frame(0, req.encode()));
      assert.match(denied.body.toString('latin1'), /grpc-status:16/);
      const served = await h2request(
        session,
        { ...web, authorization: `Bearer ${TOKEN}` },
        frame(0, req.encode()),
      );
      assert.match(served.body.toString('latin1'), /grpc-status:0\r\n/);
      const tooBig = DataRequest.create({
        endpoint: '/',
        docsBytes: encodeDocs(new DocumentArray([new Document({ text: 'x'.repeat(LIMIT) })])),
      });
      const limited = await h2request(
        session,
        { ...web, authorization: `Bearer ${TOKEN}` },
        frame(0, tooBig.encode()),
      );
      assert.match(limited.body.toString('latin1'), /grpc-status:8\r\n/);
    } finally {
      session.close();
    }
  });
});
