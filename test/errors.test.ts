/**
 * The errors users meet print one sentence with the fix, not a stack trace, and docs/errors.md
 * lists exactly the known errors (generated from src/core/known-errors.ts).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { errorsMarkdown, explain, KNOWN_ERRORS } from '../src/core/known-errors.js';
import { freePort } from '../src/serve/gateway-runtime.js';
import { Client, Document, Flow } from '../src/index.js';

const cli = ['--import', 'tsx', 'src/cli/main.ts'];
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flowgate-errors-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs `flowgate flow --uses <yaml>`; its exit code and stderr lines. */
async function flowCli(yaml: string): Promise<{ code: number | null; lines: string[] }> {
  const path = join(dir, `flow-${Math.random().toString(36).slice(2)}.yml`);
  await writeFile(path, yaml);
  const child = spawn(process.execPath, [...cli, 'flow', '--uses', path], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, FLOWGATE_LOG_LEVEL: 'info' },
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, lines: err.split('\n').filter((l) => l.trim()) };
}

/** Exit 1, the last line is `flowgate: <sentence>` matching `sentence`, and no stack frames. */
function oneSentence(out: { code: number | null; lines: string[] }, sentence: RegExp): void {
  assert.equal(out.code, 1, out.lines.join('\n'));
  assert.match(out.lines.at(-1) ?? '', /^flowgate: /);
  assert.match(out.lines.at(-1)!, sentence);
  assert.deepEqual(
    out.lines.filter((l) => /^\s+at /.test(l)),
    [],
    `no stack trace:\n${out.lines.join('\n')}`,
  );
}

const TRAIL = resolve('test/fixtures/chain-executors.ts');

void test('docs/errors.md is generated from the known errors (npm run docs:errors)', () => {
  assert.equal(readFileSync('docs/errors.md', 'utf8'), errorsMarkdown());
  for (const k of KNOWN_ERRORS) assert.ok(k.fix.length > 10 && k.cause.length > 10, k.slug);
});

void test('port in use: one sentence naming the port and the fix', async () => {
  const port = await freePort();
  const holder: Server = createServer().listen(port, '127.0.0.1');
  await once(holder, 'listening');
  try {
    const out = await flowCli(
      `jtype: Flow\ngateway: { protocol: http, port: ${port} }\nexecutors:\n  - { name: a, uses: '${TRAIL}:Trail' }\n`,
    );
    oneSentence(out, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use: stop the process`));
  } finally {
    holder.close();
  }
});

void test('an Executor module that does not exist: one sentence naming the file', async () => {
  const out = await flowCli(`jtype: Flow\nexecutors:\n  - { name: m, uses: ${dir}/missing.ts:Missing }\n`);
  oneSentence(out, /executor m failed to start: cannot find the module .*missing\.ts: check the path/);
});

void test('an Executor module that throws on import: its error, in one line', async () => {
  await writeFile(
    join(dir, 'throws.ts'),
    "throw new RangeError('the model file is missing');\nexport class X {}\n",
  );
  const out = await flowCli(`jtype: Flow\nexecutors:\n  - { name: t, uses: ${dir}/throws.ts:X }\n`);
  oneSentence(out, /executor t failed to start: the model file is missing/);
});

void test('a class that is not an Executor: one sentence with the fix', async () => {
  await writeFile(join(dir, 'plain.ts'), 'export class Plain {}\n');
  const out = await flowCli(`jtype: Flow\nexecutors:\n  - { name: p, uses: ${dir}/plain.ts:Plain }\n`);
  oneSentence(out, /Plain does not extend Executor: declare it as `class Plain extends Executor`/);
});

void test('a bad YAML key: one sentence with file, line and the right key', async () => {
  const out = await flowCli('jtype: Flow\ngateway:\n  protocl: http\n');
  oneSentence(out, /flow-\w+\.yml:3:3: unknown key 'protocl' in the gateway: did you mean 'protocol'\?/);
});

void test('an unreachable Executor: the request fails naming it, its address and what to check', async () => {
  const dead = await freePort();
  const flow = new Flow().add({ name: 'gone', external: true, host: '127.0.0.1', port: dead });
  await flow.start();
  const client = new Client({ port: flow.port });
  try {
    await assert.rejects(
      client.post('/', [new Document()]),
      new RegExp(
        `(cannot reach|lost the connection to) Executor gone at 127\\.0\\.0\\.1:${dead}.*it may be down`,
      ),
    );
  } finally {
    await client.close();
    await flow.close();
  }
});

void test('explain() leaves messages it does not know as they are', () => {
  assert.equal(explain(new Error('something specific')), 'something specific');
  assert.match(
    explain(
      Object.assign(new Error('listen EADDRINUSE: address already in use :::8080'), { code: 'EADDRINUSE' }),
    ),
    /port 8080 .*already in use/,
  );
});
