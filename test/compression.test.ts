import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { Client, Document, Flow, WorkerRuntime } from '../src/index.js';
import { startByteProxy, type ByteProxy } from './fixtures/byte-proxy.js';
import { MetaEcho } from './fixtures/security-executors.js';

/**
 * Compression measured on the wire: a byte-counting TCP proxy sits between the Gateway and an
 * Executor (configGateway compression), between the Client and the Gateway (Client compression),
 * and HTTP responses are read raw with and without `Accept-Encoding`.
 */

/** About 900 KB of very compressible text. */
const payload = () =>
  Array.from({ length: 50 }, (_, i) => new Document({ id: `d${i}`, text: 'flowgate '.repeat(2000) }));

const figures: string[] = [];
after(() => {
  if (figures.length) console.log(`bytes on the wire:\n  ${figures.join('\n  ')}`);
});

void describe('compression between the Gateway and an Executor', () => {
  const worker = new WorkerRuntime({ executor: new MetaEcho({ metas: { name: 'echo' } }) });
  let proxy: ByteProxy;

  before(async () => {
    proxy = await startByteProxy(await worker.start());
  });
  after(async () => {
    await proxy?.close();
    await worker.close();
  });

  /** Bytes the Gateway sent towards the Executor for one post, with `compression`. */
  async function measure(compression: 'none' | 'gzip' | 'deflate'): Promise<number> {
    const flow = new Flow()
      .configGateway({ protocol: 'grpc', compression })
      .add({ name: 'echo', external: true, host: '127.0.0.1', port: proxy.port });
    await flow.start();
    const client = new Client({ port: flow.port });
    try {
      await client.post('/', [new Document({ text: 'warm-up' })]);
      proxy.reset();
      const out = await client.post('/', payload(), { requestSize: 50 });
      assert.equal(out.length, 50);
      assert.equal(out[0]!.text, 'flowgate '.repeat(2000));
      assert.equal(out[0]!.tags.seen, true);
      figures.push(
        `Gateway -> Executor, compression ${compression}: ${proxy.up} bytes (back: ${proxy.down})`,
      );
      return proxy.up;
    } finally {
      await client.close();
      await flow.close();
    }
  }

  void test('gzip and deflate shrink what the Gateway sends to the Executor', async () => {
    const none = await measure('none');
    const gzip = await measure('gzip');
    const deflate = await measure('deflate');
    assert.ok(none > 900_000, `uncompressed: ${none} bytes`);
    assert.ok(gzip * 20 < none, `gzip ${gzip} vs none ${none}`);
    assert.ok(deflate * 20 < none, `deflate ${deflate} vs none ${none}`);
  });
});

void describe('compression between the Client and the Gateway', () => {
  let flow: Flow;
  let grpcProxy: ByteProxy;
  let httpProxy: ByteProxy;

  before(async () => {
    flow = new Flow().configGateway({ protocol: ['grpc', 'http'] }).add({ uses: MetaEcho, name: 'echo' });
    await flow.start();
    grpcProxy = await startByteProxy(flow.ports[0]!);
    httpProxy = await startByteProxy(flow.ports[1]!);
  });
  after(async () => {
    await grpcProxy?.close();
    await httpProxy?.close();
    await flow?.close();
  });

  void test('new Client({ compression: "gzip" }) over gRPC compresses its requests', async () => {
    const sent: Record<string, number> = {};
    for (const compression of ['none', 'gzip'] as const) {
      const client = new Client({ port: grpcProxy.port, compression });
      try {
        await client.post('/', [new Document()]);
        grpcProxy.reset();
        const out = await client.post('/', payload(), { requestSize: 50 });
        assert.equal(out[49]!.text, 'flowgate '.repeat(2000));
        sent[compression] = grpcProxy.up;
        figures.push(`Client -> Gateway (gRPC), compression ${compression}: ${grpcProxy.up} bytes`);
      } finally {
        await client.close();
      }
    }
    assert.ok(sent.gzip! * 20 < sent.none!, JSON.stringify(sent));
  });

  void test('HTTP responses honour Accept-Encoding (gzip, deflate, none)', async () => {
    const body = JSON.stringify({
      data: payload().map((d) => ({ id: d.id, text: d.text })),
      execEndpoint: '/',
    });
    const raw = (acceptEncoding: string | undefined) =>
      new Promise<{ encoding: string | undefined; vary: string | undefined; bytes: Buffer }>(
        (resolve, reject) => {
          const req = request(
            {
              host: '127.0.0.1',
              port: flow.ports[1],
              path: '/post',
              method: 'POST',
              headers: {
                'content-type': 'application/json',
                ...(acceptEncoding ? { 'accept-encoding': acceptEncoding } : {}),
              },
            },
            (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () =>
                resolve({
                  encoding: res.headers['content-encoding'],
                  vary: res.headers.vary,
                  bytes: Buffer.concat(chunks),
                }),
              );
            },
          );
          req.on('error', reject);
          req.end(body);
        },
      );
    const plain = await raw(undefined);
    const gz = await raw('gzip, deflate, br');
    const deflated = await raw('deflate');
    const refused = await raw('gzip;q=0, identity');
    assert.equal(plain.encoding, undefined);
    assert.equal(refused.encoding, undefined);
    assert.equal(gz.encoding, 'gzip');
    assert.equal(gz.vary, 'accept-encoding');
    assert.equal(deflated.encoding, 'deflate');
    const fromGzip = JSON.parse(gunzipSync(gz.bytes).toString()) as { data: { text: string }[] };
    assert.equal(fromGzip.data.length, 50);
    assert.equal(fromGzip.data[0]!.text, 'flowgate '.repeat(2000));
    assert.ok(gz.bytes.length * 20 < plain.bytes.length, `${gz.bytes.length} vs ${plain.bytes.length}`);
    figures.push(`Gateway -> HTTP client, identity: ${plain.bytes.length} bytes; gzip: ${gz.bytes.length}`);
  });

  void test('the HTTP Client asks for gzip with compression: "gzip" and reads it', async () => {
    const received: Record<string, number> = {};
    for (const compression of ['none', 'gzip'] as const) {
      const client = new Client({ host: `http://127.0.0.1:${httpProxy.port}`, compression });
      try {
        await client.post('/', [new Document()]);
        httpProxy.reset();
        const out = await client.post('/', payload(), { requestSize: 50 });
        assert.equal(out[0]!.text, 'flowgate '.repeat(2000));
        received[compression] = httpProxy.down;
      } finally {
        await client.close();
      }
    }
    assert.ok(received.gzip! * 20 < received.none!, JSON.stringify(received));
  });
});
