/**
 * The Gateway's node:http2 hop (`H2Client`) against a grpcio (C-core) server, as the original's
 * Executors are served: unary and bidi echo, a message far larger than the default window, an
 * error status with its message and trailing metadata, gzip requests. Skipped when Python has no
 * `grpc` module.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { H2Client } from '../src/transport/grpc/h2-client.js';

const SERVER = fileURLToPath(new URL('./fixtures/grpcio/echo_server.py', import.meta.url));
const hasGrpcio = spawnSync('python3', ['-c', 'import grpc'], { stdio: 'ignore' }).status === 0;
const skip = hasGrpcio ? false : 'python3 has no grpc module (pip install grpcio)';
const id = (b: Buffer): Buffer => b;

let server: ReturnType<typeof spawn> | undefined;
let address = '';

before(async () => {
  if (!hasGrpcio) return;
  server = spawn('python3', [SERVER], { stdio: ['pipe', 'pipe', 'inherit'] });
  const [line] = (await once(server.stdout!, 'data')) as [Buffer];
  address = `127.0.0.1:${line.toString().trim()}`;
});

after(() => {
  server?.stdin?.end();
  server?.kill();
});

function unary(c: H2Client, path: string, body: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    c.makeUnaryRequest(path, id, id, body, new grpc.Metadata(), {}, (e, r) => (e ? reject(e) : resolve(r!))),
  );
}

void test('unary and bidi echo, 8 MiB messages, an error status, gzip', { skip }, async () => {
  const c = new H2Client(address);
  const gz = new H2Client(address, { compression: 'gzip' });
  try {
    assert.equal((await unary(c, '/t.T/Echo', Buffer.from('hi'))).toString(), 'hi');
    const big = randomBytes(8 * 1024 * 1024);
    assert.ok((await unary(c, '/t.T/Echo', big)).equals(big));

    const call = c.makeBidiStreamRequest('/t.T/Chat', (p: Buffer[]) => p, id, new grpc.Metadata(), {});
    const got: Buffer[] = [];
    call.on('data', (b: Buffer) => got.push(b));
    const status = new Promise<grpc.StatusObject>((r) => call.on('status', r));
    call.write([Buffer.from('a'), Buffer.from('b')]);
    call.write([big]);
    call.end();
    assert.equal((await status).code, grpc.status.OK);
    assert.deepEqual(
      got.map((b) => b.length),
      [2, big.length],
    );

    const err = (await unary(c, '/t.T/Fail', Buffer.from('x')).catch((e: unknown) => e)) as grpc.ServiceError;
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(err.details, 'bad input: 100% wrong ✗');
    assert.deepEqual(err.metadata.get('x-why'), ['because']);

    const text = Buffer.alloc(100_000, 'flowgate ');
    assert.ok((await unary(gz, '/t.T/Echo', text)).equals(text));
  } finally {
    c.close();
    gz.close();
  }
});
