/**
 * The HTTP Gateway's protobuf bodies (`application/x-protobuf`, a `DataRequestProto`) and base64
 * tensors in JSON, through a real Flow with plain `fetch`; the HTTP Client over protobuf by default
 * and its JSON fallback against a Gateway that takes JSON only.
 */
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Client, decodeDocs, Document, DocumentArray, encodeDocs, Flow, NdArray } from '../src/index.js';
import { DataRequest } from '../src/proto/request.js';
import { HttpTransport } from '../src/transport/http/client.js';
import { answersProtobuf } from '../src/transport/http/codec.js';
import { dataRequestToJson } from '../src/transport/shared/request-json.js';
import { Shouter } from './fixtures/http-executors.js';

const PB = 'application/x-protobuf';

function protobufBody(endpoint: string | undefined, texts: string[], requestId = 'pb-1'): Buffer {
  const req = DataRequest.create({
    requestId,
    endpoint,
    parameters: { op: 'from-protobuf' },
    docsBytes: encodeDocs(new DocumentArray(texts.map((text, i) => new Document({ id: `d${i}`, text })))),
  });
  return Buffer.from(req.encode());
}

async function post(
  base: string,
  path: string,
  body: Buffer | string,
  headers: Record<string, string>,
): Promise<{ status: number; type: string; body: Buffer }> {
  const res = await fetch(base + path, { method: 'POST', headers, body });
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    body: Buffer.from(await res.arrayBuffer()),
  };
}

