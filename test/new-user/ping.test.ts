/**
 * `flowgate ping` as a user runs it (the built CLI, from a folder outside the repository): the
 * one-argument form, the TLS Gateway of a private CA (--ca-file), a custom Gateway, exit codes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Flow } from '../../src/index.js';
import { Upper } from '../fixtures/custom-gateway-plain.js';
import { makeCertificates } from '../fixtures/tls-certs.js';
import { flowgate, userFolder } from './user-folder.js';

const FIXTURE = 'test/fixtures/custom-gateway-plain.ts';
let dir: string;
let remove: () => Promise<void>;
before(async () => ({ dir, remove } = await userFolder({}, { linkFlowgate: false })));
after(() => remove());

void describe('flowgate ping against a plain Flow (grpc + http)', () => {
  let flow: Flow;
  before(async () => {
    flow = new Flow().configGateway({ protocol: ['grpc', 'http'] }).add({ uses: Upper });
    await flow.start();
  });
  after(() => flow.close());

  void test('the one-argument form: http://, grpc:// and host:port, one line on success', async () => {
    const [grpcPort, httpPort] = flow.ports as [number, number];
    for (const address of [
      `http://127.0.0.1:${httpPort}`,
      `grpc://127.0.0.1:${grpcPort}`,
      `127.0.0.1:${grpcPort}`,
    ]) {
      const r = await flowgate(['ping', address], dir);
      assert.equal(r.code, 0, `${address}: ${r.err}`);
      assert.equal(r.out, `gateway at ${address} is healthy\n`);
      assert.equal(r.err, '');
    }
  });

  void test('the two-argument form: flow (a dry run) over grpc and http', async () => {
    const [grpcPort, httpPort] = flow.ports as [number, number];
    for (const address of [`grpc://127.0.0.1:${grpcPort}`, `http://127.0.0.1:${httpPort}`]) {
      const r = await flowgate(['ping', 'flow', address], dir);
      assert.equal(r.code, 0, `${address}: ${r.err}`);
      assert.equal(r.out.trim().split('\n').length, 1);
    }
  });
});

void test('nothing listening: exit 1 after --attempts, each attempt logged', async () => {
  const probe = new Flow().configGateway({ protocol: 'http' });
  await probe.start();
  const port = probe.port;
  await probe.close(); // a port that was just free and now is not served
  const r = await flowgate(['ping', `http://127.0.0.1:${port}`, '--attempts', '2', '--timeout', '500'], dir);
  assert.equal(r.code, 1);
  assert.equal(r.out, '');
  assert.match(r.err, /not responding, attempt \(1\/2\) in 1s\n.*not responding, attempt \(2\/2\)\n/s);
});

void test('a bad target or address is a precise error, exit 1', async () => {
  const r = await flowgate(['ping', 'gatway', '127.0.0.1:1'], dir);
  assert.equal(r.code, 1);
  assert.match(r.err, /unknown target 'gatway'/);
  const r2 = await flowgate(['ping', 'ftp://127.0.0.1:1'], dir);
  assert.match(r2.err, /unknown scheme 'ftp:\/\/'/);
});

void test('ping flow against a custom Gateway that answers its health check', async () => {
  const flow = new Flow()
    .configGateway({ uses: `${FIXTURE}:PlainHttpGateway`, protocol: 'http' })
    .add({ uses: `${FIXTURE}:Upper` });
  await flow.start();
  try {
    const r = await flowgate(['ping', 'flow', `http://127.0.0.1:${flow.port}`], dir);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, `flow at http://127.0.0.1:${flow.port} is healthy\n`);
  } finally {
    await flow.close();
  }
});

const certs = makeCertificates();
void describe(
  'a TLS Gateway signed by a private CA',
  { skip: certs ? false : 'openssl is not installed' },
  () => {
    let flow: Flow;
    before(async () => {
      flow = new Flow()
        .configGateway({
          protocol: ['grpc', 'http'],
          sslCertfile: certs!.certFile,
          sslKeyfile: certs!.keyFile,
        })
        .add({ uses: Upper });
      await flow.start();
    });
    after(async () => {
      await flow.close();
      certs!.remove();
    });

    void test('--ca-file: grpcs:// and https:// are healthy, a flow dry run too', async () => {
      const [grpcPort, httpPort] = flow.ports as [number, number];
      for (const args of [
        [`grpcs://localhost:${grpcPort}`],
        [`https://localhost:${httpPort}`],
        ['flow', `grpcs://localhost:${grpcPort}`],
        ['flow', `https://localhost:${httpPort}`],
      ]) {
        const r = await flowgate(['ping', ...args, '--ca-file', certs!.caFile], dir);
        assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`);
      }
    });

    void test('without --ca-file the private CA is not trusted: exit 1', async () => {
      const [, httpPort] = flow.ports as [number, number];
      const r = await flowgate(['ping', `https://localhost:${httpPort}`], dir);
      assert.equal(r.code, 1);
    });
  },
);
