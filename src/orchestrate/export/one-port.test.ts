import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFlowSpec } from '../../config/load.js';
import { toDockerCompose } from './docker-compose.js';
import { kubernetesObjects, type KubernetesObject } from './kubernetes.js';

const FLOW = [
  'jtype: Flow',
  'gateway: { protocol: [grpc, http, websocket, graphql], port: 9090 }',
  'executors:',
  '  - { name: enc, uses: enc.ts:Enc }',
].join('\n');

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function find(files: Record<string, KubernetesObject[]>, kind: string, name: string): Obj {
  const o = Object.values(files)
    .flat()
    .find((x) => x.kind === kind && (x.metadata as { name: string }).name === name);
  assert.ok(o, `${kind} ${name}`);
  return o;
}

void test('Kubernetes: one port for every protocol is one Service port, the probes on it', () => {
  const { files } = kubernetesObjects(parseFlowSpec(FLOW), { image: 'flowgate:t' });
  const svc = find(files, 'Service', 'gateway');
  assert.deepEqual(svc.spec.ports, [{ name: 'gateway', port: 9090, targetPort: 9090, protocol: 'TCP' }]);
  const c = find(files, 'Deployment', 'gateway').spec.template.spec.containers[0];
  assert.deepEqual(c.ports, [{ name: 'gateway', containerPort: 9090, protocol: 'TCP' }]);
  assert.deepEqual(c.readinessProbe.exec.command, ['flowgate', 'ping', 'gateway', 'grpc://127.0.0.1:9090']);
  const args = c.args as string[];
  assert.equal(args[args.indexOf('--port') + 1], '9090');
  assert.equal(args[args.indexOf('--protocol') + 1], 'grpc,http,websocket,graphql');
});

void test('Compose: one published port, the health check on it', () => {
  const { compose } = toDockerCompose(parseFlowSpec(FLOW), { image: 'flowgate:t' });
  const gw = compose.services.gateway!;
  assert.deepEqual(gw.ports, [{ target: 9090, published: '9090', protocol: 'tcp' }]);
  assert.deepEqual((gw.healthcheck as { test: string[] }).test, [
    'CMD',
    'flowgate',
    'ping',
    'gateway',
    'grpc://127.0.0.1:9090',
  ]);
  const cmd = gw.command as string[];
  assert.equal(cmd[cmd.indexOf('--port') + 1], '9090');
});

void test('one port for several protocols with port 0 takes the default 8080', () => {
  const { compose } = toDockerCompose(parseFlowSpec(FLOW.replace('port: 9090', 'port: 0')), {
    image: 'flowgate:t',
  });
  assert.deepEqual(compose.services.gateway!.ports, [{ target: 8080, published: '8080', protocol: 'tcp' }]);
});
