import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client, Document } from '../src/index.js';
import { freePort, GatewayRuntime } from '../src/serve/gateway-runtime.js';
import { checkHealth, createJinaClient } from '../src/transport/grpc/link.js';

const cli = ['--import', 'tsx', 'src/cli/main.ts'];
const fixture = resolve('test/fixtures/drain-executors.ts');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts `flowgate <args>` and resolves once its stderr prints a line matching `ready`. */
async function startCli(args: string[], ready: RegExp): Promise<{ child: ChildProcess; log: () => string }> {
  const child = spawn(process.execPath, [...cli, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  await new Promise<void>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready within 60 s:\n${log}`)), 60_000);
    child.stderr.on('data', (d: Buffer) => {
      log += d.toString();
      if (ready.test(log)) {
        clearTimeout(timer);
        resolveReady();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before it was ready:\n${log}`));
    });
  });
  return { child, log: () => log };
}

async function startExecutor(port: number): Promise<ChildProcess> {
  const { child } = await startCli(
    [
      'executor',
      '--uses',
      `${fixture}:Where`,
      '--name',
      'where',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
    ],
    /serving gRPC/,
  );
  return child;
}

function exitCode(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return once(child, 'exit').then(([code]) => code as number | null);
}

void describe('SIGTERM to one of two replicas under continuous load', () => {
  const children: ChildProcess[] = [];
  let gateway: GatewayRuntime;
  let client: Client;

  before(async () => {
    const ports = [await freePort(), await freePort()];
    children.push(...(await Promise.all(ports.map((p) => startExecutor(p)))));
    gateway = new GatewayRuntime({
      protocols: ['grpc'],
      nodes: [{ name: 'where', needs: ['gateway'] }],
      addresses: { where: ports.map((p) => `127.0.0.1:${p}`) },
    });
    const [port] = await gateway.start();
    client = new Client({ port });
  });

  after(async () => {
    await client?.close();
    await gateway?.close();
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  });

  void test('no request fails, the stopped replica exits 0, the other takes over', async () => {
    const [victim, survivor] = children as [ChildProcess, ChildProcess];
    const served = new Map<number, number>();
    let ok = 0;
    const failures: string[] = [];
    let stop = false;
    let sentAfterTerm = 0;
    let termAt = 0;
    const servedAfterTerm = new Map<number, number>();
    const loop = async (k: number) => {
      for (let i = 0; !stop; i++) {
        const afterTerm = termAt > 0;
        try {
          const out = await client.post('/', [new Document({ id: `${k}-${i}` })], { parameters: { ms: 5 } });
          const pid = out[0]!.tags.pid as number;
          served.set(pid, (served.get(pid) ?? 0) + 1);
          if (afterTerm) {
            sentAfterTerm++;
            servedAfterTerm.set(pid, (servedAfterTerm.get(pid) ?? 0) + 1);
          }
          ok++;
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    };
    const loops = Array.from({ length: 8 }, (_, k) => loop(k));
    // Both replicas are under load before one is stopped.
    for (
      let waited = 0;
      !((served.get(victim.pid!) ?? 0) > 20 && (served.get(survivor.pid!) ?? 0) > 20);
      waited += 50
    ) {
      assert.ok(waited < 30_000, 'both replicas serve requests');
      await sleep(50);
    }
    termAt = Date.now();
    victim.kill('SIGTERM');
    const code = await exitCode(victim);
    const drainMs = Date.now() - termAt;
    await sleep(1000); // load goes on after it is gone
    stop = true;
    await Promise.all(loops);
    process.stderr.write(
      `drain: ${ok} requests answered, ${failures.length} failed, ${sentAfterTerm} sent after SIGTERM ` +
        `(victim answered ${servedAfterTerm.get(victim.pid!) ?? 0} of them), victim exited ${code} after ${drainMs} ms\n`,
    );
    assert.deepEqual(failures, []);
    assert.equal(code, 0);
    assert.ok((served.get(survivor.pid!) ?? 0) > 0);
    assert.ok(sentAfterTerm > 0);
    assert.ok(drainMs < 5000, `the idle replica drained in ${drainMs} ms`);
  });
});

void describe('SIGTERM to the Gateway (flowgate flow)', () => {
  let dir: string;
  let executor: ChildProcess;
  let flow: ChildProcess;
  let port: number;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flowgate-drain-'));
    const execPort = await freePort();
    executor = await startExecutor(execPort);
    const path = join(dir, 'flow.yml');
    await writeFile(
      path,
      `jtype: Flow\nexecutors:\n  - name: where\n    external: true\n    host: 127.0.0.1\n    port: ${execPort}\n`,
    );
    port = await freePort();
    ({ child: flow } = await startCli(
      ['flow', '--uses', path, '--protocol', 'http', '--port', String(port)],
      /is ready/,
    ));
  });

  after(async () => {
    for (const c of [flow, executor]) if (c && c.exitCode === null) c.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  void test('GET / answers 503 while the request in flight is answered; then it exits 0', async () => {
    const base = `http://127.0.0.1:${port}`;
    assert.equal((await fetch(`${base}/`)).status, 200);
    const slow = fetch(`${base}/post`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ data: [{ text: 'x' }], execEndpoint: '/slow' }),
    });
    await sleep(300);
    flow.kill('SIGTERM');
    // Not ready from SIGTERM on, while it still answers (the request in flight holds it open).
    let health = 200;
    const until = Date.now() + 3000;
    while (health === 200 && Date.now() < until) {
      await sleep(20);
      health = await fetch(`${base}/`).then(
        (r) => r.status,
        () => -1,
      );
    }
    assert.equal(health, 503, `GET / while draining: ${health} (-1: refused)`);
    const res = await slow;
    assert.equal(res.status, 200);
    const body = (await res.json()) as { data: { tags: { pid: number } }[] };
    assert.equal(body.data[0]!.tags.pid, executor.pid);
    assert.equal(await exitCode(flow), 0);
  });
});

void describe('closing a gRPC Gateway (what SIGTERM runs)', () => {
  let executor: ChildProcess;
  let execPort: number;

  before(async () => {
    execPort = await freePort();
    executor = await startExecutor(execPort);
  });

  after(() => {
    if (executor.exitCode === null) executor.kill('SIGKILL');
  });

  void test('health turns NOT_SERVING at once; the request in flight is still answered', async () => {
    const gateway = new GatewayRuntime({
      protocols: ['grpc'],
      nodes: [{ name: 'where', needs: ['gateway'] }],
      addresses: { where: [`127.0.0.1:${execPort}`] },
    });
    const [port] = await gateway.start();
    const client = new Client({ port });
    const health = createJinaClient(`127.0.0.1:${port!}`);
    try {
      assert.equal(await checkHealth(health), true);
      const slow = client.post('/slow', [new Document({ text: 'x' })]);
      await sleep(300);
      const closed = gateway.close();
      assert.equal(await checkHealth(health), false);
      const docs = await slow;
      assert.equal(docs[0]!.tags.pid, executor.pid);
      await closed;
    } finally {
      health.close();
      await client.close();
    }
  });
});
