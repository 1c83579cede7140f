/**
 * Deployments: one Executor served without writing a Flow, from code, YAML and the CLI, over each
 * protocol, with replicas and shards; `post` on a Flow and a Deployment.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { Client, Deployment, Document, DocumentArray, Flow } from '../src/index.js';
import * as flowgate from '../src/index.js';
import { WhoAmI } from './fixtures/topology-replicas.js';

const fixtures = resolve(import.meta.dirname, 'fixtures', 'topology-replicas.ts');
const docs = (n: number, p: string) =>
  new DocumentArray(Array.from({ length: n }, (_, i) => new Document({ id: `${p}${i}` })));

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flowgate-deployment-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

void test('Deployment is exported from the package', () => {
  assert.equal(flowgate.Deployment, Deployment);
});

void describe('a gRPC Deployment with 2 replicas, from code', () => {
  let dep: Deployment;
  before(async () => {
    dep = await new Deployment({
      uses: WhoAmI,
      protocol: 'grpc',
      replicas: 2,
      usesWith: { serialMs: 5 },
    }).start();
  });
  after(() => dep?.close());

  void test('post() shares the load over both replicas', async () => {
    assert.equal(dep.pids.length, 3, 'two replicas and a Gateway');
    const out = await dep.post('/', docs(40, 'g'), { requestSize: 1 });
    assert.deepEqual(out.ids.sort(), docs(40, 'g').ids.sort());
    assert.deepEqual([...new Set(out.map((d) => d.tags.replica))].sort(), [0, 1]);
  });

  void test('a Client reaches it as it would a Flow: Call, dry_run, _status', async () => {
    await using client = new Client({ port: dep.port });
    assert.equal(await client.isFlowReady(), true);
    const status = await client.status();
    assert.ok(status.jina, JSON.stringify(status));
    const out = await client.post('/', [new Document({ id: 'c' })]);
    assert.equal(out[0]!.id, 'c');
  });
});

void describe('an HTTP Deployment with 2 shards (a head)', () => {
  let dep: Deployment;
  before(async () => {
    dep = await new Deployment({ uses: WhoAmI, protocol: 'http', shards: 2 }).start();
  });
  after(() => dep?.close());

  void test("requests reach both shards through the head; the HTTP surface is a Flow's", async () => {
    assert.equal(dep.pids.length, 4, 'two shards, a head and a Gateway');
    assert.deepEqual(dep.protocols, ['http']);
    const out = await dep.post('/', docs(30, 'h'), { requestSize: 1 });
    assert.equal(out.length, 30);
    assert.deepEqual([...new Set(out.map((d) => d.tags.shard))].sort(), [0, 1]);
    const openapi = await fetch(`http://127.0.0.1:${dep.port}/openapi.json`);
    assert.equal(openapi.status, 200);
  });
});

void describe('a WebSocket Deployment from YAML (jtype: Deployment, with:), saved and loaded back', () => {
  let dep: Deployment;
  let path: string;
  before(async () => {
    path = join(dir, 'dep.yml');
    await writeFile(
      path,
      [
        'jtype: Deployment',
        'with:',
        '  uses: WhoAmI',
        `  py_modules: ${fixtures}`,
        '  protocol: websocket',
        '  replicas: 2',
      ].join('\n'),
    );
    dep = await (await Deployment.load(path)).start();
  });
  after(() => dep?.close());

  void test('it serves over WebSocket with its replicas', async () => {
    assert.deepEqual(dep.protocols, ['websocket']);
    const out = await dep.post('/', docs(20, 'w'), { requestSize: 1 });
    assert.equal(out.length, 20);
    assert.equal(dep.pids.length, 3);
  });

  void test('save() writes a Deployment YAML that load() reads back', async () => {
    const copy = join(dir, 'copy.yml');
    await dep.save(copy);
    const text = await readFile(copy, 'utf8');
    assert.match(text, /^jtype: Deployment\nwith:\n/);
    assert.deepEqual((await Deployment.load(copy)).toSpec(), dep.toSpec());
  });

  void test('the !Deployment tag works as jtype', async () => {
    const tagged = join(dir, 'tagged.yml');
    await writeFile(tagged, `!Deployment\nwith:\n  uses: ${fixtures}:WhoAmI\n  port: 0\n`);
    assert.equal((await Deployment.load(tagged)).toSpec().uses, `${fixtures}:WhoAmI`);
  });

  void test('a bad key names the file, line and key', async () => {
    const bad = join(dir, 'bad.yml');
    await writeFile(bad, 'jtype: Deployment\nwith:\n  uses: x.ts\n  replica: 2\n');
    await assert.rejects(
      Deployment.load(bad),
      /bad\.yml:4:3: unknown key 'replica' in the Deployment: did you mean 'replicas'\?/,
    );
  });
});

void test("flow.post() posts through the Flow's first protocol; client options can be overridden", async () => {
  await using flow = await new Flow()
    .configGateway({ protocol: ['http', 'grpc'] })
    .add({ uses: WhoAmI })
    .start();
  const out = await flow.post('/', [new Document({ id: 'p' })]);
  assert.equal(out[0]!.tags.replica, 0);
  const viaGrpc = await flow.post('/', [new Document({ id: 'q' })], {
    client: { protocol: 'grpc', port: flow.ports[1] },
  });
  assert.equal(viaGrpc[0]!.id, 'q');
});

void describe('the CLI', () => {
  const cli = ['--import', 'tsx', resolve('src/cli/main.ts')];

  void test('flowgate deployment --uses dep.yml serves it; flags override the YAML', async () => {
    const path = join(dir, 'cli-dep.yml');
    await writeFile(
      path,
      `jtype: Deployment\nwith:\n  uses: WhoAmI\n  py_modules: ${fixtures}\n  protocol: grpc\n`,
    );
    const child = spawn(
      process.execPath,
      [...cli, 'deployment', '--uses', path, '--protocol', 'http', '--replicas', '2'],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    try {
      let ready = '';
      for await (const line of createInterface({ input: child.stderr })) {
        if (/is ready on/.test(line)) {
          ready = line;
          break;
        }
      }
      const m = /http:\/\/127\.0\.0\.1:(\d+)/.exec(ready);
      assert.ok(m, ready);
      await using client = new Client({ protocol: 'http', port: Number(m[1]) });
      const out = await client.post('/', docs(20, 'c'), { requestSize: 1 });
      assert.deepEqual([...new Set(out.map((d) => d.tags.replica))].sort(), [0, 1]);
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });

  void test('flowgate export kubernetes and docker-compose take a Deployment YAML', async () => {
    const path = join(dir, 'export-dep.yml');
    await writeFile(
      path,
      `jtype: Deployment\nwith:\n  uses: ${fixtures}:WhoAmI\n  replicas: 2\n  port: 8080\n`,
    );
    const run = async (...args: string[]) => {
      const child = spawn(process.execPath, [...cli, 'export', ...args], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const [code] = (await once(child, 'exit')) as [number];
      assert.equal(code, 0, err);
    };
    const k8s = join(dir, 'k8s');
    await run('kubernetes', path, k8s, '--image', 'my:img');
    assert.ok(
      existsSync(join(k8s, 'executor.yml')) || existsSync(join(k8s, 'executor.yaml')),
      'a manifest for the Executor',
    );
    const compose = join(dir, 'compose.yml');
    await run('docker-compose', path, compose, '--image', 'my:img');
    assert.match(await readFile(compose, 'utf8'), /executor/);
  });
});
