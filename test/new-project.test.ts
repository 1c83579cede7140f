import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client, Document } from '../src/index.js';
import { freePort } from '../src/serve/gateway-runtime.js';

const repo = resolve('.');
// Absolute, so that it loads from any working directory.
const tsx = import.meta.resolve('tsx');
const cli = ['--import', tsx, join(repo, 'src/cli/main.ts')];

/** Runs `node args` in `cwd`; resolves to its exit code and output. */
async function run(args: string[], cwd: string): Promise<{ code: number | null; out: string; err: string }> {
  // Not as a child of this test runner: `node --test` in it then reports to us instead of stdout.
  const { NODE_TEST_CONTEXT: _ctx, ...env } = process.env;
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, out, err };
}

void describe('flowgate new', () => {
  let dir: string;
  let project: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flowgate-new-'));
    project = join(dir, 'hello-flow');
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  void test('writes an Executor, a Flow YAML, a test, a Dockerfile, package.json and a README', async () => {
    const r = await run([...cli, 'new', project], dir);
    assert.equal(r.code, 0, r.err);
    for (const f of [
      'package.json',
      'executor.ts',
      'flow.yml',
      'test/flow.test.ts',
      'Dockerfile',
      'README.md',
    ])
      assert.ok((await readFile(join(project, f), 'utf8')).length > 0, f);
    const pkg = JSON.parse(await readFile(join(project, 'package.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(pkg.name, 'hello-flow');
    assert.equal(pkg.type, 'module');
    assert.match(await readFile(join(project, 'Dockerfile'), 'utf8'), /^FROM \$\{FLOWGATE_IMAGE\}$/m);
    assert.match(r.out, /npm install/);
  });

  void test('refuses a folder that is not empty, saying so', async () => {
    const busy = join(dir, 'busy');
    await mkdir(busy);
    await writeFile(join(busy, 'keep.txt'), 'mine');
    const r = await run([...cli, 'new', busy], dir);
    assert.equal(r.code, 1);
    assert.match(r.err, /^flowgate: .*busy is not empty \(1 entries\): give a new or empty folder\n$/);
    assert.equal(await readFile(join(busy, 'keep.txt'), 'utf8'), 'mine');
  });

  void describe('the generated project, with flowgate resolved to this repository', () => {
    before(() => linkFlowgate(project));

    void test('flowgate flow --uses flow.yml serves it: a posted document comes back greeted', async () => {
      await servesAndGreets(project, 'flow', 'flow.yml');
    });

    void test("the project's own test passes (npm test's command)", async () => {
      const r = await run(['--import', tsx, '--test', 'test/flow.test.ts'], project);
      assert.equal(r.code, 0, r.out + r.err);
      assert.match(r.out, /# pass 1/);
    });
  });
});

void describe('flowgate new --deployment', () => {
  let dir: string;
  let project: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flowgate-new-dep-'));
    project = join(dir, 'hello-model');
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  void test('writes an Executor, a Deployment YAML (jtype: Deployment), its test, and a README line to serve it', async () => {
    const r = await run([...cli, 'new', '--deployment', project], dir);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /deployment\.yml/);
    assert.doesNotMatch(r.out, /flow\.yml/);
    const yml = await readFile(join(project, 'deployment.yml'), 'utf8');
    assert.match(yml, /^jtype: Deployment$/m);
    assert.match(yml, /^ {2}uses: Greeter$/m);
    assert.match(
      await readFile(join(project, 'README.md'), 'utf8'),
      /npx flowgate deployment --uses deployment\.yml/,
    );
    const pkg = JSON.parse(await readFile(join(project, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    assert.equal(pkg.scripts.start, 'flowgate deployment --uses deployment.yml');
    assert.match(
      await readFile(join(project, 'Dockerfile'), 'utf8'),
      /^CMD \["deployment", "--uses", "deployment\.yml"\]$/m,
    );
    const both = await run([...cli, 'new', '--deployment', '--flow', join(dir, 'x')], dir);
    assert.equal(both.code, 1);
    assert.match(both.err, /--deployment and --flow: give one of them/);
  });

  void describe('the generated project, with flowgate resolved to this repository', () => {
    before(() => linkFlowgate(project));

    void test('flowgate deployment --uses deployment.yml serves it over gRPC and HTTP', async () => {
      await servesAndGreets(project, 'deployment', 'deployment.yml');
    });

    void test("the project's own test passes (npm test's command)", async () => {
      const r = await run(['--import', tsx, '--test', 'test/deployment.test.ts'], project);
      assert.equal(r.code, 0, r.out + r.err);
      assert.match(r.out, /# pass 2/);
    });
  });
});

/**
 * Resolves `flowgate` in the generated project to this repository's sources (the copy the CLI runs),
 * as `npm install` would give the published package, and `tsx` to this repository's.
 */
async function linkFlowgate(project: string): Promise<void> {
  const pkg = join(project, 'node_modules/flowgate');
  await mkdir(pkg, { recursive: true });
  await writeFile(join(pkg, 'package.json'), '{"name":"flowgate","type":"module","main":"index.js"}\n');
  await writeFile(join(pkg, 'index.js'), `export * from ${JSON.stringify(join(repo, 'src/index.ts'))};\n`);
  await symlink(join(repo, 'node_modules/tsx'), join(project, 'node_modules/tsx'));
}

/**
 * Runs `flowgate <command> --uses <yml>` in the project on a gRPC and an HTTP port, checks a
 * document posted over each comes back greeted, and that SIGTERM stops it with code 0.
 */
async function servesAndGreets(project: string, command: string, yml: string): Promise<void> {
  const [grpcPort, httpPort] = [await freePort(), await freePort()];
  const child = spawn(
    process.execPath,
    [...cli, command, '--uses', yml, '--port', `${grpcPort},${httpPort}`],
    { cwd: project, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  await new Promise<void>((ready, fail) => {
    child.stderr.on('data', (d: Buffer) => {
      log += d.toString();
      if (/is ready/.test(log)) ready();
    });
    child.once('exit', (code) => fail(new Error(`exited ${code}:\n${log}`)));
  });
  try {
    const client = new Client({ port: grpcPort });
    const docs = await client.post('/', [new Document({ text: 'Ada' })]);
    assert.deepEqual(docs.texts, ['hello, Ada']);
    await client.close();
    const res = await fetch(`http://127.0.0.1:${httpPort}/post`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        data: [{ text: 'Bob' }],
        execEndpoint: '/',
        parameters: { greeting: 'hi' },
      }),
    });
    const body = (await res.json()) as { data: { text: string }[] };
    assert.equal(body.data[0]!.text, 'hi, Bob');
  } finally {
    child.kill('SIGTERM');
  }
  const [code] = (await once(child, 'exit')) as [number];
  assert.equal(code, 0, log);
}
