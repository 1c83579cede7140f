import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, Document, Flow } from '../src/index.js';
import { Other, Trail } from './fixtures/chain-executors.js';

/** One Executor in `GET /flow/stats`. */
interface ExecutorStatsJson {
  name: string;
  state: string;
  replicas: { total: number; serving: number; draining: number; failing: number };
  requests: number;
  errors: number;
  rate: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

void describe('the live page of the Flow at /flow', () => {
  const flow = new Flow()
    .configGateway({ protocol: 'http' })
    .add({ name: 'first', uses: Trail, replicas: 2 })
    .add({ name: 'second', uses: Trail });
  const hidden = new Flow()
    .configGateway({ protocol: 'http', noDebugEndpoints: true })
    .add({ name: 'only', uses: Trail });
  const guarded = new Flow()
    .configGateway({ protocol: 'http', authToken: 'flow-page-token' })
    .add({ name: 'guarded', uses: Trail });
  const raising = new Flow().configGateway({ protocol: 'http' }).add({ name: 'raiser', uses: Other });

  before(async () => {
    await Promise.all([flow.start(), hidden.start(), guarded.start(), raising.start()]);
  });

  after(async () => {
    await Promise.all([flow.close(), hidden.close(), guarded.close(), raising.close()]);
  });

  void test('GET /flow/stats counts the errors an Executor raises, not only failed calls', async () => {
    const base = `http://127.0.0.1:${raising.port}`;
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${base}/post`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ data: [{ text: `d${i}` }], execEndpoint: '/fail' }),
      });
      const body = (await res.json()) as { header?: { status?: { code?: unknown } } };
      assert.notEqual(body.header?.status?.code ?? 'SUCCESS', 'SUCCESS', JSON.stringify(body));
    }
    const ok = await fetch(`${base}/post`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ data: [{ text: 'fine' }], execEndpoint: '/other' }),
    });
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    const stats = (await (await fetch(`${base}/flow/stats`)).json()) as { executors: ExecutorStatsJson[] };
    const raiser = stats.executors.find((e) => e.name === 'raiser');
    assert.deepEqual({ requests: raiser?.requests, errors: raiser?.errors }, { requests: 4, errors: 3 });
  });

  void test('GET /flow/stats counts every call of the Gateway to each Executor', async () => {
    const base = `http://127.0.0.1:${flow.port}`;
    const initial = (await (await fetch(`${base}/flow/stats`)).json()) as { executors: ExecutorStatsJson[] };
    assert.deepEqual(
      initial.executors.map((e) => [e.name, e.requests, e.replicas.total]),
      [
        ['first', 0, 2],
        ['second', 0, 1],
      ],
    );
    const client = new Client({ protocol: 'http', port: flow.port });
    const docs = Array.from({ length: 6 }, (_, i) => new Document({ text: `d${i}` }));
    const out = await client.post('/chain', docs, { requestSize: 1 });
    assert.equal(out.length, 6);
    const res = await fetch(`${base}/flow/stats`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    const stats = (await res.json()) as { windowSeconds: number; executors: ExecutorStatsJson[] };
    assert.equal(stats.windowSeconds, 10);
    for (const e of stats.executors) {
      assert.equal(e.requests, 6, `${e.name}: ${JSON.stringify(e)}`);
      assert.equal(e.errors, 0);
      assert.ok(e.rate > 0, `${e.name} rate ${e.rate}`);
      assert.ok(e.p50Ms !== null && e.p99Ms !== null && e.p50Ms <= e.p99Ms, JSON.stringify(e));
      assert.equal(e.state, 'serving');
    }
    assert.deepEqual(
      stats.executors.map((e) => `${e.name} ${e.replicas.serving}/${e.replicas.total}`),
      ['first 2/2', 'second 1/1'],
    );
  });

  void test('GET /flow is one self-contained HTML page with the picture of the graph', async () => {
    const res = await fetch(`http://127.0.0.1:${flow.port}/flow`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    const html = await res.text();
    assert.match(html, /<svg /);
    assert.match(html, /data-name="first"/);
    assert.match(html, /data-name="second"/);
    assert.match(html, /x2/, 'the replicas are drawn');
    assert.doesNotMatch(html, /<script[^>]+src=|<link |https?:\/\/(?!www\.w3\.org)/);
  });

  void test('noDebugEndpoints hides /flow and /flow/stats', async () => {
    const base = `http://127.0.0.1:${hidden.port}`;
    assert.equal((await fetch(`${base}/flow`)).status, 404);
    assert.equal((await fetch(`${base}/flow/stats`)).status, 404);
    assert.equal((await fetch(`${base}/`)).status, 200);
  });

  void test('with authentication, /flow and /flow/stats need the token', async () => {
    const base = `http://127.0.0.1:${guarded.port}`;
    for (const path of ['/flow', '/flow/stats']) {
      const res = await fetch(base + path);
      assert.equal(res.status, 401, path);
      await res.body?.cancel();
      const ok = await fetch(base + path, { headers: { authorization: 'Bearer flow-page-token' } });
      assert.equal(ok.status, 200, path);
      await ok.body?.cancel();
    }
  });
});