/** A server in front of `target` that records the content type of every request it forwards. */
async function recordingProxy(target: number, seen: string[]): Promise<Server> {
  const server = createServer((req, res) => {
    seen.push(req.headers['content-type'] ?? '');
    const up = httpRequest(
      { host: '127.0.0.1', port: target, path: req.url, method: req.method, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

void describe('answersProtobuf: Accept against the body format', () => {
  void test('explicit types win by q-value; no Accept, */* or a tie keep the body format', () => {
    assert.equal(answersProtobuf(undefined, true), true);
    assert.equal(answersProtobuf(undefined, false), false);
    assert.equal(answersProtobuf('application/x-protobuf', false), true);
    assert.equal(answersProtobuf('application/json', true), false);
    assert.equal(answersProtobuf('*/*', true), true);
    assert.equal(answersProtobuf('*/*', false), false);
    assert.equal(answersProtobuf('application/json;q=0.5, application/x-protobuf', false), true);
    assert.equal(answersProtobuf('application/x-protobuf;q=0.2, application/json', true), false);
    assert.equal(answersProtobuf('text/html', true), true);
  });
});

void describe('the HTTP Gateway with protobuf bodies and base64 tensors', () => {
  const flow = new Flow().configGateway({ protocol: 'http' }).add({ name: 'shouter', uses: Shouter });
  let base = '';

  before(async () => {
    await flow.start();
    base = `http://127.0.0.1:${flow.port}`;
  });
  after(async () => {
    await flow.close();
  });

  void test('POST /post: protobuf in, protobuf out (the endpoint and request id from the header)', async () => {
    const res = await post(base, '/post', protobufBody('/upper', ['a', 'b']), { 'content-type': PB });
    assert.equal(res.status, 200);
    assert.equal(res.type, PB);
    const answer = DataRequest.decode(res.body);
    assert.equal(answer.requestId, 'pb-1');
    assert.equal(answer.endpoint, '/upper');
    assert.equal(answer.status?.code ?? 0, 0);
    assert.deepEqual(
      [...decodeDocs(answer.docsBytes)].map((d) => d.text),
      ['A', 'B'],
    );
    assert.deepEqual(
      answer.routes.map((r) => r.executor),
      ['gateway', 'shouter'],
    );
  });

  void test('a per-endpoint route takes protobuf and answers JSON when Accept asks for it', async () => {
    const res = await post(base, '/upper', protobufBody('/ignored', ['x']), {
      'content-type': PB,
      accept: 'application/json',
    });
    assert.equal(res.status, 200);
    assert.match(res.type, /^application\/json/);
    const json = JSON.parse(res.body.toString('utf8'));
    assert.equal(json.header.exec_endpoint, '/upper');
    assert.equal(json.header.request_id, 'pb-1');
    assert.equal(json.data[0].text, 'X');
    assert.equal(json.data[0].tags.by, 'shouter');
  });

  void test('a JSON body answered in protobuf when Accept prefers it; CRUD routes too', async () => {
    const res = await post(
      base,
      '/index',
      JSON.stringify({ data: [{ text: 'hi' }], parameters: { op: 'x' } }),
      {
        'content-type': 'application/json',
        accept: 'application/json;q=0.5, application/x-protobuf',
      },
    );
    assert.equal(res.status, 200);
    assert.equal(res.type, PB);
    const answer = DataRequest.decode(res.body);
    assert.equal(answer.endpoint, '/index');
    assert.equal([...decodeDocs(answer.docsBytes)][0]?.tags.op, 'x');
  });

  void test('an empty protobuf body is an empty request to /', async () => {
    const res = await post(base, '/post', Buffer.alloc(0), { 'content-type': PB });
    assert.equal(res.status, 200);
    const answer = DataRequest.decode(res.body);
    assert.equal(answer.endpoint, '/');
    assert.equal(decodeDocs(answer.docsBytes).length, 0);
    assert.match(answer.requestId, /^[0-9a-f]{32}$/);
  });

  void test('a malformed protobuf body is a 400 naming the problem; the Gateway keeps serving', async () => {
    const bad = await post(base, '/post', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]), {
      'content-type': PB,
    });
    assert.equal(bad.status, 400);
    const detail = JSON.parse(bad.body.toString('utf8')).detail as string;
    assert.match(detail, /not a valid application\/x-protobuf DataRequestProto/);
    const ok = await post(base, '/post', protobufBody('/upper', ['still']), { 'content-type': PB });
    assert.equal(ok.status, 200);
    assert.equal([...decodeDocs(DataRequest.decode(ok.body).docsBytes)][0]?.text, 'STILL');
  });

  void test('JSON tensors as base64 with dtype and shape round trip; lists stay lists', async () => {
    const values = new Float32Array([1.5, -2, 3.25, 4, 5, 6]);
    const buffer = Buffer.from(values.buffer).toString('base64');
    const res = await post(
      base,
      '/index',
      JSON.stringify({
        data: [{ id: 't', tensor: { dense: { buffer, shape: [2, 3], dtype: '<f4' } }, embedding: [0.5, 1] }],
      }),
      { 'content-type': 'application/json' },
    );
    assert.equal(res.status, 200);
    const doc = JSON.parse(res.body.toString('utf8')).data[0];
    assert.deepEqual(doc.tensor, { dense: { buffer, shape: [2, 3], dtype: '<f4' }, cls_name: 'numpy' });
    assert.equal(doc.embedding.dense.dtype, '<f8'); // a list of numbers reads as float64
    const lists = await post(
      base,
      '/index',
      JSON.stringify({
        data: [
          {
            id: 't',
            tensor: [
              [1, 2],
              [3, 4],
            ],
          },
        ],
      }),
      {
        'content-type': 'application/json',
      },
    );
    assert.deepEqual(JSON.parse(lists.body.toString('utf8')).data[0].tensor, [
      [1, 2],
      [3, 4],
    ]);
  });

  void test('a malformed base64 tensor is a 422 naming the field', async () => {
    const res = await post(
      base,
      '/post',
      JSON.stringify({ data: [{ tensor: { dense: { buffer: '!!', shape: [1], dtype: '<f4' } } }] }),
      { 'content-type': 'application/json' },
    );
    assert.equal(res.status, 422);
    assert.match(res.body.toString('utf8'), /data\[0\]\.tensor\.dense\.buffer/);
  });

  void test('the Client posts protobuf by default and gets the documents back', async () => {
    const seen: string[] = [];
    const proxy = await recordingProxy(flow.port, seen);
    const port = (proxy.address() as AddressInfo).port;
    const client = new Client({ host: `http://127.0.0.1:${port}` });
    try {
      const docs = await client.post('/upper', new DocumentArray([new Document({ text: 'via client' })]));
      assert.equal(docs[0]?.text, 'VIA CLIENT');
      const tensor = NdArray.from(new Float32Array(1024).fill(0.25), { shape: [32, 32] });
      const back = await client.post('/index', new DocumentArray([new Document({ tensor })]));
      assert.ok(back[0]?.tensor?.equals(tensor));
    } finally {
      await client.close();
      await new Promise((r) => proxy.close(r));
    }
    assert.ok(seen.length >= 2);
    assert.ok(
      seen.every((t) => t === PB),
      `content types seen: ${seen.join(', ')}`,
    );
  });
});

void describe('the HTTP Client against a Gateway that takes JSON only', () => {
  let server: Server;
  const seen: string[] = [];
  let port = 0;

  before(async () => {
    // Answers as the original's Gateway does: 422 for a body it cannot read as JSON.
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push(req.headers['content-type'] ?? '');
        let body: { data?: { text?: string }[]; header?: { request_id?: string }; execEndpoint?: string };
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          res.writeHead(422, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ detail: [{ msg: 'value is not a valid dict' }] }));
          return;
        }
        const req2 = DataRequest.create({
          requestId: body.header?.request_id,
          endpoint: body.execEndpoint,
          docsBytes: encodeDocs(
            new DocumentArray((body.data ?? []).map((d) => new Document({ text: `json:${d.text ?? ''}` }))),
          ),
        });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(dataRequestToJson(req2)));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    await new Promise((r) => server.close(r));
  });

  void test('falls back to JSON on the refusal and remembers it', async () => {
    const transport = new HttpTransport('127.0.0.1', port);
    assert.equal(transport.bodyFormat, 'protobuf');
    const client = new Client({ host: `http://127.0.0.1:${port}` });
    try {
      for (let i = 0; i < 3; i++) {
        const docs = await client.post('/x', new DocumentArray([new Document({ text: `n${i}` })]));
        assert.equal(docs[0]?.text, `json:n${i}`);
      }
    } finally {
      await client.close();
      await transport.close();
    }
    assert.equal(seen[0], PB);
    assert.deepEqual(seen.slice(1), ['application/json', 'application/json', 'application/json']);
  });

  void test("format: 'json' never sends protobuf", async () => {
    seen.length = 0;
    const transport = new HttpTransport('127.0.0.1', port, { format: 'json' });
    async function* one() {
      yield DataRequest.create({
        endpoint: '/x',
        docsBytes: encodeDocs(new DocumentArray([new Document({ text: 'j' })])),
      });
    }
    try {
      const out: DataRequest[] = [];
      for await (const r of transport.stream(one(), {})) out.push(r);
      assert.equal([...decodeDocs(out[0]!.docsBytes)][0]?.text, 'json:j');
    } finally {
      await transport.close();
    }
    assert.deepEqual(seen, ['application/json']);
  });
  void test("the Client's format: 'json' posts JSON from the first request; another value is refused", async () => {
    seen.length = 0;
    const client = new Client({ host: `http://127.0.0.1:${port}`, format: 'json' });
    try {
      const docs = await client.post('/x', [new Document({ text: 'c' }), new Document({ text: 'd' })], {
        requestSize: 1,
      });
      assert.deepEqual(docs.texts.sort(), ['json:c', 'json:d']);
      const one = await client.post('/x', new Document({ text: 'e' }), { timeout: 5000 });
      assert.equal(one[0]?.text, 'json:e');
    } finally {
      await client.close();
    }
    assert.deepEqual(seen, ['application/json', 'application/json', 'application/json']);
    assert.throws(() => new Client({ protocol: 'http', format: 'xml' as 'json' }), {
      message: /format must be 'protobuf' or 'json', not "xml"/,
    });
  });
});
