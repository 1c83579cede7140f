import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Fastify from 'fastify';
import { Agent, fetch } from 'undici';
import WebSocket from 'ws';
import {
  Client,
  Code,
  Document,
  FastifyBaseGateway,
  Flow,
  FlowgateError,
  GatewayRuntime,
} from '../src/index.js';
import { MetaEcho } from './fixtures/security-executors.js';
import { makeCertificates } from './fixtures/tls-certs.js';
import { freePort } from '../src/serve/gateway-runtime.js';

/**
 * TLS on every protocol of the Gateway, with certificates of a private CA made at test time
 * (openssl CLI); the Client trusts that CA through caFile / rootCertificates, and a Client that does
 * not is refused with a message saying why.
 */

const certs = makeCertificates();
const skip = certs ? false : 'openssl is not installed';

function untrusted(err: unknown): boolean {
  assert.ok(err instanceof FlowgateError, String(err));
  assert.equal(err.code, Code.Unavailable, err.message);
  assert.match(
    err.message,
    /^TLS: the Gateway's certificate at .* is not trusted .*pass caFile\/rootCertificates/,
  );
  return true;
}

void describe('a Flow whose Gateway serves gRPC, HTTP, WebSocket and GraphQL over TLS', { skip }, () => {
  let flow: Flow;
  let grpcPort: number;
  let httpPort: number;
  let wsPort: number;
  let gqlPort: number;

  before(async () => {
    flow = new Flow()
      .configGateway({
        protocol: ['grpc', 'http', 'websocket', 'graphql'],
        sslCertfile: certs!.certFile,
        sslKeyfile: certs!.keyFile,
      })
      .add({ uses: MetaEcho, name: 'echo' });
    await flow.start();
    [grpcPort, httpPort, wsPort, gqlPort] = flow.ports as [number, number, number, number];
  });
  after(async () => {
    await flow?.close();
    certs?.remove();
  });

  void test('the Client posts over grpcs://, https:// and wss:// trusting the private CA', async () => {
    const clients = [
      new Client({ host: `grpcs://localhost:${grpcPort}`, caFile: certs!.caFile }),
      new Client({ host: `https://127.0.0.1:${httpPort}`, rootCertificates: certs!.ca }),
      new Client({
        host: 'localhost',
        port: wsPort,
        protocol: 'websocket',
        tls: true,
        caFile: certs!.caFile,
      }),
    ];
    for (const client of clients) {
      try {
        const out = await client.post('/', [new Document({ text: 'hi' })]);
        assert.equal(out[0]?.tags.seen, true, client.protocol);
        assert.equal(await client.isFlowReady(), true, client.protocol);
        assert.equal(typeof (await client.status()).jina.flowgate, 'string');
      } finally {
        await client.close();
      }
    }
  });

  void test('GraphQL and the health check answer over HTTPS only', async () => {
    const dispatcher = new Agent({ connect: { ca: certs!.ca } });
    try {
      const res = await fetch(`https://localhost:${gqlPort}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query: 'mutation { docs(data: [{text: "hi"}], execEndpoint: "/") { text } }',
        }),
        dispatcher,
      });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { data: { docs: [{ text: 'hi' }] } });
      for (const port of [httpPort, wsPort, gqlPort]) {
        const health = await fetch(`https://127.0.0.1:${port}/`, { dispatcher });
        assert.equal(health.status, 200);
        await health.body?.cancel();
        // Plain HTTP to a TLS port gets no HTTP answer.
        await assert.rejects(fetch(`http://127.0.0.1:${port}/`));
      }
    } finally {
      await dispatcher.close();
    }
  });

  void test('a Client that does not trust the certificate is refused, saying so, on each protocol', async () => {
    for (const host of [
      `grpcs://127.0.0.1:${grpcPort}`,
      `https://127.0.0.1:${httpPort}`,
      `wss://127.0.0.1:${wsPort}`,
    ]) {
      const client = new Client({ host });
      try {
        await assert.rejects(client.post('/', [new Document({ text: 'x' })]), untrusted, host);
      } finally {
        await client.close();
      }
    }
    // A raw WebSocket without the CA fails its handshake too.
    const ws = new WebSocket(`wss://127.0.0.1:${wsPort}/`, ['bytes']);
    const err = await new Promise<Error>((resolve) => ws.once('error', resolve));
    assert.match(err.message, /self[- ]signed certificate|unable to verify/);
  });

  void test('a plaintext Client on a TLS port fails with a sentence naming the mismatch', async () => {
    const client = new Client({ host: `http://127.0.0.1:${httpPort}` });
    try {
      await assert.rejects(client.post('/', [new Document()]), (err: unknown) => {
        assert.ok(err instanceof FlowgateError);
        assert.equal(err.code, Code.Unavailable);
        return true;
      });
    } finally {
      await client.close();
    }
  });
});

/** A custom Gateway on a plain `Fastify()`: the base class serves it over HTTPS. */
class HelloGateway extends FastifyBaseGateway {
  get app() {
    const app = Fastify();
    app.get('/hello', async () => ({ hello: 'world' }));
    return app;
  }
}

