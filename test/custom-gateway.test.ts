import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { Flow, GatewayStreamer } from '../src/index.js';
import { plainGatewayFlow } from './fixtures/custom-gateway-plain.js';

const FIXTURE = 'test/fixtures/custom-gateway-plain.ts';

/** Runs an example script and parses the JSON line it prints. */
async function runExample(name: string): Promise<Record<string, unknown>> {
  const child = spawn(process.execPath, ['--import', 'tsx', `examples/custom-gateway/${name}`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  assert.equal(code, 0, `${name} exited with ${code}: ${out}`);
  const line = out.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as Record<string, unknown>;
}

void test('example: a FastifyBaseGateway sends docs through the Flow with streamDocs', async () => {
  const out = await runExample('fastify-gateway.ts');
  assert.deepEqual(out.endpoint, { result: 'hello processed by the Flow' });
  assert.deepEqual(out.greeting, { greeting: 'hi from usesWith' });
  assert.deepEqual(out.viaGetStreamer, { texts: ['world processed by the Flow'] });
  assert.equal(out.health, 200);
});

void test('example: stream() yields Executor errors instead of throwing', async () => {
  const out = await runExample('error-recovery.ts');
  assert.deepEqual(out.ok, { results: ['hello processed'], errors: [] });
  assert.deepEqual(out.failed, { results: [], errors: ['RangeError'] });
});

void test('example: executor[name].post, in sequence > 4 s, in parallel < 2.5 s', async () => {
  const out = await runExample('parallel-executors.ts');
  const expected = ['hello saw the first executor', 'hello saw the second executor'];
  const seq = out.sequential as { result: string[]; timeTaken: number };
  const par = out.parallel as { result: string[]; timeTaken: number };
  assert.deepEqual(seq.result, expected);
  assert.ok(seq.timeTaken > 4, `sequential took ${seq.timeTaken} s`);
  assert.deepEqual(par.result, expected);
  assert.ok(par.timeTaken < 2.5, `parallel took ${par.timeTaken} s`);
});

void test('a Gateway class (on node:http) reaches the child from the file that configured it', async () => {
  const flow = plainGatewayFlow();
  await flow.start();
  try {
    const res = await fetch(`http://127.0.0.1:${flow.port}/echo?text=abc`);
    assert.deepEqual(await res.json(), { texts: ['ABC'], suffix: '!', name: 'gateway' });
  } finally {
    await flow.close();
  }
});

void test("uses as a 'file.ts:Class' string, with usesWith", async () => {
  const flow = new Flow()
    .configGateway({
      uses: `${FIXTURE}:PlainHttpGateway`,
      protocol: 'http',
      usesWith: { suffix: '?' },
    })
    .add({ uses: `${FIXTURE}:Upper` });
  await flow.start();
  try {
    const res = await fetch(`http://127.0.0.1:${flow.port}/echo?text=x`);
    assert.deepEqual(await res.json(), { texts: ['X'], suffix: '?', name: 'gateway' });
  } finally {
    await flow.close();
  }
});

void test('a custom Gateway that does not answer GET / fails start() and leaves nothing running', async () => {
  const flow = new Flow()
    .configGateway({ uses: `${FIXTURE}:NoHealthGateway`, protocol: 'http' })
    .add({ uses: `${FIXTURE}:Upper` });
  await assert.rejects(flow.start(), /custom Gateway must answer GET \/ with status 200/);
  assert.deepEqual(flow.pids, []);
});

void test('GatewayStreamer.getStreamer() outside a Gateway is a clear error', () => {
  assert.throws(() => GatewayStreamer.getStreamer(), /only in a running Gateway/);
});

void test('example: a custom gRPC Gateway passes the health check with addHealthService, getStreamer() from a separate module', async () => {
  const out = await runExample('grpc-gateway.ts');
  assert.deepEqual(out.response, { texts: ['hello!', 'world!'] });
});

void test('example: GatewayStreamer.getStreamer() from a worker thread of the Gateway', async () => {
  const out = await runExample('worker-thread.ts');
  assert.deepEqual(out, { status: 200, body: { texts: ['HEY!', 'HEY2!'] } });
});
