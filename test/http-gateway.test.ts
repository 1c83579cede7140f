import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import {
  Client,
  Code,
  Document,
  DocumentArray,
  ExecutorError,
  Flow,
  FlowgateError,
  GatewayRuntime,
  WorkerRuntime,
} from '../src/index.js';
import { Marker, Shouter } from './fixtures/http-executors.js';
import { encodeDocs } from '../src/document/index.js';
import { DataRequest } from '../src/proto/request.js';

/** Parsed JSON, loosely typed so that assertions can reach into it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

interface Answer {
  status: number;
  headers: Headers;
  body: Json;
}

/** One HTTP call with plain fetch; the body is sent as JSON text unless it is already a string. */
async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  const res = await fetch(base + path, init);
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** The field names of `jina.DataRequestProto` (as protobuf JSON, snake_case) a response may use. */
const PROTO_FIELDS = {
  root: ['header', 'parameters', 'routes', 'data'],
  header: ['request_id', 'exec_endpoint', 'target_executor', 'status'],
  status: ['code', 'description', 'exception'],
  exception: ['name', 'args', 'stacks', 'executor'],
  route: ['executor', 'start_time', 'end_time', 'status'],
};

function assertOnly(obj: Record<string, unknown>, allowed: string[], where: string): void {
  for (const k of Object.keys(obj))
    assert.ok(allowed.includes(k), `${where} has '${k}', not a field of the proto`);
}

function assertStatusFields(s: Json, where: string): void {
  assertOnly(s, PROTO_FIELDS.status, where);
  assert.equal(typeof s.code, 'number', `${where}.code must be numeric`);
  if (s.exception) assertOnly(s.exception, PROTO_FIELDS.exception, `${where}.exception`);
}

/** Everything but `data` uses only the field names of jina.DataRequestProto. */
function assertProtoFieldNames(res: Json): void {
  assertOnly(res, PROTO_FIELDS.root, 'response');
  assertOnly(res.header, PROTO_FIELDS.header, 'header');
  assertStatusFields(res.header.status, 'header.status');
  for (const [i, r] of (res.routes as Json[]).entries()) {
    assertOnly(r, PROTO_FIELDS.route, `routes[${i}]`);
    if (r.status) assertStatusFields(r.status, `routes[${i}].status`);
  }
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
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

/** Sends a body whose Content-Length is `declared` without sending it: the answer comes first. */
function declareLength(port: number, declared: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/post',
        headers: { 'content-type': 'application/json', 'content-length': String(declared) },
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.write('{"data": [');
  });
}

