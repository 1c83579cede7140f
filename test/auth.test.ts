import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import WebSocket from 'ws';
import {
  Client,
  Code,
  Document,
  Flow,
  FlowgateError,
  GatewayRuntime,
  WorkerRuntime,
  type AuthRequest,
} from '../src/index.js';
import { checkHealth, createJinaClient } from '../src/transport/grpc/link.js';
import { authFlow } from './fixtures/auth-flow.js';
import { MetaEcho } from './fixtures/security-executors.js';

/**
 * Authentication on every protocol: a shared bearer token, the `authenticate` hook (by reference
 * in a Flow, as a function in-process), health checks left open, nothing reaching an Executor when
 * refused, and the allow-listed metadata reaching it.
 */

const TOKEN = 's3cret-token';

function unauthenticated(err: unknown): boolean {
  assert.ok(err instanceof FlowgateError, String(err));
  assert.equal(err.code, Code.Unauthenticated, err.message);
  return true;
}

/** The tags the MetaEcho Executor put on the first returned document. */
async function meta(client: Client, headers: Record<string, string> = {}) {
  const out = await client.post('/meta', [new Document({ text: 'x' })], { metadata: headers });
  return out[0]!.tags as { metadata: Record<string, string>; calls: number };
}

async function callsSoFar(client: Client): Promise<number> {
  const out = await client.post('/calls', [new Document()]);
  return out[0]!.tags.calls as number;
}

