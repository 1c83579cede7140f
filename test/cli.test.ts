import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { Client, Document } from '../src/index.js';
import { freePort } from '../src/serve/gateway-runtime.js';

const cli = ['--import', 'tsx', 'src/cli/main.ts'];
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flowgate-cli-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

void test('flowgate flow --uses flow.yml serves the Flow; flags override the YAML; SIGTERM stops it', async () => {
  const fixture = resolve('test/fixtures/chain-executors.ts');
  const path = join(dir, 'flow.yml');
  await writeFile(
    path,
    `jtype: Flow\ngateway:\n  protocol: grpc\n  port: 1\nexecutors:\n  - name: a\n    uses: ${fixture}:Trail\n`,
  );
  const port = await freePort();
  const child = spawn(process.execPath, [...cli, 'flow', '--uses', path, '--port', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const lines = createInterface({ input: child.stderr });
  let ready = '';
  for await (const line of lines) {
    if (/is ready/.test(line)) {
      ready = line;
      break;
    }
  }
  assert.match(ready, new RegExp(`grpc://127\\.0\\.0\\.1:${port}`));
  const client = new Client({ port });
  const docs = await client.post('/chain', [new Document({ text: 'x' })]);
  assert.deepEqual(docs[0]!.tags.trail, ['a']);
  await client.close();
  child.kill('SIGTERM');
  const [code] = (await once(child, 'exit')) as [number];
  assert.equal(code, 0);
});

void test('flowgate flow with a bad YAML key prints one sentence naming file, line and key, exit 1', async () => {
  const path = join(dir, 'bad.yml');
  await writeFile(path, 'jtype: Flow\ngateway:\n  protocl: http\n');
  const child = spawn(process.execPath, [...cli, 'flow', '--uses', path], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  assert.equal(code, 1);
  assert.equal(err.trim().split('\n').length, 1, err);
  assert.match(
    err,
    new RegExp(
      `^flowgate: ${path.replace(/\./g, '\\.')}:3:3: unknown key 'protocl'.*did you mean 'protocol'`,
    ),
  );
});

void test('flowgate flow --help lists the gateway options from the schema', async () => {
  const child = spawn(process.execPath, [...cli, 'flow', '--help'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await once(child, 'exit');
  for (const flag of [
    '--protocol',
    '--prefetch',
    '--timeout-send',
    '--no-crud-endpoints',
    '--max-message-bytes',
  ])
    assert.ok(out.includes(flag), `${flag} missing from:\n${out}`);
  assert.match(out, /requests in flight per client stream/);
});

void test('flowgate --version prints the version of package.json', async () => {
  const { readFile } = await import('node:fs/promises');
  const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
  const child = spawn(process.execPath, [...cli, '--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await once(child, 'exit');
  assert.equal(out.trim(), pkg.version);
});
