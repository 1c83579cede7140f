import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client, Code, Document, DocumentArray, Flow, FlowgateError, WorkerRuntime } from '../src/index.js';
import { WhoAmI } from './fixtures/topology-replicas.js';

/** Resolves once `path` exists (a file the Executor writes when it has started). */
async function fileAppears(path: string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > until) throw new Error(`${path} did not appear within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function docs(n: number, prefix: string): DocumentArray {
  return new DocumentArray(Array.from({ length: n }, (_, i) => new Document({ id: `${prefix}${i}` })));
}

void describe('3 replicas with the default retries', () => {
  let dir: string;
  let flow: Flow;
  let client: Client;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flowgate-replicas-'));
    // restartPolicy 'never': these tests are about the survivors (restarts: test/faults.test.ts)
    flow = new Flow().add({
      name: 'rep',
      uses: WhoAmI,
      replicas: 3,
      usesWith: { serialMs: 5, dir },
      restartPolicy: 'never',
    });
    await flow.start();
    client = new Client({ port: flow.port });
  });

  after(async () => {
    await client?.close();
    await flow?.close();
    await rm(dir, { recursive: true, force: true });
  });

  void test('start 3 processes and share the load: each replica serves requests', async () => {
    assert.equal(flow.pids.length, 4, 'three replicas and a Gateway');
    const out = await client.post('/', docs(60, 'd'), { requestSize: 1 });
    assert.equal(out.length, 60);
    const perReplica = new Map<unknown, number>();
    for (const d of out) perReplica.set(d.tags.replica, (perReplica.get(d.tags.replica) ?? 0) + 1);
    assert.deepEqual([...perReplica.keys()].sort(), [0, 1, 2], JSON.stringify([...perReplica]));
    for (const [replica, n] of perReplica)
      assert.ok(n >= 5, `replica ${String(replica)} served only ${n} of 60`);
    const pids = new Set(out.map((d) => d.tags.pid));
    assert.deepEqual([...pids].sort(), flow.pids.slice(0, 3).sort());
  });

  void test('a replica killed with a request in flight: that request fails, it is not run twice; the rest moves on', async () => {
    const held = client.post('/hold', [new Document({ id: 'held' })]);
    await fileAppears(join(dir, 'held.pid'));
    const victim = Number(await readFile(join(dir, 'held.pid'), 'utf8'));
    process.kill(victim, 'SIGKILL');
    // Had the Gateway sent the request to another replica, that one would hold it too and this
    // would never settle.
    await assert.rejects(held, (err: unknown) => {
      assert.ok(err instanceof FlowgateError, String(err));
      assert.equal(err.code, Code.Unavailable);
      assert.match(err.message, /Executor rep at 127\.0\.0\.1:\d+/);
      return true;
    });
    assert.equal(await readFile(join(dir, 'hold.log'), 'utf8'), `held ${victim}\n`);

    // Every later request is answered by the survivors; those the balancer sends to the dead replica
    // never reach it and move on.
    const out = await client.post('/', docs(60, 'after'), { requestSize: 1 });
    assert.deepEqual(out.ids.sort(), docs(60, 'after').ids.sort());
    const pids = new Set(out.map((d) => d.tags.pid));
    assert.equal(pids.has(victim), false);
    assert.equal(pids.size, 2);
  });
});

void describe('3 replicas with retries set, one killed mid-run', () => {
  let flow: Flow;
  let client: Client;

  before(async () => {
    flow = new Flow()
      .configGateway({ retries: 3 })
      .add({ name: 'rep', uses: WhoAmI, replicas: 3, usesWith: { serialMs: 4 }, restartPolicy: 'never' });
    await flow.start();
    client = new Client({ port: flow.port });
  });

  after(async () => {
    await client?.close();
    await flow?.close();
  });

  void test('every request is still answered, once', async () => {
    const replicaPids = flow.pids.slice(0, 3);
    const victim = replicaPids[0]!;
    const answered: string[] = [];
    const failed: string[] = [];
    const servedBy = new Set<unknown>();
    let victimServed = 0;
    let killed = false;
    let answeredAtKill = 0;
    await client
      .post('/', docs(300, 'k'), {
        requestSize: 1,
        onDone: (r) => {
          for (const d of r.docs) {
            answered.push(d.id);
            servedBy.add(d.tags.pid);
            if (d.tags.pid === victim) victimServed++;
          }
          // Mid-run: once the victim has answered a few, while it still holds many in flight.
          if (victimServed === 5 && !killed) {
            killed = true;
            answeredAtKill = answered.length;
            process.kill(victim, 'SIGKILL');
          }
        },
        onError: (r) => {
          failed.push(r.status?.description ?? 'error');
        },
      })
      .catch((err: unknown) => {
        throw new Error(`the post failed after ${answered.length} answers: ${String(err)}`);
      });
    assert.equal(killed, true, 'the replica was killed mid-run');
    assert.ok(answeredAtKill < 200, `killed after ${answeredAtKill} of 300 answers: not mid-run`);
    assert.deepEqual(failed, []);
    assert.equal(answered.length, 300, 'every request answered once');
    assert.deepEqual(answered.sort(), docs(300, 'k').ids.sort());
    assert.ok(
      servedBy.has(victim),
      `the killed replica ${victim} served requests before it died (served by ${[...servedBy].join(', ')}; replicas ${replicaPids.join(', ')})`,
    );
  });

  void test('afterwards the two survivors answer everything', async () => {
    const out = await client.post('/', docs(100, 'z'), { requestSize: 1 });
    assert.deepEqual(out.ids.sort(), docs(100, 'z').ids.sort());
    assert.equal(new Set(out.map((d) => d.tags.pid)).size, 2);
  });
});

void describe('external Executors: a list of hosts is a list of replicas', () => {
  const workers = [0, 1].map(
    (i) =>
      new WorkerRuntime({ executor: new WhoAmI({ metas: { name: 'ext' }, runtimeArgs: { replicaId: i } }) }),
  );
  let flow: Flow;
  let client: Client;

  before(async () => {
    const ports = await Promise.all(workers.map((w) => w.start()));
    flow = new Flow().add({
      name: 'ext',
      external: true,
      host: [`127.0.0.1:${ports[0]}`, '127.0.0.1'],
      port: [0, ports[1]!],
    });
    await flow.start();
    client = new Client({ port: flow.port });
  });

  after(async () => {
    await client?.close();
    await flow?.close();
    await Promise.all(workers.map((w) => w.close()));
  });

  void test('the Gateway balances over every external replica and starts no process for them', async () => {
    assert.equal(flow.pids.length, 1, 'only the Gateway runs as a child');
    const out = await client.post('/', docs(40, 'e'), { requestSize: 1 });
    assert.equal(out.length, 40);
    assert.deepEqual([...new Set(out.map((d) => d.tags.replica))].sort(), [0, 1]);
  });
});
