/**
 * OpenTelemetry tracing (`tracing: true`) of a real Flow, collected by an in-process OTLP/HTTP
 * receiver: one trace per client request whose `traceparent` came over gRPC metadata, HTTP headers
 * or the WebSocket handshake, and the tree Gateway request -> call to each Executor -> the worker's
 * span -> the endpoint's span -> the span the Executor adds itself.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { after, before, test } from 'node:test';
import { Client, Document, Flow } from '../src/index.js';
import { RuntimeTracing, SpanKind } from '../src/runtime/tracing.js';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { Tagger } from './fixtures/observability-executors.js';
import { Tokens } from './fixtures/stream-executors.js';

interface CollectedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
}

/** OTLP/JSON ids are hex; some encoders write base64: both become hex. */
function hex(id: unknown): string {
  const s = typeof id === 'string' ? id : '';
  return /^[0-9a-f]*$/i.test(s) ? s.toLowerCase() : Buffer.from(s, 'base64').toString('hex');
}

type AnyValue = {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
};
function attrs(list: { key: string; value: AnyValue }[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of list ?? [])
    out[key] = value.stringValue ?? value.intValue ?? value.boolValue ?? value.doubleValue;
  return out;
}

/** An OTLP/HTTP receiver: collects the spans of every JSON body posted to /v1/traces. */
async function startReceiver(): Promise<{ server: Server; port: number; spans: CollectedSpan[] }> {
  const spans: CollectedSpan[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url !== '/v1/traces' || !/json/.test(req.headers['content-type'] ?? '')) {
        res.writeHead(415).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans?: {
          resource?: { attributes?: { key: string; value: AnyValue }[] };
          scopeSpans?: { spans?: Record<string, unknown>[] }[];
        }[];
      };
      for (const rs of body.resourceSpans ?? []) {
        const service = String(attrs(rs.resource?.attributes)['service.name']);
        for (const ss of rs.scopeSpans ?? [])
          for (const s of ss.spans ?? [])
            spans.push({
              service,
              traceId: hex(s.traceId),
              spanId: hex(s.spanId),
              parentSpanId: hex(s.parentSpanId),
              name: String(s.name),
              kind: Number(s.kind),
              attributes: attrs(s.attributes as { key: string; value: AnyValue }[]),
            });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return { server, port: typeof addr === 'object' && addr ? addr.port : 0, spans };
}

/** OTLP span kinds (the enum is 1-based there). */
const OTLP = { INTERNAL: 1, SERVER: 2, CLIENT: 3 } as const;

async function waitFor<T>(what: string, check: () => T | undefined, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let receiver: Awaited<ReturnType<typeof startReceiver>>;
let flow: Flow;

before(async () => {
  receiver = await startReceiver();
  process.env.OTEL_BSP_SCHEDULE_DELAY = '200'; // the processes inherit it: spans come in quickly
  const tracing = { tracing: true, tracesExporterHost: '127.0.0.1', tracesExporterPort: receiver.port };
  flow = new Flow()
    .configGateway({ protocol: ['grpc', 'http', 'websocket'], ...tracing })
    .add({ uses: Tagger, name: 'a', ...tracing })
    .add({ uses: Tagger, name: 'b', ...tracing });
  await flow.start();
});

after(async () => {
  await flow.close();
  delete process.env.OTEL_BSP_SCHEDULE_DELAY;
  receiver.server.close();
});

for (const [i, protocol] of (['grpc', 'http', 'websocket'] as const).entries()) {
  void test(`${protocol}: the client's traceparent starts one trace through the Gateway and both Executors`, async () => {
    const traceId = randomBytes(16).toString('hex');
    const clientSpanId = randomBytes(8).toString('hex');
    const client = new Client({ port: flow.ports[i], protocol });
    const docs = await client.post('/index', [new Document({ text: 'x' })], {
      metadata: { traceparent: `00-${traceId}-${clientSpanId}-01` },
    });
    await client.close();
    assert.equal(docs[0]!.tags.by, 'b');

    // gateway request, 2 calls, 2 worker spans, 2 endpoint spans, 2 spans of the Executors' own
    const spans = await waitFor('9 spans of the trace', () => {
      const s = receiver.spans.filter((x) => x.traceId === traceId);
      return s.length >= 9 ? s : undefined;
    });
    assert.equal(spans.length, 9, JSON.stringify(spans, null, 1));
    const gateway = spans.filter((s) => s.service === 'gateway' && s.kind === OTLP.SERVER);
    assert.equal(gateway.length, 1);
    assert.equal(gateway[0]!.parentSpanId, clientSpanId, "the Gateway's span is the client's child");
    assert.equal(gateway[0]!.name, 'gateway /index');
    assert.equal(gateway[0]!.attributes['flowgate.endpoint'], '/index');
    for (const executor of ['a', 'b']) {
      const call = spans.find(
        (s) =>
          s.service === 'gateway' && s.kind === OTLP.CLIENT && s.attributes['flowgate.executor'] === executor,
      );
      assert.ok(call, `the Gateway's call to ${executor}`);
      assert.equal(call.parentSpanId, gateway[0]!.spanId);
      assert.equal(call.name, '/jina.JinaSingleDataRequestRPC/process_single_data');
      const server = spans.find((s) => s.service === executor && s.kind === OTLP.SERVER);
      assert.ok(server, `${executor}'s server span`);
      assert.equal(server.parentSpanId, call.spanId, `${executor}'s span is the call's child`);
      const endpoint = spans.find((s) => s.service === executor && s.name === '/index');
      assert.ok(endpoint, `${executor}'s endpoint span`);
      assert.equal(endpoint.parentSpanId, server.spanId);
      assert.equal(endpoint.attributes['flowgate.executor'], executor);
      assert.equal(endpoint.attributes['flowgate.endpoint'], '/index');
      const custom = spans.find((s) => s.service === executor && s.name === `${executor}.custom`);
      assert.ok(custom, `the span ${executor} added itself`);
      assert.equal(custom.parentSpanId, endpoint.spanId, 'the handler got the endpoint span as its context');
      assert.equal(custom.attributes.docs, 1);
    }
  });
}

void test('without a traceparent each request starts a trace of its own', async () => {
  const client = new Client({ port: flow.ports[0] });
  const before = new Set(receiver.spans.map((s) => s.traceId));
  await client.post('/index', [new Document({ text: 'x' }), new Document({ text: 'y' })], { requestSize: 1 });
  await client.close();
  const roots = await waitFor('two new Gateway spans', () => {
    const r = receiver.spans.filter(
      (s) => s.service === 'gateway' && s.kind === OTLP.SERVER && !before.has(s.traceId),
    );
    return r.length >= 2 ? r : undefined;
  });
  assert.equal(new Set(roots.map((r) => r.traceId)).size, 2);
  for (const r of roots) assert.equal(r.parentSpanId, '', 'a root span');
});

void test('close() exports the spans still buffered', async () => {
  const tracing = new RuntimeTracing({ serviceName: 'flush-check', host: '127.0.0.1', port: receiver.port });
  const span = tracing.startSpan('buffered', ROOT_CONTEXT, SpanKind.INTERNAL);
  span.end();
  await tracing.close();
  assert.ok(receiver.spans.some((s) => s.service === 'flush-check' && s.name === 'buffered'));
});

void test('a sharded Executor: the head continues the trace to every shard, and serves its own metrics', async () => {
  const tracing = { tracing: true, tracesExporterHost: '127.0.0.1', tracesExporterPort: receiver.port };
  const sharded = new Flow()
    .configGateway({ protocol: 'grpc', ...tracing })
    .add({ uses: Tagger, name: 's', shards: 2, monitoring: true, ...tracing });
  await sharded.start();
  try {
    assert.deepEqual(Object.keys(sharded.monitoringPorts).sort(), ['s/head', 's/shard-0', 's/shard-1']);
    const traceId = randomBytes(16).toString('hex');
    const client = new Client({ port: sharded.port });
    // `/search` goes to every shard (polling ALL)
    await client.post('/search', [new Document({ text: 'x' })], {
      metadata: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
    });
    await client.close();
    // gateway request, its call, the head, and per shard: worker, endpoint, custom
    const spans = await waitFor('9 spans of the sharded trace', () => {
      const s = receiver.spans.filter((x) => x.traceId === traceId);
      return s.length >= 9 ? s : undefined;
    });
    const call = spans.find((s) => s.service === 'gateway' && s.kind === OTLP.CLIENT);
    const head = spans.find((s) => s.service === 's/head' && s.kind === OTLP.SERVER);
    assert.ok(call && head, JSON.stringify(spans, null, 1));
    assert.equal(head.parentSpanId, call.spanId, "the head's span is the Gateway call's child");
    for (const shard of ['s/shard-0', 's/shard-1']) {
      const server = spans.find((s) => s.service === shard && s.kind === OTLP.SERVER);
      assert.ok(server, `${shard}'s span`);
      assert.equal(server.parentSpanId, head.spanId, `${shard}'s span is the head's child`);
      assert.ok(
        spans.some((s) => s.service === shard && s.name === '/search' && s.parentSpanId === server.spanId),
      );
    }
    const text = await (await fetch(`http://127.0.0.1:${sharded.monitoringPorts['s/head']}/metrics`)).text();
    for (const shard of ['s/shard-0', 's/shard-1'])
      assert.match(
        text,
        new RegExp(
          `^jina_sending_request_seconds_count\\{runtime_name="s/head",executor="${shard}"\\} 1$`,
          'm',
        ),
      );
    assert.match(text, /^jina_successful_requests_total\{runtime_name="s\/head"\} 1$/m);
  } finally {
    await sharded.close();
  }
});

void test('a stream: the Gateway span, its stream_doc call, and the worker continuing it, with items counted', async () => {
  const tracing = { tracing: true, tracesExporterHost: '127.0.0.1', tracesExporterPort: receiver.port };
  const streaming = new Flow()
    .configGateway({ protocol: 'grpc', ...tracing })
    .add({ uses: Tokens, name: 'tokens', ...tracing });
  await streaming.start();
  try {
    const traceId = randomBytes(16).toString('hex');
    const clientSpanId = randomBytes(8).toString('hex');
    await using client = new Client({ port: streaming.port });
    const got: string[] = [];
    for await (const d of client.streamDoc({
      on: '/generate',
      inputs: { text: 'a b c' },
      metadata: { traceparent: `00-${traceId}-${clientSpanId}-01` },
    }))
      got.push(d.text!);
    assert.deepEqual(got, ['a', 'b', 'c']);
    // gateway stream, its stream_doc call, the worker's stream_doc span, the endpoint span
    const spans = await waitFor('4 spans of the stream', () => {
      const s = receiver.spans.filter((x) => x.traceId === traceId);
      return s.length >= 4 ? s : undefined;
    });
    const gateway = spans.find((s) => s.service === 'gateway' && s.kind === OTLP.SERVER);
    assert.ok(gateway, JSON.stringify(spans, null, 1));
    assert.equal(gateway.name, 'gateway /generate');
    assert.equal(gateway.parentSpanId, clientSpanId);
    assert.equal(Number(gateway.attributes['flowgate.items']), 3);
    const call = spans.find((s) => s.service === 'gateway' && s.kind === OTLP.CLIENT);
    assert.ok(call);
    assert.equal(call.name, '/jina.JinaSingleDocumentRequestRPC/stream_doc');
    assert.equal(call.parentSpanId, gateway.spanId);
    assert.equal(Number(call.attributes['flowgate.items']), 3);
    const server = spans.find((s) => s.service === 'tokens' && s.kind === OTLP.SERVER);
    assert.ok(server, "the worker's stream span");
    assert.equal(server.name, '/jina.JinaSingleDocumentRequestRPC/stream_doc');
    assert.equal(server.parentSpanId, call.spanId, "the worker continues the Gateway's call");
    assert.equal(Number(server.attributes['flowgate.items']), 3);
    const endpoint = spans.find((s) => s.service === 'tokens' && s.name === '/generate');
    assert.ok(endpoint);
    assert.equal(endpoint.parentSpanId, server.spanId);
    assert.equal(Number(endpoint.attributes['flowgate.items']), 3);
  } finally {
    await streaming.close();
  }
});