void describe('a Flow with authToken on gRPC, HTTP, WebSocket and GraphQL', () => {
  let flow: Flow;
  let ports: number[];
  const hosts = () => [
    `grpc://127.0.0.1:${ports[0]}`,
    `http://127.0.0.1:${ports[1]}`,
    `ws://127.0.0.1:${ports[2]}`,
  ];

  before(async () => {
    flow = new Flow()
      .configGateway({
        protocol: ['grpc', 'http', 'websocket', 'graphql'],
        authToken: TOKEN,
        forwardMetadata: ['x-tenant', 'X-Request-Id'],
      })
      .add({ uses: MetaEcho, name: 'echo' });
    await flow.start();
    ports = flow.ports;
  });
  after(async () => {
    await flow?.close();
  });

  void test('the right token is served on each protocol, and the allowed metadata reaches the Executor', async () => {
    for (const host of hosts()) {
      const client = new Client({ host, authToken: TOKEN });
      try {
        const tags = await meta(client, { 'x-tenant': 'acme', 'x-request-id': 'r-1', 'x-other': 'no' });
        assert.deepEqual(tags.metadata, { 'x-tenant': 'acme', 'x-request-id': 'r-1' }, host);
        assert.equal(await client.isFlowReady(), true, host);
        assert.equal(typeof (await client.status()).jina.flowgate, 'string', host);
      } finally {
        await client.close();
      }
    }
  });

  void test('a missing or wrong token is refused on each protocol, and nothing reaches the Executor', async () => {
    const good = new Client({ host: hosts()[0]!, authToken: TOKEN });
    const before = await callsSoFar(good);
    for (const host of hosts()) {
      for (const authToken of [undefined, 'wrong-token', `${TOKEN}x`]) {
        const client = new Client({ host, authToken });
        try {
          await assert.rejects(
            client.post('/meta', [new Document()]),
            unauthenticated,
            `${host} ${authToken}`,
          );
          await assert.rejects(client.status(), unauthenticated, `${host} status`);
          assert.equal(await client.isFlowReady(), false);
        } finally {
          await client.close();
        }
      }
    }
    assert.equal(await callsSoFar(good), before, 'no refused request reached the Executor');
    await good.close();
  });

  void test('raw answers: HTTP 401 with a reason, WebSocket upgrade refused with 401, gRPC UNAUTHENTICATED', async () => {
    for (const port of [ports[1], ports[3]]) {
      const res = await fetch(`http://127.0.0.1:${port}/status`);
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer');
      assert.deepEqual(await res.json(), {
        detail: 'authentication required: send the header Authorization: Bearer <token>',
      });
    }
    for (const path of ['/openapi.json', '/docs', '/dry_run']) {
      const res = await fetch(`http://127.0.0.1:${ports[1]}${path}`);
      assert.equal(res.status, 401, path);
      await res.body?.cancel();
    }
    const bad = await fetch(`http://127.0.0.1:${ports[1]}/post`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer nope' },
      body: JSON.stringify({ data: [{ text: 'x' }], execEndpoint: '/meta' }),
    });
    assert.equal(bad.status, 401);
    assert.deepEqual(await bad.json(), { detail: 'authentication failed: the bearer token is not valid' });
    const gql = await fetch(`http://127.0.0.1:${ports[3]}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, 'x-tenant': 'gql' },
      body: JSON.stringify({
        query: 'mutation { docs(data: [{text: "x"}], execEndpoint: "/meta") { tags } }',
      }),
    });
    assert.equal(gql.status, 200);
    const body = (await gql.json()) as { data: { docs: { tags: { metadata: Record<string, string> } }[] } };
    assert.deepEqual(body.data.docs[0]!.tags.metadata, { 'x-tenant': 'gql' });

    const ws = new WebSocket(`ws://127.0.0.1:${ports[2]}/`, ['bytes']);
    ws.on('error', () => undefined); // terminating before the handshake completes reports one
    const status = await new Promise<number>((resolve) =>
      ws.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        res.resume();
        ws.terminate();
      }),
    );
    assert.equal(status, 401);

    const raw = createJinaClient(`127.0.0.1:${ports[0]}`);
    const code = await new Promise<number>((resolve) => {
      const md = new grpc.Metadata();
      md.set('authorization', 'Bearer nope');
      raw.makeUnaryRequest(
        '/jina.JinaInfoRPC/_status',
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.alloc(0),
        md,
        (err) => resolve(err?.code ?? 0),
      );
    });
    assert.equal(code, grpc.status.UNAUTHENTICATED);
    raw.close();
  });

  void test('health checks stay open: gRPC health and GET / without a token', async () => {
    const raw = createJinaClient(`127.0.0.1:${ports[0]}`);
    assert.equal(await checkHealth(raw), true);
    raw.close();
    for (const port of ports.slice(1)) {
      const res = await fetch(`http://127.0.0.1:${port}/`);
      assert.equal(res.status, 200, String(port));
      assert.deepEqual(await res.json(), {});
    }
  });

  void test('the Client takes its token from FLOWGATE_AUTH_TOKEN', async () => {
    const saved = process.env.FLOWGATE_AUTH_TOKEN;
    process.env.FLOWGATE_AUTH_TOKEN = TOKEN;
    try {
      for (const host of hosts()) {
        const client = new Client({ host });
        try {
          assert.equal((await meta(client)).metadata['x-tenant'], undefined);
        } finally {
          await client.close();
        }
      }
    } finally {
      if (saved === undefined) delete process.env.FLOWGATE_AUTH_TOKEN;
      else process.env.FLOWGATE_AUTH_TOKEN = saved;
    }
  });
});

