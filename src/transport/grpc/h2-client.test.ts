import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http2 from 'node:http2';
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { H2Client } from './h2-client.js';
import { FrameReader, frameParts } from './h2-frames.js';
import type { HopClient } from './hop-client.js';

const id = (b: Buffer): Buffer => b;
const method = (path: string, stream: boolean): grpc.MethodDefinition<Buffer, Buffer> => ({
  path,
  requestStream: stream,
  responseStream: stream,
  requestSerialize: id,
  requestDeserialize: id,
  responseSerialize: id,
  responseDeserialize: id,
});
const Service = {
  Echo: method('/t.T/Echo', false),
  Fail: method('/t.T/Fail', false),
  Hold: method('/t.T/Hold', false),
  Chat: method('/t.T/Chat', true),
} satisfies grpc.ServiceDefinition;

// Both clients are a HopClient (a compile-time check).
const _hop: (c: H2Client | grpc.Client) => HopClient = (c) => c;
void _hop;

interface Server {
  server: grpc.Server;
  address: string;
  seen: grpc.Metadata[];
  cancelled: Promise<void>;
}

/** A grpc-js server with default (64 KiB) windows; `options` add e.g. response compression. */
async function startServer(options: grpc.ServerOptions = {}): Promise<Server> {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': -1, ...options });
  const seen: grpc.Metadata[] = [];
  let onCancel!: () => void;
  const cancelled = new Promise<void>((r) => (onCancel = r));
  server.addService(Service, {
    Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      seen.push(call.metadata);
      cb(null, call.request);
    },
    Fail: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const metadata = new grpc.Metadata();
      metadata.set('x-why', 'because');
      cb({ code: grpc.status.INVALID_ARGUMENT, details: 'bad input: 100% wrong ✗', metadata });
    },
    Hold: (call: grpc.ServerUnaryCall<Buffer, Buffer>) => call.on('cancelled', onCancel),
    Chat: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.on('data', (b: Buffer) => call.write(b));
      call.on('end', () => call.end());
      call.on('cancelled', onCancel);
      call.on('error', () => undefined);
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return { server, address: `127.0.0.1:${port}`, seen, cancelled };
}

function unary(
  c: H2Client,
  def: grpc.MethodDefinition<Buffer, Buffer>,
  body: Buffer,
  md = new grpc.Metadata(),
  options: grpc.CallOptions = {},
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    c.makeUnaryRequest(def.path, id, id, body, md, options, (e, r) => (e ? reject(e) : resolve(r!)));
  });
}

void describe('FrameReader', () => {
  void test('reads messages split at every byte, and several in one chunk', () => {
    const messages = [Buffer.from('hello'), Buffer.alloc(0), randomBytes(300), Buffer.from('x')];
    const wire = Buffer.concat(messages.flatMap((m) => frameParts([m])));
    for (const step of [1, 2, 3, 5, 7, 64, wire.length]) {
      const got: Buffer[] = [];
      const reader = new FrameReader((m) => got.push(Buffer.from(m)));
      for (let i = 0; i < wire.length; i += step) reader.push(wire.subarray(i, i + step));
      assert.deepEqual(got, messages, `chunks of ${step} bytes`);
      assert.ok(reader.idle);
    }
  });

  void test('refuses a message over the limit before allocating it', () => {
    const reader = new FrameReader(() => assert.fail('no message'), 10);
    assert.throws(
      () => reader.push(Buffer.concat(frameParts([Buffer.alloc(11)]))),
      /11 bytes, more than the limit of 10/,
    );
  });
});