void describe('a custom FastifyBaseGateway with TLS', { skip }, () => {
  const local = makeCertificates();
  let rt: GatewayRuntime;
  let port: number;

  before(async () => {
    rt = new GatewayRuntime({
      protocols: ['http'],
      nodes: [],
      uses: HelloGateway,
      gatewayOptions: { sslCertfile: local!.certFile, sslKeyfile: local!.keyFile },
    });
    [port] = (await rt.start()) as [number];
  });
  after(async () => {
    await rt?.close();
    local?.remove();
  });

  void test('its own routes and the health check answer over HTTPS', async () => {
    const dispatcher = new Agent({ connect: { ca: local!.ca } });
    try {
      const res = await fetch(`https://localhost:${port}/hello`, { dispatcher });
      assert.deepEqual(await res.json(), { hello: 'world' });
      const health = await fetch(`https://localhost:${port}/`, { dispatcher });
      assert.equal(health.status, 200);
      await health.body?.cancel();
    } finally {
      await dispatcher.close();
    }
  });
});

void describe('a custom Gateway with TLS in a Flow', { skip }, () => {
  const own = makeCertificates();
  after(() => own?.remove());
  void test('start() health-checks it over TLS; its routes answer over HTTPS', async () => {
    const flow = new Flow().configGateway({
      uses: 'test/fixtures/tls-gateway.ts:TlsHelloGateway',
      protocol: 'http',
      sslCertfile: own!.certFile,
      sslKeyfile: own!.keyFile,
    });
    await flow.start();
    const dispatcher = new Agent({ connect: { ca: own!.ca } });
    try {
      const res = await fetch(`https://localhost:${flow.port}/hello`, { dispatcher });
      assert.deepEqual(await res.json(), { hello: 'from a Flow' });
    } finally {
      await dispatcher.close();
      await flow.close();
    }
  });
});

void describe('TLS configuration mistakes fail before anything starts', () => {
  void test('configGateway with only one of sslCertfile / sslKeyfile throws', () => {
    assert.throws(
      () => new Flow().configGateway({ sslCertfile: 'cert.pem' }),
      /sslCertfile is set but sslKeyfile is not: TLS needs both the certificate and its private key/,
    );
    assert.throws(
      () => new Flow().configGateway({ sslKeyfile: 'key.pem', protocol: 'http' }),
      /sslKeyfile is set but sslCertfile is not/,
    );
    // Given in two calls, the pair is complete.
    new Flow().configGateway({ sslCertfile: 'c.pem', sslKeyfile: 'k.pem' });
  });

  void test('a Flow YAML with ssl_certfile but no ssl_keyfile is rejected by Flow.load', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowgate-tls-yaml-'));
    try {
      const file = join(dir, 'flow.yml');
      writeFileSync(
        file,
        'jtype: Flow\ngateway:\n  protocol: http\n  ssl_certfile: cert.pem\nexecutors: []\n',
      );
      await assert.rejects(Flow.load(file), /sslCertfile is set but sslKeyfile is not/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void test('an unreadable certificate file fails the Gateway start naming the file', async () => {
    const rt = new GatewayRuntime({
      protocols: ['http'],
      nodes: [],
      gatewayOptions: { sslCertfile: '/nonexistent/cert.pem', sslKeyfile: '/nonexistent/key.pem' },
    });
    await assert.rejects(
      rt.start(),
      /cannot read the TLS certificate \(sslCertfile\) \/nonexistent\/cert.pem/,
    );
    await rt.close();
  });
});

void describe('TLS between the Gateway and an external Executor', { skip }, () => {
  const own = makeCertificates();
  let executor: ChildProcess | undefined;
  let port: number;
  const savedCa = process.env.NODE_EXTRA_CA_CERTS;

  before(async () => {
    port = await freePort();
    executor = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'executor',
        '--uses',
        'test/fixtures/chain-executors.ts:Trail',
        '--name',
        'remote',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--ssl-certfile',
        own!.certFile,
        '--ssl-keyfile',
        own!.keyFile,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    for await (const line of createInterface({ input: executor.stderr! }))
      if (/serving gRPC/.test(String(line))) break;
    // the Gateway process trusts the private CA the way a deployment would: NODE_EXTRA_CA_CERTS
    process.env.NODE_EXTRA_CA_CERTS = own!.caFile;
  });
  after(() => {
    if (savedCa === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
    else process.env.NODE_EXTRA_CA_CERTS = savedCa;
    executor?.kill('SIGKILL');
    own?.remove();
  });

  void test('add({ external, tls: true }) reaches it over TLS; without tls the call fails naming it', async () => {
    const secure = new Flow().add({ name: 'remote', external: true, host: 'localhost', port, tls: true });
    await secure.start();
    const client = new Client({ port: secure.port });
    try {
      const docs = await client.post('/chain', [new Document({ text: 'x' })]);
      assert.deepEqual(docs[0]!.tags.trail, ['remote']);
    } finally {
      await client.close();
      await secure.close();
    }
    const plain = new Flow().add({ name: 'remote', external: true, host: 'localhost', port });
    await plain.start();
    const c2 = new Client({ port: plain.port });
    try {
      await assert.rejects(c2.post('/chain', [new Document({ text: 'x' })]), /remote/);
    } finally {
      await c2.close();
      await plain.close();
    }
  });

  void test('tls on an Executor the Flow starts itself is refused at add()', () => {
    assert.throws(
      () => new Flow().add({ name: 'local', uses: 'test/fixtures/chain-executors.ts:Trail', tls: true }),
      /tls applies to external Executors/,
    );
  });
});
