/**
 * An Executor's own `timeoutSend` and `retries` (Flow YAML `timeout_send`, `flow.add({ retries })`)
 * take effect for that Executor, the Gateway's values being the default.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client, Code, Document, DocumentArray, Flow, FlowgateError } from '../src/index.js';
import { WhoAmI } from './fixtures/topology-replicas.js';

const fixtures = resolve(import.meta.dirname, 'fixtures', 'topology-replicas.ts');

void describe('Flow YAML: an Executor with timeout_send', () => {
  let dir: string;
  let flow: Flow;
  let client: Client;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flowgate-calls-'));
    const yml = join(dir, 'flow.yml');
    await writeFile(
      yml,
      [
        'jtype: Flow',
        'gateway:',
        '  timeout_send: 2500', // the default: the patient Executor (1 s) fits in it
        'executors:',
        '  - name: hasty',
        '    uses: Slow',
        `    py_modules: ${fixtures}`,
        '    with: { delayMs: 3000 }',
        '    timeout_send: 500',
        '  - name: patient', // after hasty: a post targets one or the other
        '    uses: Slow',
        `    py_modules: ${fixtures}`,
        '    with: { delayMs: 1000 }',
      ].join('\n'),
    );
    flow = await Flow.load(yml);
    await flow.start();
    client = new Client({ port: flow.port });
  });

  after(async () => {
    await client?.close();
    await flow?.close();
    await rm(dir, { recursive: true, force: true });
  });

  void test('the 3 s Executor fails at its own 500 ms deadline, naming it', async () => {
    const started = Date.now();
    await assert.rejects(
      client.post('/slow', [new Document()], { targetExecutor: 'hasty' }),
      (err: unknown) => {
        assert.ok(err instanceof FlowgateError, String(err));
        assert.equal(err.code, Code.DeadlineExceeded);
        assert.match(
          err.message,
          /Executor hasty at 127\.0\.0\.1:\d+ did not answer within timeoutSend=500 ms/,
        );
        return true;
      },
    );
    const ms = Date.now() - started;
    assert.ok(ms < 1500, `answered after ${ms} ms: the Executor's timeout_send was not applied`);
  });

  void test("the other Executor keeps the Gateway's deadline (2.5 s) and answers after 1 s", async () => {
    const out = await client.post('/slow', [new Document()], { targetExecutor: 'patient' });
    assert.equal(out[0]!.tags.slow, true);
  });
});

void describe('flow.add({ replicas: 3, retries: 2 }) with a replica killed every 2 s under load', () => {
  let flow: Flow;
  let client: Client;

  before(async () => {
    // Killed replicas are restarted (the default policy); only the Executor sets retries.
    flow = new Flow().add({ name: 'rep', uses: WhoAmI, replicas: 3, retries: 2, usesWith: { serialMs: 3 } });
    await flow.start();
    client = new Client({ port: flow.port });
  });

  after(async () => {
    await client?.close();
    await flow?.close();
  });

  void test('every request is answered, once', async () => {
    const n = 6300;
    const answered = new Set<string>();
    const failed: string[] = [];
    let kills = 0;
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    const killer = setInterval(() => {
      // One replica at a time: the next is killed once the last one killed is back.
      const replicas = flow.pids.slice(0, -1).filter(alive); // the Gateway is last
      if (replicas.length < 3) return;
      const victim = replicas[kills % replicas.length]!;
      kills++;
      try {
        process.kill(victim, 'SIGKILL');
      } catch {
        // already gone (being restarted)
      }
    }, 2000);
    try {
      await client.post(
        '/',
        new DocumentArray(Array.from({ length: n }, (_, i) => new Document({ id: `r${i}` }))),
        {
          requestSize: 1,
          onDone: (r) => {
            for (const d of r.docs) answered.add(d.id);
          },
          onError: (r) => {
            failed.push(r.status?.description ?? 'error');
          },
        },
      );
    } finally {
      clearInterval(killer);
    }
    process.stderr.write(
      `per-Executor retries: ${n} requests sent, ${failed.length} lost, ${kills} replicas killed\n`,
    );
    assert.ok(kills >= 1, 'a replica was killed under load');
    assert.deepEqual(failed, []);
    assert.equal(answered.size, n);
  });
});