void describe('a Flow whose Gateway reads FLOWGATE_AUTH_TOKEN and runs an authenticate hook by reference', () => {
  let flow: Flow;
  let ports: number[];
  const saved = process.env.FLOWGATE_AUTH_TOKEN;

  before(async () => {
    // The Gateway process inherits the environment: its token comes from there.
    process.env.FLOWGATE_AUTH_TOKEN = 'env-token';
    flow = new Flow()
      .configGateway({
        protocol: ['grpc', 'http', 'websocket'],
        authenticate: 'test/fixtures/auth-hooks.ts:checkApiKey',
      })
      .add({ uses: MetaEcho, name: 'echo' });
    try {
      await flow.start();
    } finally {
      if (saved === undefined) delete process.env.FLOWGATE_AUTH_TOKEN;
      else process.env.FLOWGATE_AUTH_TOKEN = saved;
    }
    ports = flow.ports;
  });
  after(async () => {
    await flow?.close();
  });

  void test('the token and the hook must both pass; the principal reaches the Executor', async () => {
    const hosts = [
      `grpc://127.0.0.1:${ports[0]}`,
      `http://127.0.0.1:${ports[1]}`,
      `ws://127.0.0.1:${ports[2]}`,
    ];
    for (const host of hosts) {
      const client = new Client({ host, authToken: 'env-token' });
      try {
        const tags = await meta(client, { 'x-api-key': 'good' });
        const protocol = host.split(':')[0] === 'ws' ? 'websocket' : host.split(':')[0];
        // No forwardMetadata: only the principal is forwarded.
        assert.deepEqual(tags.metadata, {
          'flowgate-principal': JSON.stringify({ user: 'alice', protocol }),
        });
        await assert.rejects(meta(client, { 'x-api-key': 'bad' }), (err: unknown) => {
          unauthenticated(err);
          if (!host.startsWith('ws'))
            assert.match((err as Error).message, /the authenticate hook rejected the request/);
          return true;
        });
        await assert.rejects(meta(client, { 'x-api-key': 'boom' }), (err: unknown) => {
          unauthenticated(err);
          if (!host.startsWith('ws')) assert.match((err as Error).message, /the key service is down/);
          return true;
        });
      } finally {
        await client.close();
      }
      const noToken = new Client({ host });
      await assert.rejects(meta(noToken, { 'x-api-key': 'good' }), unauthenticated);
      await noToken.close();
    }
  });
});

void describe('a Flow whose authenticate hook is a function given to configGateway', () => {
  let flow: Flow;

  before(async () => {
    flow = authFlow();
    await flow.start();
  });
  after(async () => {
    await flow?.close();
  });

  void test('the Gateway process finds the function by name in the file that configured it', async () => {
    const client = new Client({ host: `http://127.0.0.1:${flow.port}` });
    try {
      const tags = await meta(client, { 'x-api-key': 'good' });
      assert.deepEqual(tags.metadata, { 'flowgate-principal': '{"via":"function"}' });
      await assert.rejects(meta(client, { 'x-api-key': 'bad' }), unauthenticated);
    } finally {
      await client.close();
    }
  });
});

void describe('an in-process GatewayRuntime with an authenticate function', () => {
  const seen: AuthRequest[] = [];
  const worker = new WorkerRuntime({ executor: new MetaEcho({ metas: { name: 'echo' } }) });
  let rt: GatewayRuntime;
  let ports: number[];

  before(async () => {
    const port = await worker.start();
    rt = new GatewayRuntime({
      protocols: ['grpc', 'http'],
      nodes: [{ name: 'echo', needs: ['gateway'] }],
      addresses: { echo: [`127.0.0.1:${port}`] },
      gatewayOptions: {
        forwardMetadata: ['x-tenant'],
        authenticate: (req) => {
          seen.push(req);
          return req.headers['x-tenant'] === 'acme' ? { tenant: 'acme' } : undefined;
        },
      },
    });
    ports = await rt.start();
  });
  after(async () => {
    await rt?.close();
    await worker.close();
  });

  void test('the hook sees protocol, lower-case headers, peer and path; undefined refuses', async () => {
    for (const [i, host] of [`grpc://127.0.0.1:${ports[0]}`, `http://127.0.0.1:${ports[1]}`].entries()) {
      const client = new Client({ host });
      try {
        const tags = await meta(client, { 'X-Tenant': 'acme' });
        assert.deepEqual(tags.metadata, { 'x-tenant': 'acme', 'flowgate-principal': '{"tenant":"acme"}' });
        await assert.rejects(meta(client, { 'x-tenant': 'other' }), unauthenticated);
      } finally {
        await client.close();
      }
      const req = seen.find((r) => r.protocol === (i === 0 ? 'grpc' : 'http'))!;
      assert.equal(req.headers['x-tenant'], 'acme');
      assert.match(req.peer, /127\.0\.0\.1:\d+$/);
      assert.equal(req.path, i === 0 ? '/jina.JinaRPC/Call' : '/post');
    }
  });
});
