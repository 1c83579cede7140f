/**
 * What a Gateway process loads, checked from inside real processes: a user's TypeScript script run
 * with `node --import tsx` starts Flows from the built package, and every process it spawns writes
 * the modules it loaded (test/fixtures/footprint/module-report.mjs, preloaded through NODE_OPTIONS).
 */
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { repo, run, userEnv, userFolder } from './new-user/user-folder.js';

interface Report {
  pid: number;
  execArgv: string[];
  esm: string[];
  cjs: string[];
}

const EXECUTORS = `import { Executor, requests, type HandlerArgs } from 'flowgate';

export class Upper extends Executor {
  @requests()
  upper({ docs }: HandlerArgs) {
    for (const d of docs) d.text = (d.text ?? '').toUpperCase();
  }
}
`;

// TypeScript only (a type annotation, a parameter property): it loads only if tsx is registered.
const GATEWAY = `import { createServer, type Server } from 'node:http';
import { DocumentArray, Gateway } from 'flowgate';

export class PlainGateway extends Gateway {
  private server: Server | undefined;

  override async setupServer(): Promise<void> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/') return res.end('{}');
      void (async () => {
        const texts: string[] = [];
        const docs = new DocumentArray([{ text: url.searchParams.get('text') ?? '' }]);
        for await (const out of this.streamer.streamDocs({ docs })) texts.push(...out.texts);
        res.end(JSON.stringify({ texts }));
      })();
    });
  }

  override async runServer(): Promise<void> {
    const server = this.server!;
    await new Promise<void>((r) => server.listen(this.port, this.host, r));
    await new Promise<void>((r) => server.once('close', r));
  }

  override async shutdown(): Promise<void> {
    this.server?.close();
  }
}
`;

const MAIN = `import { fileURLToPath } from 'node:url';
import { Client, Document, DocumentArray, Flow } from 'flowgate';

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
const out: Record<string, unknown> = {};

const grpc = new Flow().configGateway({ protocol: 'grpc' }).add({ uses: here('./executors.ts') + ':Upper' });
await grpc.start();
try {
  const client = new Client({ host: '127.0.0.1', port: grpc.port, protocol: 'grpc' });
  const docs = await client.post('/', new DocumentArray([new Document({ text: 'abc' })]));
  await client.close();
  out.grpc = { texts: docs.texts, executorPid: grpc.pids[0], gatewayPid: grpc.pids.at(-1) };
} finally {
  await grpc.close();
}

const http = new Flow().configGateway({ protocol: 'http' }).add({ uses: here('./executors.ts') + ':Upper' });
await http.start();
try {
  const res = await fetch('http://127.0.0.1:' + http.port + '/post', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ data: [{ text: 'abc' }], execEndpoint: '/' }),
  });
  const body = (await res.json()) as { data: { text: string }[] };
  out.http = { texts: body.data.map((d) => d.text), gatewayPid: http.pids.at(-1) };
} finally {
  await http.close();
}

const custom = new Flow()
  .configGateway({ uses: here('./gateway.ts') + ':PlainGateway', protocol: 'http' })
  .add({ uses: here('./executors.ts') + ':Upper' });
await custom.start();
try {
  const res = await fetch('http://127.0.0.1:' + custom.port + '/echo?text=abc');
  out.custom = { answer: await res.json(), gatewayPid: custom.pids.at(-1) };
} finally {
  await custom.close();
}
console.log(JSON.stringify(out));
`;

let dir: string;
let remove: () => Promise<void>;
let out: {
  grpc: { texts: string[]; executorPid: number; gatewayPid: number };
  http: { texts: string[]; gatewayPid: number };
  custom: { answer: unknown; gatewayPid: number };
};

async function report(pid: number): Promise<Report> {
  return JSON.parse(await readFile(join(dir, 'reports', `${pid}.json`), 'utf8')) as Report;
}

/** The packages (under node_modules) among the modules of a report. */
function packages(r: Report): Set<string> {
  const names = new Set<string>();
  for (const m of [...r.esm, ...r.cjs]) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(m);
    if (match) names.add(match[1]!);
  }
  return names;
}