void describe('H2Client against a grpc-js server', () => {
  let s: Server;
  let c: H2Client;
  before(async () => {
    s = await startServer();
    c = new H2Client(s.address);
  });
  after(() => {
    c.close();
    s.server.forceShutdown();
  });

  void test('a unary call, with metadata, and messages far larger than the server window', async () => {
    const md = new grpc.Metadata();
    md.set('x-tenant', 'acme');
    md.set('trace-bin', Buffer.from([0, 1, 2, 255]));
    assert.deepEqual(await unary(c, Service.Echo, Buffer.from('hi'), md), Buffer.from('hi'));
    assert.deepEqual(s.seen.at(-1)!.get('x-tenant'), ['acme']);
    assert.deepEqual(s.seen.at(-1)!.get('trace-bin'), [Buffer.from([0, 1, 2, 255])]);
    const big = randomBytes(8 * 1024 * 1024 + 3);
    assert.ok((await unary(c, Service.Echo, big)).equals(big));
    assert.equal(c.getConnectivityState(false), grpc.connectivityState.READY);
  });

  void test('a bidi stream: messages written in parts come back whole, in order', async () => {
    const call = c.makeBidiStreamRequest(
      Service.Chat.path,
      (parts: Buffer[]) => parts,
      id,
      new grpc.Metadata(),
      {},
    );
    const got: Buffer[] = [];
    call.on('data', (b: Buffer) => got.push(b));
    const sent = [
      [Buffer.from('a'), Buffer.from('bc')],
      [randomBytes(100), randomBytes(3 * 1024 * 1024)],
    ];
    for (const parts of sent) call.write(parts);
    call.end();
    const [status] = (await once(call, 'status')) as [grpc.StatusObject];
    assert.equal(status.code, grpc.status.OK);
    assert.deepEqual(
      got,
      sent.map((p) => Buffer.concat(p)),
    );
  });

  void test('an error status in the trailers: code, decoded message and metadata', async () => {
    const err = (await unary(c, Service.Fail, Buffer.from('x')).catch(
      (e: unknown) => e,
    )) as grpc.ServiceError;
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(err.details, 'bad input: 100% wrong ✗');
    assert.deepEqual(err.metadata.get('x-why'), ['because']);
  });

  void test('an unknown method answers UNIMPLEMENTED', async () => {
    const err = (await unary(c, method('/t.T/Nope', false), Buffer.alloc(0)).catch(
      (e: unknown) => e,
    )) as grpc.ServiceError;
    assert.equal(err.code, grpc.status.UNIMPLEMENTED);
  });

  void test('cancel: CANCELLED here, the server sees the call cancelled', async () => {
    const call = c.makeUnaryRequest(
      Service.Hold.path,
      id,
      id,
      Buffer.from('x'),
      new grpc.Metadata(),
      {},
      () => undefined,
    );
    const status = once(call, 'status');
    setImmediate(() => call.cancel());
    assert.equal(((await status) as [grpc.StatusObject])[0].code, grpc.status.CANCELLED);
    await s.cancelled;
  });

  void test('a deadline: DEADLINE_EXCEEDED after it, and grpc-timeout sent', async () => {
    const started = Date.now();
    const err = (await unary(c, Service.Hold, Buffer.from('x'), new grpc.Metadata(), {
      deadline: Date.now() + 200,
    }).catch((e: unknown) => e)) as grpc.ServiceError;
    assert.equal(err.code, grpc.status.DEADLINE_EXCEEDED);
    assert.ok(Date.now() - started >= 190);
  });
});

