/**
 * Executor processes that crash mid-request (process.exit, an uncaught exception, SIGKILL) or hang:
 * the caller gets a clear error naming the Executor within its timeout, the Flow restarts the
 * process (on the same port, with back-off), and later requests work, over every protocol.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { Client, Document, Flow } from '../src/index.js';
import type { ClientProtocol } from '../src/client/client.js';

const FIXTURE = 'test/fixtures/fault-executors.ts:Fragile';
const protocols: ClientProtocol[] = ['grpc', 'http', 'websocket'];
const flow = new Flow()
  .configGateway({ protocol: protocols, timeoutSend: 3000 })
  .add({ name: 'fragile', uses: FIXTURE });

before(async () => {
  await flow.start();
});
after(async () => {
  await flow.close();
});

/** The pid that serves /tag now, retrying while the Executor restarts (up to `ms`). */
async function servingPid(protocol: ClientProtocol, ms = 20_000): Promise<number> {
  const client = new Client({ protocol, port: flow.ports[protocols.indexOf(protocol)]! });
  const deadline = Date.now() + ms;
  try {
    for (;;) {
      try {
        const docs = await client.post('/tag', [new Document({ text: 'x' })]);
        return docs[0]!.tags.pid as number;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await sleep(200);
      }
    }
  } finally {
    await client.close();
  }
}

const crashes: [how: string, endpoint: string][] = [
  ['process.exit(3)', '/exit'],
  ['an uncaught exception', '/uncaught'],
  ['SIGKILL', '/hang'],
];

for (const [i, [how, endpoint]] of crashes.entries()) {
  const protocol = protocols[i % protocols.length]!;
  void test(`an Executor killed by ${how} mid-request (${protocol}): a clear error, then it is restarted`, async () => {
    const before = await servingPid(protocol);
    const client = new Client({ protocol, port: flow.ports[protocols.indexOf(protocol)]! });
    const started = Date.now();
    try {
      const pending = client.post(endpoint, [new Document({ text: 'crash' })]);
      if (how === 'SIGKILL') {
        await sleep(300);
        process.kill(before, 'SIGKILL');
      }
      await assert.rejects(pending, (err: Error) => {
        assert.match(err.message, /fragile/, `the error names the Executor: ${err.message}`);
        return true;
      });
      assert.ok(Date.now() - started < 5000, `answered in ${Date.now() - started} ms`);
    } finally {
      await client.close();
    }
    const after = await servingPid(protocol);
    assert.notEqual(after, before, 'a new process serves the Executor');
    assert.ok(flow.pids.includes(after), 'the Flow knows the new process (and close() stops it)');
  });
}

void test('a hung Executor: timeoutSend fires, the caller gets a timeout naming it, others flow', async () => {
  const client = new Client({ protocol: 'http', port: flow.ports[1]! });
  try {
    const started = Date.now();
    const hung = client.post('/hang', [new Document({ text: 'h' })]);
    // meanwhile, other requests are answered
    const pid = await servingPid('grpc');
    assert.ok(pid > 0);
    await assert.rejects(
      hung,
      /fragile.*(deadline|timed out|timeout)|(deadline|timed out|timeout).*fragile/i,
    );
    const took = Date.now() - started;
    assert.ok(took >= 2900 && took < 8000, `timed out after ${took} ms`);
  } finally {
    await client.close();
  }
});

void test("restartPolicy 'never' leaves a crashed Executor down: requests fail fast, naming it", async () => {
  const f = new Flow().add({ name: 'once', uses: FIXTURE, restartPolicy: 'never' });
  await f.start();
  try {
    const client = new Client({ port: f.port });
    await assert.rejects(client.post('/exit', [new Document()]), /once/);
    await sleep(1500);
    const started = Date.now();
    await assert.rejects(client.post('/tag', [new Document()]), /once/);
    assert.ok(Date.now() - started < 5000);
    await client.close();
  } finally {
    await f.close();
  }
});