before(async () => {
  ({ dir, remove } = await userFolder({
    'package.json': JSON.stringify({ name: 'footprint', type: 'module', private: true }),
    'executors.ts': EXECUTORS,
    'gateway.ts': GATEWAY,
    'main.ts': MAIN,
  }));
  await mkdir(join(dir, 'reports'));
  const preload = pathToFileURL(join(repo, 'test/fixtures/footprint/module-report.mjs')).href;
  // tsx from flowgate's own dependencies, as a user's `node --import tsx` would find it.
  const tsx = pathToFileURL(join(repo, 'node_modules/tsx/dist/loader.mjs')).href;
  const done = await run(process.execPath, ['--import', tsx, 'main.ts'], dir, {
    env: userEnv({ NODE_OPTIONS: `--import=${preload}`, FLOWGATE_TEST_MODULE_REPORT: join(dir, 'reports') }),
  });
  assert.equal(done.code, 0, `main.ts exited ${done.code}:\n${done.err}`);
  out = JSON.parse(done.out.trim().split('\n').at(-1) ?? '') as typeof out;
});

after(async () => {
  await remove();
});

void test('a gRPC Gateway process loads neither tsx nor another protocol, metrics or tracing SDK', async () => {
  assert.deepEqual(out.grpc.texts, ['ABC']);
  const gateway = await report(out.grpc.gatewayPid);
  assert.ok(
    gateway.execArgv.every((a) => !a.includes('tsx')),
    `execArgv ${gateway.execArgv.join(' ')}`,
  );
  const loaded = packages(gateway);
  assert.ok(loaded.has('@grpc/grpc-js'), `the report saw the Gateway's modules: ${[...loaded].join(', ')}`);
  const unwanted = [
    'tsx',
    'esbuild',
    'fastify',
    '@fastify/swagger',
    '@fastify/swagger-ui',
    'graphql',
    'graphql-http',
    'ws',
    'prom-client',
    '@opentelemetry/sdk-trace-base',
    '@opentelemetry/exporter-trace-otlp-http',
    'zod',
    'commander',
    'undici',
  ].filter((p) => loaded.has(p));
  assert.deepEqual(unwanted, [], `the gRPC Gateway loaded ${unwanted.join(', ')}`);
});

void test('an HTTP Gateway that served data requests only loaded no OpenAPI, Swagger UI, Ajv or fast-json-stringify', async () => {
  assert.deepEqual(out.http.texts, ['ABC']);
  const r = await report(out.http.gatewayPid);
  const loaded = packages(r);
  assert.ok(loaded.has('fastify'), `the report saw the Gateway's modules: ${[...loaded].join(', ')}`);
  // Built on the first GET /openapi.json or /docs (server-openapi.ts); schemas only describe
  // (server-schema-compilers.ts).
  const unwanted = [
    '@fastify/swagger',
    '@fastify/swagger-ui',
    'yaml',
    'json-schema-resolver',
    '@fastify/ajv-compiler',
    '@fastify/fast-json-stringify-compiler',
    'ajv',
    'ajv-formats',
    'graphql',
    'ws',
    'tsx',
  ].filter((p) => loaded.has(p));
  assert.deepEqual(unwanted, [], `the HTTP Gateway loaded ${unwanted.join(', ')}`);
  // Fastify's own error serializer needs fast-json-stringify's small runtime, not its compiler.
  const compiler = r.cjs.filter((m) => /node_modules\/fast-json-stringify\/index\.js$/.test(m));
  assert.deepEqual(compiler, []);
});

void test('the Executor keeps the parent tsx (its module is TypeScript)', async () => {
  const executor = await report(out.grpc.executorPid);
  assert.ok(
    executor.execArgv.some((a) => a.includes('tsx')),
    `execArgv ${executor.execArgv.join(' ')}`,
  );
});

void test('a custom Gateway written in TypeScript still loads: tsx is registered when it is imported', async () => {
  assert.deepEqual(out.custom.answer, { texts: ['ABC'] });
  const gateway = await report(out.custom.gatewayPid);
  assert.ok(
    gateway.execArgv.every((a) => !a.includes('tsx')),
    `execArgv ${gateway.execArgv.join(' ')}`,
  );
  assert.ok(packages(gateway).has('tsx'));
});