void describe('H2Client when the server goes', () => {
  void test('GOAWAY: the call in flight finishes there, new calls need a new connection', async () => {
    const s = await startServer();
    const c = new H2Client(s.address);
    try {
      const call = c.makeBidiStreamRequest(Service.Chat.path, id, id, new grpc.Metadata(), {});
      const got: string[] = [];
      call.on('data', (b: Buffer) => got.push(b.toString()));
      const status = new Promise<grpc.StatusObject>((r) => call.on('status', r));
      call.write(Buffer.from('before'));
      await once(call, 'data');
      const stopped = new Promise<void>((r) => s.server.tryShutdown(() => r()));
      await new Promise<void>((r) => c.once('state', () => r())); // GOAWAY: READY -> IDLE
      assert.equal(c.getConnectivityState(false), grpc.connectivityState.IDLE);
      call.write(Buffer.from('after'));
      call.end();
      assert.equal((await status).code, grpc.status.OK);
      assert.deepEqual(got, ['before', 'after']);
      await stopped;
    } finally {
      c.close();
    }
  });

  void test('calls in flight end UNAVAILABLE; a port nobody listens on is TRANSIENT_FAILURE', async () => {
    const s = await startServer();
    const c = new H2Client(s.address);
    await unary(c, Service.Echo, Buffer.from('warm'));
    const held = unary(c, Service.Hold, Buffer.from('x')).catch((e: unknown) => e);
    const stream = c.makeBidiStreamRequest(Service.Chat.path, id, id, new grpc.Metadata(), {});
    stream.on('error', () => undefined);
    const streamStatus = new Promise<grpc.StatusObject>((r) => stream.on('status', r));
    stream.write(Buffer.from('x'));
    await once(stream, 'data');
    s.server.forceShutdown();
    assert.equal(((await held) as grpc.ServiceError).code, grpc.status.UNAVAILABLE);
    assert.equal((await streamStatus).code, grpc.status.UNAVAILABLE);
    // Reconnecting to the dead port fails: TRANSIENT_FAILURE, and a call is UNAVAILABLE.
    const err = (await unary(c, Service.Echo, Buffer.from('again')).catch(
      (e: unknown) => e,
    )) as grpc.ServiceError;
    assert.equal(err.code, grpc.status.UNAVAILABLE);
    assert.equal(c.getConnectivityState(false), grpc.connectivityState.TRANSIENT_FAILURE);
    c.close();
    assert.equal(c.getConnectivityState(false), grpc.connectivityState.SHUTDOWN);
  });
});

/** A TCP proxy in front of `target` counting the bytes each way. */
async function countingProxy(target: string) {
  const [host, port] = target.split(':') as [string, string];
  const counts = { up: 0, down: 0 };
  const server = net.createServer((inbound) => {
    const out = net.connect(Number(port), host);
    inbound.on('data', (b: Buffer) => (counts.up += b.length));
    out.on('data', (b: Buffer) => (counts.down += b.length));
    inbound.pipe(out).pipe(inbound);
    inbound.on('error', () => out.destroy());
    out.on('error', () => inbound.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    get up() {
      return counts.up;
    },
    get down() {
      return counts.down;
    },
    close: () => server.close(),
  };
}

void describe('H2Client compression', () => {
  for (const compression of ['gzip', 'deflate'] as const) {
    void test(`${compression} requests to a grpc-js server`, async () => {
      const algorithm = compression === 'gzip' ? 2 : 1;
      const s = await startServer({ 'grpc.default_compression_algorithm': algorithm });
      const proxy = await countingProxy(s.address);
      const c = new H2Client(proxy.address, { compression });
      try {
        const body = Buffer.alloc(200_000, 'flowgate ');
        assert.ok((await unary(c, Service.Echo, body)).equals(body));
        assert.ok(proxy.up < 20_000, `compressed on the way out: ${proxy.up} bytes`);
      } finally {
        c.close();
        proxy.close();
        s.server.forceShutdown();
      }
    });
  }

  void test('a compressed answer (flag 1, grpc-encoding gzip) is inflated', async () => {
    const server = http2.createServer();
    server.on('stream', (stream) => {
      stream.respond(
        { ':status': 200, 'content-type': 'application/grpc', 'grpc-encoding': 'gzip' },
        { waitForTrailers: true },
      );
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      const packed = gzipSync(Buffer.from('inflated answer'));
      stream.end(
        Buffer.concat(frameParts([packed]).map((p, i) => (i === 0 ? Buffer.from([1, ...p.subarray(1)]) : p))),
      );
      stream.resume();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const c = new H2Client(`127.0.0.1:${(server.address() as net.AddressInfo).port}`);
    try {
      assert.equal((await unary(c, Service.Echo, Buffer.from('q'))).toString(), 'inflated answer');
    } finally {
      c.close();
      server.close();
    }
  });
});
