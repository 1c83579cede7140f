import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFlowSpec } from '../../config/load.js';
import { Flow } from '../flow.js';
import { gatewayCommand, gatewayFlowSpec, gatewayFlowYaml } from './gateway-flow.js';
import { planExport } from './plan.js';

const FLOW = [
  'jtype: Flow',
  'with: { name: f, timeout_ready: 5000 }',
  'gateway: { protocol: http, port: 1234, cors: true, timeout_send: 900 }',
  'executors:',
  '  - { name: a, uses: a.ts, replicas: 2, uses_with: { k: 1 }, timeout_send: 50 }',
  '  - { name: b, uses: b.ts, shards: 2, when: { tags__x: { $gt: 1 } } }',
  '  - { name: c, uses: c.ts, needs: a, floating: true }',
  '  - { name: d, needs: [b, a], no_reduce: true }',
  '  - { name: e, external: true, host: h, port: 5 }',
].join('\n');

void test('every deployed Executor becomes external at its address; the graph stays as it was', () => {
  const plan = planExport(parseFlowSpec(FLOW), { image: 'i' });
  const spec = gatewayFlowSpec(plan, (e) => ({ host: `${e.id}.svc`, port: 8080 }));
  assert.deepEqual(spec.executors, [
    { name: 'a', timeoutSend: 50, needs: 'gateway', external: true, host: 'a.svc', port: 8080 },
    { name: 'b', when: { tags__x: { $gt: 1 } }, needs: 'a', external: true, host: 'b.svc', port: 8080 },
    { name: 'c', floating: true, needs: 'a', external: true, host: 'c.svc', port: 8080 },
    { name: 'd', noReduce: true, needs: ['b', 'a'] },
    { name: 'e', needs: 'd', external: true, host: 'h', port: 5 },
  ]);
  // protocol, port and host come from the command line; the rest of the gateway options stay
  assert.deepEqual(spec.gateway, { cors: true, timeoutSend: 900 });
  assert.deepEqual(spec.with, { name: 'f', timeoutReady: 5000 });
});

void test('the YAML validates as a Flow, and a Flow of external Executors builds from it', () => {
  const plan = planExport(parseFlowSpec(FLOW), { image: 'i' });
  const text = gatewayFlowYaml(plan, (e) => ({ host: [`${e.id}-0`, `${e.id}-1`], port: 8081 }));
  const spec = parseFlowSpec(text);
  assert.deepEqual(spec.executors[0]!.host, ['a-0', 'a-1']);
  const flow = Flow.fromSpec(spec);
  assert.deepEqual(
    flow.toSpec().executors.map((e) => [e.name, e.external ?? false]),
    [
      ['a', true],
      ['b', true],
      ['c', true],
      ['d', false],
      ['e', true],
    ],
  );
});

void test('gatewayCommand: flowgate flow on the mounted Flow, bound to every interface', () => {
  assert.deepEqual(
    gatewayCommand({ flowPath: '/flowgate/flow.yml', protocols: ['grpc', 'websocket'], ports: [80, 81] }),
    [
      'flow',
      '--uses',
      '/flowgate/flow.yml',
      '--host',
      '0.0.0.0',
      '--protocol',
      'grpc,websocket',
      '--port',
      '80,81',
    ],
  );
});
