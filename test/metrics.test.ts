/**
 * Prometheus metrics (`monitoring: true`) of a real Flow: the Gateway's and each Executor's own
 * metrics server, the original's metric names and labels, counts that match the requests sent; and
 * the one log line of a failed request.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Client, Document, Flow } from '../src/index.js';
import { freePort } from '../src/serve/gateway-runtime.js';
import { Tagger } from './fixtures/observability-executors.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text format into samples. */
function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** The value of the one sample named `name` whose labels are exactly `labels`. */
function value(samples: Sample[], name: string, labels: Record<string, string>): number {
  const found = samples.filter(
    (s) =>
      s.name === name &&
      Object.keys(s.labels).length === Object.keys(labels).length &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  assert.equal(found.length, 1, `one ${name}${JSON.stringify(labels)} in the scrape, found ${found.length}`);
  return found[0]!.value;
}

async function scrape(port: number, path = '/metrics'): Promise<Sample[]> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  return parse(await res.text());
}

let flow: Flow;
let gatewayMetricsPort: number;
let stderrText = '';
/** The complete lines the Flow's processes wrote so far. */
const stderrLines = () => stderrText.split('\n').slice(0, -1).filter(Boolean);
const realWrite = process.stderr.write.bind(process.stderr);

before(async () => {
  process.env.FLOWGATE_LOG_FORMAT = 'json';
  process.env.FLOWGATE_LOG_LEVEL = 'info'; // the lifecycle lines (scripts/run-tests.mjs sets warn)
  // The Flow's processes write to this process's stderr: keep the lines to look for the failure.
  process.stderr.write = (chunk: string | Uint8Array, ...rest: unknown[]) => {
    stderrText += chunk.toString();
    return (realWrite as (...args: unknown[]) => boolean)(chunk, ...rest);
  };
  gatewayMetricsPort = await freePort();
  flow = new Flow()
    .configGateway({ protocol: 'grpc', monitoring: true, portMonitoring: gatewayMetricsPort })
    .add({ uses: Tagger, name: 'a', monitoring: true })
    .add({ uses: Tagger, name: 'b', monitoring: true });
  await flow.start();
});

after(async () => {
  await flow.close();
  process.stderr.write = realWrite;
});

void test('the Gateway and every Executor serve their metrics; the counts match the requests', async () => {
  assert.equal(flow.monitoringPorts.gateway, gatewayMetricsPort, 'the given portMonitoring is used');
  assert.deepEqual(Object.keys(flow.monitoringPorts).sort(), ['a', 'b', 'gateway']);
  const client = new Client({ port: flow.port });
  const docs = Array.from({ length: 10 }, (_, i) => new Document({ text: `d${i}` }));
  const out = await client.post('/index', docs, { requestSize: 2 }); // 5 requests
  assert.equal(out.length, 10);
  assert.ok(out.every((d) => d.tags.by === 'b'));
  let failedId = '';
  await client.post('/fail', [new Document({ text: 'x' })], {
    onError: (r) => void (failedId = r.requestId),
  });
  assert.ok(failedId, 'the failed request reached onError');
  await client.close();

  const gw = await scrape(gatewayMetricsPort);
  const rt = { runtime_name: 'gateway' };
  assert.equal(value(gw, 'jina_successful_requests_total', rt), 5);
  assert.equal(value(gw, 'jina_failed_requests_total', rt), 1);
  assert.equal(value(gw, 'jina_receiving_request_seconds_count', rt), 6);
  assert.ok(value(gw, 'jina_receiving_request_seconds_sum', rt) > 0);
  assert.equal(value(gw, 'jina_number_of_pending_requests', rt), 0);
  assert.equal(value(gw, 'jina_received_request_bytes_count', rt), 6);
  assert.equal(value(gw, 'jina_sent_response_bytes_count', rt), 6);
  // The connection pool: per Executor called (b is never called for /fail: a failed first).
  assert.equal(value(gw, 'jina_sending_request_seconds_count', { ...rt, executor: 'a' }), 6);
  assert.equal(value(gw, 'jina_sending_request_seconds_count', { ...rt, executor: 'b' }), 5);
  assert.equal(value(gw, 'jina_sent_request_bytes_count', { ...rt, executor: 'b' }), 5);
  assert.ok(value(gw, 'jina_received_response_bytes_sum', { ...rt, executor: 'b' }) > 0);
  assert.ok(
    gw.some((s) => s.name === 'jina_receiving_request_seconds_bucket' && s.labels.le === '+Inf'),
    'durations are histograms',
  );
  assert.ok(
    gw.some((s) => s.name === 'process_cpu_user_seconds_total'),
    'the default process metrics are there',
  );

  const a = await scrape(flow.monitoringPorts.a!, '/');
  const endpoint = { runtime_name: 'a', executor: 'a', executor_endpoint: '/index' };
  assert.equal(value(a, 'jina_process_request_seconds_count', endpoint), 5);
  assert.equal(value(a, 'jina_document_processed_total', endpoint), 10);
  assert.equal(value(a, 'jina_successful_requests_total', { runtime_name: 'a' }), 5);
  assert.equal(value(a, 'jina_failed_requests_total', { runtime_name: 'a' }), 1);
  assert.equal(value(a, 'jina_receiving_request_seconds_count', { runtime_name: 'a' }), 6);
  const b = await scrape(flow.monitoringPorts.b!);
  assert.equal(value(b, 'jina_successful_requests_total', { runtime_name: 'b' }), 5);
  assert.equal(value(b, 'jina_failed_requests_total', { runtime_name: 'b' }), 0);
  assert.equal(
    value(b, 'jina_document_processed_total', {
      runtime_name: 'b',
      executor: 'b',
      executor_endpoint: '/index',
    }),
    10,
  );
  const notFound = await fetch(`http://127.0.0.1:${gatewayMetricsPort}/other`);
  assert.equal(notFound.status, 404);

  // One log line for the failed request, naming it, its Executor and endpoint.
  const failures = stderrLines()
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.requestId === failedId);
  assert.equal(failures.length, 1, `one log line for ${failedId}:\n${stderrText}`);
  const line = failures[0]!;
  assert.equal(line.msg, 'request failed');
  assert.equal(line.level, 'error');
  assert.equal(line.name, 'gateway');
  assert.equal(line.executor, 'a');
  assert.equal(line.endpoint, '/fail');
  assert.equal(typeof line.durationMs, 'number');
  assert.match(String(line.error), /TypeError\('bad input'\)/);
  // And the lifecycle lines: each process said it started, with its metrics port.
  const started = stderrLines()
    .filter((l) => l.includes('"msg":"started"'))
    .map((l) => JSON.parse(l) as { name: string; monitoringPort?: number });
  assert.deepEqual(started.map((s) => [s.name, s.monitoringPort]).sort(), [
    ['a', flow.monitoringPorts.a],
    ['b', flow.monitoringPorts.b],
    ['gateway', gatewayMetricsPort],
  ]);
});
