import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { parseFlowSpec } from '../../config/load.js';
import { COMPOSE_TIMING, toDockerCompose, type ComposeFile } from './docker-compose.js';

const FLOW = [
  'jtype: Flow',
  'with: { name: Shop }',
  'gateway: { protocol: [http, grpc] }',
  'executors:',
  '  - { name: enc, uses: enc.ts:Enc, replicas: 2, env: { K: v } }',
  '  - { name: idx, uses: idx.ts, shards: 2, replicas: 2, uses_before: pre.ts }',
  '  - { name: f, uses: docker://me/f, when: { tags__n: { $gt: 1 } } }',
].join('\n');

void test('one service per replica, per shard replica, per head and uses-before, and the Gateway', () => {
  const { compose } = toDockerCompose(parseFlowSpec(FLOW), { image: 'flowgate:t' });
  assert.equal(compose.name, 'shop');
  assert.deepEqual(Object.keys(compose.services), [
    'gateway',
    'enc-rep-0',
    'enc-rep-1',
    'idx-shard-0-rep-0',
    'idx-shard-0-rep-1',
    'idx-shard-1-rep-0',
    'idx-shard-1-rep-1',
    'idx-uses-before',
    'idx-head',
    'f',
  ]);
  const enc = compose.services['enc-rep-1']!;
  assert.deepEqual(enc.entrypoint, ['flowgate']);
  assert.deepEqual(enc.command, [
    'executor',
    '--name',
    'enc',
    '--uses',
    'enc.ts:Enc',
    '--host',
    '0.0.0.0',
    '--port',
    '8081',
  ]);
  assert.deepEqual(enc.environment, { K: 'v' });
  assert.deepEqual(enc.networks, ['flowgate-network']);
  assert.equal(enc.stop_grace_period, COMPOSE_TIMING.stopGracePeriod);
  assert.deepEqual(enc.healthcheck, {
    test: ['CMD', 'flowgate', 'ping', 'executor', '127.0.0.1:8081'],
    interval: COMPOSE_TIMING.interval,
    timeout: COMPOSE_TIMING.timeout,
    retries: COMPOSE_TIMING.retries,
    start_period: '60s',
  });
  assert.equal(compose.services.f!.image, 'me/f');
  const head = compose.services['idx-head']!;
  const cmd = head.command as string[];
  assert.deepEqual(JSON.parse(cmd[cmd.indexOf('--shards') + 1]!), [
    ['idx-shard-0-rep-0:8081', 'idx-shard-0-rep-1:8081'],
    ['idx-shard-1-rep-0:8081', 'idx-shard-1-rep-1:8081'],
  ]);
  assert.equal(cmd[cmd.indexOf('--uses-before') + 1], 'idx-uses-before:8081');
  assert.deepEqual(Object.keys(head.depends_on as object), [
    'idx-shard-0-rep-0',
    'idx-shard-0-rep-1',
    'idx-shard-1-rep-0',
    'idx-shard-1-rep-1',
    'idx-uses-before',
  ]);
});

void test('the Gateway publishes its ports, waits for healthy Executors and reads its Flow from a config', () => {
  const { compose } = toDockerCompose(parseFlowSpec(FLOW), { network: 'net' });
  const gw = compose.services.gateway!;
  assert.deepEqual(gw.ports, [
    { target: 8080, published: '8080', protocol: 'tcp' },
    { target: 8081, published: '8081', protocol: 'tcp' },
  ]);
  assert.deepEqual((gw.healthcheck as { test: string[] }).test, [
    'CMD',
    'flowgate',
    'ping',
    'gateway',
    'http://127.0.0.1:8080',
  ]);
  assert.deepEqual(gw.command, [
    'flow',
    '--uses',
    '/flowgate/flow.yml',
    '--host',
    '0.0.0.0',
    '--protocol',
    'http,grpc',
    '--port',
    '8080,8081',
  ]);
  assert.deepEqual(gw.configs, [{ source: 'gateway-flow', target: '/flowgate/flow.yml' }]);
  assert.ok(Object.values(gw.depends_on as object).every((d) => d.condition === 'service_healthy'));
  assert.deepEqual(compose.networks, { net: { driver: 'bridge' } });
  const flow = parseFlowSpec(compose.configs['gateway-flow']!.content);
  const hosts = Object.fromEntries(flow.executors.map((e) => [e.name, [e.host, e.port]]));
  assert.deepEqual(hosts, {
    enc: [['enc-rep-0', 'enc-rep-1'], 8081],
    idx: ['idx-head', 8081],
    f: ['f', 8081],
  });
});

void test("'$' is escaped so that Compose does not interpolate it", () => {
  const { yaml, compose } = toDockerCompose(parseFlowSpec(FLOW));
  assert.match(compose.configs['gateway-flow']!.content, /\$gt: 1/);
  const parsed = parse(yaml) as ComposeFile;
  assert.match(parsed.configs['gateway-flow']!.content, /\$\$gt: 1/);
  assert.doesNotMatch(yaml, /[^$]\$gt/);
});
