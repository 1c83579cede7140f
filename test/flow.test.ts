import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client, Document, DocumentArray, ExecutorError, Flow } from '../src/index.js';
import { Other, Trail } from './fixtures/chain-executors.js';

/** True while a process with this id exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    assert.equal((err as NodeJS.ErrnoException).code, 'ESRCH');
    return false;
  }
}

/** The ids of this process's direct children (Linux: /proc/<pid>/task/<tid>/children). */
async function childPids(): Promise<number[]> {
  const tasks = await readdir(`/proc/${process.pid}/task`);
  const out: number[] = [];
  for (const t of tasks) {
    const text = await readFile(`/proc/${process.pid}/task/${t}/children`, 'utf8').catch(() => '');
    out.push(...text.split(/\s+/).filter(Boolean).map(Number));
  }
  return out;
}

void describe('a Flow of three Executors in a chain', () => {
  const flow = new Flow()
    .add({ name: 'alpha', uses: Trail })
    .add({ name: 'beta', uses: Other })
    .add({ name: 'gamma', uses: Trail, usesWith: { mark: 'G!' } });
  let client: Client;

  before(async () => {
    await flow.start();
    client = new Client({ port: flow.port });
  });

  after(async () => {
    await client?.close();
    await flow.close();
  });

  void test('the Flow is ready and reports its environment', async () => {
    assert.equal(await client.isFlowReady(), true);
    const status = await client.status();
    assert.equal(typeof status.jina.flowgate, 'string');
    assert.equal(status.jina.node, process.versions.node);
    assert.ok('FLOWGATE_LOG_LEVEL' in status.envs, JSON.stringify(status.envs));
  });

  void test('only the Executors that bind the endpoint are called, in chain order', async () => {
    const docs = await client.post('/chain', [new Document({ text: 'x' })]);
    assert.deepEqual(docs.texts, ['x']);
    // usesWith reached gamma's constructor: its mark is 'G!', not its name
    assert.deepEqual(docs[0]!.tags.trail, ['alpha', 'G!']);
    assert.equal(docs[0]!.tags.other, undefined);

    const responses = await client.post('/chain', [new Document({ text: 'y' })], { returnResponses: true });
    assert.equal(responses.length, 1);
    assert.deepEqual(
      responses[0]!.routes.map((r) => r.executor),
      ['gateway', 'alpha', 'gamma'],
    );

    const other = await client.post('/other', [new Document({ text: 'z' })], { returnResponses: true });
    assert.deepEqual(
      other[0]!.routes.map((r) => r.executor),
      ['gateway', 'beta'],
    );
    assert.equal(other[0]!.docs[0]!.tags.other, 'beta');
    assert.equal(other[0]!.docs[0]!.tags.trail, undefined);
  });

  void test('an Executor error rejects the post with an ExecutorError; the next post works', async () => {
    await assert.rejects(client.post('/fail', [new Document({ text: 'x' })]), (err: unknown) => {
      assert.ok(err instanceof ExecutorError, String(err));
      assert.equal(err.executor, 'beta');
      assert.equal(err.exceptionName, 'TypeError');
      assert.deepEqual(err.args, ['bad input']);
      assert.match(err.message, /beta/);
      assert.match(err.message, /TypeError/);
      assert.match(err.message, /bad input/);
      return true;
    });
    const docs = await client.post('/chain', [new Document({ text: 'after' })]);
    assert.deepEqual(docs[0]!.tags.trail, ['alpha', 'G!']);
  });

  void test('10,000 docs in requests of 100 arrive complete and in order', async () => {
    const n = 10_000;
    const inputs = new DocumentArray(
      Array.from({ length: n }, (_, i) => new Document({ id: `d${i}`, text: `${i}` })),
    );
    const docs = await client.post('/chain', inputs, { requestSize: 100, resultsInOrder: true });
    assert.equal(docs.length, n);
    assert.deepEqual(docs.ids, inputs.ids);
    for (const d of docs) assert.deepEqual(d.tags.trail, ['alpha', 'G!']);
  });

  void test('close() leaves no child process behind', async () => {
    const pids = flow.pids;
    assert.equal(pids.length, 4, `expected 3 Executors and a Gateway, got pids ${pids.join(', ')}`);
    for (const pid of pids) assert.equal(alive(pid), true, `pid ${pid} is not running before close()`);
    await client.close();
    await flow.close();
    assert.deepEqual(flow.pids, []);
    for (const pid of pids) assert.equal(alive(pid), false, `pid ${pid} outlived flow.close()`);
  });
});

void describe('a Flow whose Executor cannot be imported', () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flowgate-broken-'));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  void test('start() rejects naming the Executor and its error in one sentence, and leaves nothing running', async () => {
    const path = join(dir, 'broken.mjs');
    await writeFile(path, "throw new Error('kaboom while importing the module');\nexport class Broken {}\n");
    const flow = new Flow()
      .add({ name: 'fine', uses: Trail })
      .add({ name: 'broken', uses: `${path}:Broken` });
    const before = new Set(await childPids());
    await assert.rejects(flow.start(), (err: unknown) => {
      assert.ok(err instanceof Error);
      assert.match(err.message, /broken/);
      assert.match(err.message, /^executor broken failed to start: kaboom while importing the module$/);
      return true;
    });
    assert.deepEqual(flow.pids, []);
    const leftover = (await childPids()).filter((p) => !before.has(p));
    assert.deepEqual(leftover, [], `child processes outlived the failed start: ${leftover.join(', ')}`);
    await flow.close();
  });
});
