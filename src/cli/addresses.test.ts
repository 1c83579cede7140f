import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { explain } from '../core/known-errors.js';
import { addressList, addressUrl, isHttpGateway } from './addresses.js';

void test('the start line says https://, grpcs://, wss:// with TLS, and brackets IPv6 hosts', () => {
  assert.equal(addressUrl('http', '127.0.0.1', 8080), 'http://127.0.0.1:8080');
  assert.equal(addressUrl('http', '127.0.0.1', 8080, true), 'https://127.0.0.1:8080');
  assert.equal(addressUrl('graphql', '::1', 80, true), 'https://[::1]:80');
  assert.equal(
    addressList(['grpc', 'websocket'], '0.0.0.0', [1, 2], true),
    'grpcs://0.0.0.0:1, wss://0.0.0.0:2',
  );
});

void test('a Gateway holding a node:http server (Fastify app or its own) is an HTTP Gateway', () => {
  assert.equal(isHttpGateway({ app: { server: createServer() } }), true);
  assert.equal(isHttpGateway({ server: createServer() }), true);
  assert.equal(isHttpGateway({ grpcServer: {} }), false);
});

void test('the port-in-use hint names the port that is in use, not 12345', () => {
  const err = Object.assign(new Error('listen EADDRINUSE: address already in use 127.0.0.1:8080'), {
    code: 'EADDRINUSE',
  });
  const text = explain(err);
  assert.match(text, /port 8080 on 127\.0\.0\.1 is already in use: .*grep :8080/);
  assert.doesNotMatch(text, /12345/);
});