void describe('the HTTP Gateway of a Flow of two Executors', () => {
  const flow = new Flow()
    .configGateway({
      protocol: 'http',
      timeoutSend: 1000,
      exposeEndpoints: { '/foo': { methods: ['GET'], path: '/bar', summary: 'foo over GET' } },
    })
    .add({ name: 'shouter', uses: Shouter, restartPolicy: 'never' }) // a test kills it for good
    .add({ name: 'marker', uses: Marker });
  let base = '';
  let client: Client;

  before(async () => {
    await flow.start();
    base = `http://127.0.0.1:${flow.port}`;
    client = new Client({ host: `http://127.0.0.1:${flow.port}` });
  });

  after(async () => {
    await client?.close();
    await flow.close();
  });

  void test('GET / is {} and GET /dry_run is a numeric SUCCESS status; /status lists versions', async () => {
    const health = await call(base, 'GET', '/');
    assert.equal(health.status, 200);
    assert.deepEqual(health.body, {});
    const dry = await call(base, 'GET', '/dry_run');
    assert.equal(dry.status, 200);
    assert.deepEqual(dry.body, { code: 0, description: '', exception: null });
    const status = await call(base, 'GET', '/status');
    assert.equal(status.status, 200);
    assert.deepEqual(Object.keys(status.body), ['jina', 'envs']);
    assert.equal(typeof status.body.jina.flowgate, 'string');
    for (const v of Object.values(status.body.envs)) assert.equal(typeof v, 'string');
  });

  void test('POST /post answers the response as the original: header, parameters, routes, data', async () => {
    const res = await call(base, 'POST', '/post', {
      data: [{ text: 'hello', tags: { k: 1 } }],
      execEndpoint: '/upper',
      parameters: { p: 'x' },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
    const b = res.body;
    assert.match(b.header.request_id, /^[0-9a-f]{32}$/);
    assert.equal(b.header.exec_endpoint, '/upper');
    assert.deepEqual(b.header.status, { code: 0, description: '', exception: null });
    assert.deepEqual(b.parameters, { p: 'x' });
    assert.deepEqual(
      b.routes.map((r: Json) => r.executor as unknown),
      ['gateway', 'shouter', 'marker'],
    );
    for (const r of b.routes) {
      assert.match(r.start_time, ISO);
      assert.match(r.end_time, ISO);
      assert.deepEqual(r.status, { code: 0, description: '', exception: null });
    }
    assert.equal(b.data.length, 1);
    assert.deepEqual(Object.keys(b.data[0]), DOC_KEYS);
    assert.equal(b.data[0].text, 'HELLO');
    assert.deepEqual(b.data[0].tags, { k: 1, by: 'shouter', marked: 'marker' });
    assert.equal(b.data[0].blob, null);
    assertProtoFieldNames(b);
  });

  void test('/post accepts snake_case keys, {"docs": [...]} data and keeps a given request id', async () => {
    const res = await call(base, 'POST', '/post', {
      data: {
        docs: [
          { id: 'a', text: 'one' },
          { id: 'b', text: 'two' },
        ],
      },
      exec_endpoint: '/upper',
      target_executor: 'shouter',
      header: { request_id: 'my-request-1' },
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.header.request_id, 'my-request-1');
    assert.deepEqual(
      res.body.data.map((d: Json) => [d.id, d.text, d.tags] as unknown),
      [
        ['a', 'ONE', { by: 'shouter' }],
        ['b', 'TWO', { by: 'shouter' }],
      ],
    );
    // targetExecutor: the marker is passed through without being called
    assert.deepEqual(
      res.body.routes.map((r: Json) => r.executor as unknown),
      ['gateway', 'shouter'],
    );
    assertProtoFieldNames(res.body);
  });

  void test('more than 100 documents in one body come back complete as one response', async () => {
    const data = Array.from({ length: 250 }, (_, i) => ({ id: `d${i}`, text: `t${i}` }));
    const res = await call(base, 'POST', '/upper', { data });
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.body.data.map((d: Json) => d.id as unknown),
      data.map((d) => d.id),
    );
    assert.equal(res.body.data[249].text, 'T249');
  });

  void test('the CRUD routes use their methods and endpoints', async () => {
    for (const [method, path] of [
      ['POST', '/index'],
      ['PUT', '/update'],
      ['DELETE', '/delete'],
    ] as const) {
      const res = await call(base, method, path, { data: [{ text: 'x' }], parameters: { op: path } });
      assert.equal(res.status, 200, `${method} ${path}`);
      assert.equal(res.body.header.exec_endpoint, path);
      assert.equal(res.body.data[0].tags.op, path, `${method} ${path} reached the Executor`);
    }
    const search = await call(base, 'POST', '/search', { data: [{ id: 'q', text: 'query' }] });
    assert.equal(search.status, 200);
    const match = search.body.data[0].matches[0];
    assert.equal(match.id, 'q-m');
    assert.equal(match.text, 'match of query');
    assert.deepEqual(match.scores, {
      cosine: { value: 0.5, op_name: null, description: null, ref_id: null },
    });
    // each CRUD route only answers its own method
    assert.equal((await call(base, 'GET', '/index')).status, 404);
    assert.equal((await call(base, 'POST', '/update', {})).status, 404);
    assert.equal((await call(base, 'POST', '/delete', {})).status, 404);
  });

  void test('every endpoint an Executor binds gets POST /<endpoint>; exposeEndpoints maps /foo to GET /bar', async () => {
    const upper = await call(base, 'POST', '/upper', { data: [{ text: 'route' }] });
    assert.equal(upper.status, 200);
    assert.equal(upper.body.header.exec_endpoint, '/upper');
    assert.equal(upper.body.data[0].text, 'ROUTE');
    // the route fixes the endpoint: the body cannot redirect it
    const fixed = await call(base, 'POST', '/upper', { data: [{ text: 'x' }], execEndpoint: '/foo' });
    assert.equal(fixed.body.header.exec_endpoint, '/upper');

    const params = await call(base, 'POST', '/params', { parameters: { k: 'v' } });
    assert.equal(params.status, 200);
    assert.deepEqual(params.body.parameters.__results__.shouter, { seen: { k: 'v' } });

    const bar = await call(base, 'GET', '/bar');
    assert.equal(bar.status, 200);
    assert.equal(bar.body.header.exec_endpoint, '/foo');
    assert.deepEqual(
      bar.body.data.map((d: Json) => d.text as unknown),
      ['foo was called'],
    );
    assert.equal((await call(base, 'POST', '/bar', {})).status, 404, 'only the exposed method');

    const missing = await call(base, 'POST', '/not-bound', { data: [] });
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.body, { detail: 'Not Found' });
  });

  void test('an Executor error answers 200 with status code 1 naming the Executor', async () => {
    const res = await call(base, 'POST', '/post', { data: [{ text: 'x' }], execEndpoint: '/fail' });
    assert.equal(res.status, 200);
    const s = res.body.header.status;
    assert.equal(s.code, 1);
    assert.equal(s.exception.executor, 'shouter');
    assert.equal(s.exception.name, 'RangeError');
    assert.deepEqual(s.exception.args, ['this endpoint always fails']);
    assert.ok(s.exception.stacks.length > 0);
    assert.match(s.description, /this endpoint always fails/);
    assertProtoFieldNames(res.body);
    const next = await call(base, 'POST', '/upper', { data: [{ text: 'ok' }] });
    assert.equal(next.body.data[0].text, 'OK');
  });

  void test('bad input: broken JSON 400, wrong shape 422, oversized 413; the server keeps serving', async () => {
    const good = async () => {
      const r = await call(base, 'POST', '/upper', { data: [{ text: 'still fine' }] });
      assert.equal(r.status, 200);
      assert.equal(r.body.data[0].text, 'STILL FINE');
    };
    const broken = await call(base, 'POST', '/post', '{"data": [{"text": "x"}');
    assert.equal(broken.status, 400);
    assert.match(broken.body.detail, /not valid JSON: .*(position|end of JSON|Unterminated|Expected)/i);
    await good();

    const empty = await call(base, 'POST', '/post', '');
    assert.equal(empty.status, 400);
    assert.match(empty.body.detail, /empty/);

    const poisoned = await call(base, 'POST', '/post', '{"__proto__": {"polluted": true}}');
    assert.equal(poisoned.status, 400);
    await good();

    for (const [body, field] of [
      [{ data: [{ embedding: 'x' }] }, /data\[0\]\.embedding/],
      [{ data: [{ text: 'x' }], parameters: [1] }, /parameters must be an object/],
      [{ data: 'nope' }, /data/],
      [{ execEndpoint: 5 }, /execEndpoint must be a string/],
      [[1, 2], /JSON object/],
    ] as const) {
      const res = await call(base, 'POST', '/post', body);
      assert.equal(res.status, 422, JSON.stringify(body));
      assert.match(res.body.detail, field);
      await good();
    }

    const form = await fetch(`${base}/post`, {
      method: 'POST',
      body: 'a=1',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(form.status, 415);
    await good();

    // The default limit is 64 MiB: a larger Content-Length is refused before the body is read.
    const big = await declareLength(flow.port, 64 * 1024 * 1024 + 1);
    assert.equal(big.status, 413);
    assert.match(JSON.parse(big.body).detail, /67108864 bytes/);
    await good();
  });

  void test('an Executor slower than timeoutSend answers 504 with the request echoed back', async () => {
    const res = await call(base, 'POST', '/slow', {
      data: [{ id: 'slow-1', text: 'zzz' }],
      parameters: { a: 1 },
    });
    assert.equal(res.status, 504);
    assert.equal(res.body.exec_endpoint, '/slow');
    assert.deepEqual(res.body.parameters, { a: 1 });
    assert.equal(res.body.data[0].id, 'slow-1');
    assert.equal(res.body.header.status.code, 1);
    assert.match(res.body.header.status.description, /shouter.*timeoutSend=1000/);
    assert.equal(res.body.header.status.exception.executor, 'shouter');
    assert.match(res.body.header.request_id, /^[0-9a-f]{32}$/);
  });

  void test('a protobuf body to an Executor slower than timeoutSend answers 504 echoing the request as sent', async () => {
    const sent = DataRequest.create({
      requestId: 'pb-slow-request',
      endpoint: '/slow',
      parameters: { a: 2 },
      docsBytes: encodeDocs(new DocumentArray([new Document({ id: 'slow-pb', text: 'zzz' })])),
    });
    const res = await fetch(`${base}/slow`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', accept: 'application/json' },
      body: Buffer.from(sent.encode()),
    });
    assert.equal(res.status, 504);
    const body = (await res.json()) as {
      exec_endpoint: string;
      parameters: unknown;
      data: { id: string }[];
      header: { request_id: string; status: { description: string } };
    };
    assert.equal(body.header.request_id, 'pb-slow-request');
    assert.equal(body.exec_endpoint, '/slow');
    assert.deepEqual(body.parameters, { a: 2 });
    assert.equal(body.data[0]?.id, 'slow-pb');
    assert.match(body.header.status.description, /shouter.*timeoutSend=1000/);
  });

  void test('/openapi.json describes every route with working examples; Swagger UI is served locally', async () => {
    const spec = (await call(base, 'GET', '/openapi.json')).body;
    assert.equal(spec.openapi, '3.0.3');
    assert.equal(spec.info.title, 'My flowgate Service');
    const paths = spec.paths;
    for (const p of [
      '/status',
      '/dry_run',
      '/post',
      '/index',
      '/search',
      '/bar',
      '/upper',
      '/foo',
      '/params',
    ])
      assert.ok(paths[p], `no ${p} in ${Object.keys(paths).join(', ')}`);
    assert.ok(!paths['/default'] && !paths['/_jina_dry_run_'], 'reserved endpoints get no route');
    assert.ok(paths['/update'].put && paths['/delete'].delete && paths['/bar'].get);
    assert.ok(spec.components.schemas.Document.properties.chunks);
    // the example of each body works when tried
    for (const [path, item] of Object.entries<Json>(paths)) {
      for (const [method, op] of Object.entries<Json>(item)) {
        const example = op.requestBody?.content?.['application/json']?.example;
        if (!example || path === '/slow') continue; // /slow outlasts timeoutSend (504)
        const res = await call(base, method.toUpperCase(), path, example);
        assert.equal(res.status, 200, `${method} ${path}: ${JSON.stringify(res.body).slice(0, 300)}`);
      }
    }
    const docs = await fetch(`${base}/docs/`);
    assert.equal(docs.status, 200);
    const html = await docs.text();
    assert.match(html, /swagger-ui/i);
    assert.doesNotMatch(html, /src="https?:\/\//, 'Swagger UI must not load from a CDN');
    assert.equal((await fetch(`${base}/docs/static/swagger-ui-bundle.js`)).status, 200);
  });

  void test('no CORS headers unless cors is set', async () => {
    const res = await call(base, 'POST', '/upper', { data: [] }, { origin: 'http://example.com' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
  });

  void test('Client over HTTP: 1,000 docs, parameters, targetExecutor, status, dry run', async () => {
    assert.equal(client.protocol, 'http');
    assert.equal(await client.isFlowReady(), true);
    assert.equal(typeof (await client.status()).jina.flowgate, 'string');
    const inputs = new DocumentArray(
      Array.from({ length: 1000 }, (_, i) => new Document({ id: `c${i}`, text: `n${i}` })),
    );
    const docs = await client.post('/upper', inputs, { resultsInOrder: true, prefetch: 4 });
    assert.equal(docs.length, 1000);
    assert.deepEqual(docs.ids, inputs.ids);
    assert.equal(docs[999]!.text, 'N999');
    assert.equal(docs[0]!.tags.marked, 'marker');

    const unordered = await client.post('/upper', inputs, { requestSize: 50 });
    assert.deepEqual([...unordered.ids].sort(), [...inputs.ids].sort());

    const responses = await client.post('/params', [new Document({ text: 'p' })], {
      parameters: { depth: 2 },
      returnResponses: true,
    });
    assert.equal(responses.length, 1);
    assert.deepEqual((responses[0]!.parameters.__results__ as Json).shouter, { seen: { depth: 2 } });
    assert.deepEqual(
      responses[0]!.routes.map((r) => r.executor),
      ['gateway', 'shouter'],
    );

    const targeted = await client.post('/upper', [new Document({ text: 't' })], {
      targetExecutor: 'shouter',
    });
    assert.equal(targeted[0]!.text, 'T');
    assert.equal(targeted[0]!.tags.marked, undefined);
  });

  void test('Client over HTTP: an Executor error rejects with ExecutorError; timeouts with DeadlineExceeded', async () => {
    await assert.rejects(client.post('/fail', [new Document({ text: 'x' })]), (err: unknown) => {
      assert.ok(err instanceof ExecutorError, String(err));
      assert.equal(err.executor, 'shouter');
      assert.equal(err.exceptionName, 'RangeError');
      assert.deepEqual(err.args, ['this endpoint always fails']);
      return true;
    });
    await assert.rejects(client.post('/slow', [new Document()], { timeout: 200 }), (err: unknown) => {
      assert.ok(err instanceof FlowgateError, String(err));
      assert.equal(err.code, Code.DeadlineExceeded);
      return true;
    });
    const docs = await client.post('/upper', [new Document({ text: 'after' })]);
    assert.equal(docs[0]!.text, 'AFTER');
  });

  void test('an Executor that died answers 503 naming it, echoing the request; the Gateway keeps serving', async () => {
    const asked = await call(base, 'POST', '/pid', {});
    const pid = asked.body.parameters.__results__.shouter.pid as number;
    assert.ok(flow.pids.includes(pid), `${pid} is not among the Flow's processes ${flow.pids.join(', ')}`);
    process.kill(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    const res = await call(base, 'POST', '/upper', {
      data: [{ id: 'lost', text: 'hello?' }],
      parameters: { a: 1 },
    });
    assert.equal(res.status, 503);
    assert.equal(res.body.data[0].id, 'lost');
    assert.equal(res.body.data[0].text, 'hello?');
    assert.equal(res.body.exec_endpoint, '/upper');
    assert.deepEqual(res.body.parameters, { a: 1 });
    assert.equal(res.body.header.status.code, 1);
    assert.match(res.body.header.status.description, /shouter/);
    assert.equal(res.body.header.status.exception.executor, 'shouter');

    await assert.rejects(client.post('/upper', [new Document({ text: 'x' })]), (err: unknown) => {
      assert.ok(err instanceof FlowgateError, String(err));
      assert.equal(err.code, Code.Unavailable);
      assert.match(err.message, /shouter/);
      return true;
    });
    assert.deepEqual((await call(base, 'GET', '/')).body, {});
    // endpoints the dead Executor does not serve still work
    const other = await call(base, 'POST', '/post', { data: [{ text: 'x' }], execEndpoint: '/nobody' });
    assert.equal(other.status, 200);
    assert.equal(other.body.data[0].text, 'x');
  });
});

void describe('an in-process HTTP Gateway without debug and CRUD routes, with CORS and a small body limit', () => {
  const worker = new WorkerRuntime({ executor: new Shouter({ metas: { name: 'solo' } }) });
  let runtime: GatewayRuntime;
  let base = '';

  before(async () => {
    const port = await worker.start();
    runtime = new GatewayRuntime({
      protocols: ['http'],
      nodes: [{ name: 'solo', needs: ['gateway'] }],
      addresses: { solo: [`127.0.0.1:${port}`] },
      gatewayOptions: {
        noDebugEndpoints: true,
        noCrudEndpoints: true,
        cors: true,
        title: 'Shouting service',
        description: 'It shouts.',
        maxMessageBytes: 1000,
      },
    });
    const [gatewayPort] = await runtime.start();
    base = `http://127.0.0.1:${gatewayPort}`;
  });

  after(async () => {
    await runtime?.close();
    await worker.close();
  });

  void test('noDebugEndpoints and noCrudEndpoints remove their routes (404); the rest works', async () => {
    for (const [method, path] of [
      ['POST', '/post'],
      ['GET', '/status'],
      ['GET', '/dry_run'],
      ['POST', '/index'],
      ['POST', '/search'],
      ['PUT', '/update'],
      ['DELETE', '/delete'],
    ]) {
      const res = await call(base, method!, path!, method === 'GET' ? undefined : { data: [] });
      assert.equal(res.status, 404, `${method} ${path}`);
    }
    assert.deepEqual((await call(base, 'GET', '/')).body, {});
    const res = await call(base, 'POST', '/upper', { data: [{ text: 'alone' }] });
    assert.equal(res.status, 200);
    assert.equal(res.body.data[0].text, 'ALONE');
    // without /post, the Client posts to /<endpoint>
    const client = new Client({ host: base });
    const docs = await client.post('/upper', [new Document({ text: 'via client' })]);
    assert.equal(docs[0]!.text, 'VIA CLIENT');
    await client.close();
    const spec = (await call(base, 'GET', '/openapi.json')).body;
    assert.equal(spec.info.title, 'Shouting service');
    assert.equal(spec.info.description, 'It shouts.');
    assert.equal(spec.paths['/post'], undefined);
    assert.equal(spec.paths['/index'], undefined);
    assert.ok(spec.paths['/upper'].post);
  });

  void test('cors: preflight and responses allow any origin', async () => {
    const pre = await fetch(`${base}/upper`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), '*');
    assert.match(pre.headers.get('access-control-allow-methods') ?? '', /POST/);
    const res = await call(base, 'POST', '/upper', { data: [] }, { origin: 'http://example.com' });
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
  });

  void test('a body over maxMessageBytes answers 413 naming the limit; smaller bodies still work', async () => {
    const big = await call(base, 'POST', '/upper', { data: [{ text: 'x'.repeat(2000) }] });
    assert.equal(big.status, 413);
    assert.match(big.body.detail, /limit of 1000 bytes/);
    const small = await call(base, 'POST', '/upper', { data: [{ text: 'small' }] });
    assert.equal(small.status, 200);
    assert.equal(small.body.data[0].text, 'SMALL');
  });

  void test('the HTTP Client reports a Gateway it cannot reach as Unavailable', async () => {
    const client = new Client({ host: 'http://127.0.0.1:1' });
    await assert.rejects(client.post('/', []), (err: unknown) => {
      assert.ok(err instanceof FlowgateError, String(err));
      assert.equal(err.code, Code.Unavailable);
      assert.match(err.message, /cannot reach the Gateway at http:\/\/127\.0\.0\.1:1/);
      return true;
    });
    assert.equal(await client.isFlowReady(), false);
    await client.close();
  });
});
