import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { parseFlowSpec } from '../../config/load.js';
import { K8S_TIMING, kubernetesObjects, toKubernetes, type KubernetesObject } from './kubernetes.js';

const FLOW = [
  'jtype: Flow',
  'with: { name: shop, timeout_ready: 120000 }',
  'gateway: { protocol: [grpc, http], port: [0, 9000], prefetch: 10 }',
  'executors:',
  '  - { name: enc, uses: enc.ts:Enc, replicas: 3, uses_with: { dim: 8 }, env: { THREADS: 2 } }',
  '  - { name: idx, uses: docker://me/idx:1, shards: 2, replicas: 2, polling: { /search: ALL }, uses_after: merge.ts:M }',
  '  - { name: ext, external: true, host: [h1, h2], port: 7000, needs: enc }',
  '  - { name: join, needs: [idx, ext] }',
  '  - { name: log, uses: log.ts, needs: enc, floating: true }',
].join('\n');

/** A parsed object, loosely typed so that assertions can reach into it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
type Obj = KubernetesObject & { metadata: { name: string }; spec: Json; data?: Record<string, string> };

function find(objects: Record<string, KubernetesObject[]>, kind: string, name: string): Obj {
  const o = Object.values(objects)
    .flat()
    .find((x) => x.kind === kind && (x.metadata as { name: string }).name === name);
  assert.ok(o, `${kind} ${name}`);
  return o as Obj;
}

void test('one file per Deployment, with its ConfigMap and Service; the namespace from the Flow name', () => {
  const { files, namespace } = kubernetesObjects(parseFlowSpec(FLOW), { image: 'flowgate:t' });
  assert.equal(namespace, 'shop');
  assert.deepEqual(Object.keys(files).sort(), [
    '00-namespace.yml',
    'enc.yml',
    'gateway.yml',
    'idx-head.yml',
    'idx-shard-0.yml',
    'idx-shard-1.yml',
    'log.yml',
  ]);
  assert.deepEqual(
    files['enc.yml']!.map((o) => o.kind),
    ['ConfigMap', 'Service', 'Deployment'],
  );
  for (const o of Object.values(files).flat())
    if (o.kind !== 'Namespace') assert.equal((o.metadata as { namespace: string }).namespace, 'shop');
  assert.ok(!('00-namespace.yml' in kubernetesObjects(parseFlowSpec(FLOW), { namespace: 'default' }).files));
  assert.throws(() => kubernetesObjects(parseFlowSpec(FLOW), { namespace: 'Bad_NS' }), /not a DNS label/);
});

void test('Executors, shards and heads get headless Services; the Gateway a ClusterIP one per protocol', () => {
  const { files } = kubernetesObjects(parseFlowSpec(FLOW), { image: 'flowgate:t' });
  for (const name of ['enc', 'idx-head', 'idx-shard-0', 'idx-shard-1', 'log']) {
    const svc = find(files, 'Service', name);
    assert.equal(svc.spec.clusterIP, 'None', name);
    assert.deepEqual(svc.spec.selector, { app: name });
    assert.deepEqual(svc.spec.ports, [{ name: 'grpc', port: 8080, targetPort: 8080, protocol: 'TCP' }]);
  }
  const gw = find(files, 'Service', 'gateway');
  assert.equal(gw.spec.type, 'ClusterIP');
  assert.equal(gw.spec.clusterIP, undefined);
  assert.deepEqual(
    gw.spec.ports.map((p: { name: string; port: number }) => `${p.name}:${p.port}`),
    ['grpc:8080', 'http:9000'],
  );
});

void test('containers run the flowgate CLI with the Executor, head and gateway flags', () => {
  const { files } = kubernetesObjects(parseFlowSpec(FLOW), { image: 'flowgate:t' });
  const enc = find(files, 'Deployment', 'enc').spec;
  assert.equal(enc.replicas, 3);
  const [c] = enc.template.spec.containers;
  assert.equal(c.image, 'flowgate:t');
  assert.deepEqual(c.command, ['flowgate']);
  assert.deepEqual(c.args, [
    'executor',
    '--name',
    'enc',
    '--uses',
    'enc.ts:Enc',
    '--host',
    '0.0.0.0',
    '--port',
    '8080',
    '--uses-with',
    '{"dim":8}',
  ]);
  assert.deepEqual(c.envFrom, [{ configMapRef: { name: 'enc-configmap' } }]);
  assert.deepEqual(find(files, 'ConfigMap', 'enc-configmap').data, { THREADS: '2' });

  const shard = find(files, 'Deployment', 'idx-shard-1').spec;
  assert.equal(shard.replicas, 2);
  assert.equal(shard.template.spec.containers[0].image, 'me/idx:1');
  assert.deepEqual(shard.template.spec.containers[0].args.slice(3, 5), ['--uses', 'config.yml']);
  assert.equal(shard.template.metadata.labels['flowgate.io/shard'], '1');

  const head = find(files, 'Deployment', 'idx-head').spec;
  assert.equal(head.replicas, 1);
  const [h, after] = head.template.spec.containers;
  assert.equal(h.image, 'flowgate:t');
  const arg = (flag: string) => h.args[h.args.indexOf(flag) + 1] as string;
  assert.equal(h.args[0], 'head');
  assert.deepEqual(JSON.parse(arg('--shards')), [
    ['idx-shard-0.shop.svc.cluster.local:8080'],
    ['idx-shard-1.shop.svc.cluster.local:8080'],
  ]);
  assert.equal(arg('--polling'), '{"/search":"ALL"}');
  assert.equal(arg('--uses-after'), '127.0.0.1:8082');
  assert.equal(after.name, 'uses-after');
  assert.deepEqual(after.args, [
    'executor',
    '--name',
    'idx/uses-after',
    '--uses',
    'merge.ts:M',
    '--host',
    '127.0.0.1',
    '--port',
    '8082',
  ]);

  const gw = find(files, 'Deployment', 'gateway').spec.template.spec;
  assert.deepEqual(gw.containers[0].args, [
    'flow',
    '--uses',
    '/flowgate/flow.yml',
    '--host',
    '0.0.0.0',
    '--protocol',
    'grpc,http',
    '--port',
    '8080,9000',
  ]);
  assert.deepEqual(gw.containers[0].volumeMounts, [{ name: 'flow', mountPath: '/flowgate', readOnly: true }]);
  assert.equal(gw.volumes[0].configMap.name, 'gateway-configmap');
});

void test("the Gateway's Flow reaches every Executor by its headless Service's DNS name", () => {
  const { files } = kubernetesObjects(parseFlowSpec(FLOW), { namespace: 'prod', clusterDomain: 'k.local' });
  const flow = parseFlowSpec(find(files, 'ConfigMap', 'gateway-configmap').data!['flow.yml']!);
  const byName = Object.fromEntries(flow.executors.map((e) => [e.name, e]));
  assert.deepEqual(byName.enc, {
    name: 'enc',
    needs: 'gateway',
    external: true,
    host: 'enc.prod.svc.k.local',
    port: 8080,
  });
  assert.equal(byName.idx?.host, 'idx-head.prod.svc.k.local');
  assert.deepEqual([byName.ext?.host, byName.ext?.port], [['h1', 'h2'], 7000]);
  assert.deepEqual(byName.join, { name: 'join', needs: ['idx', 'ext'] });
  assert.equal(byName.log?.floating, true);
  assert.deepEqual(flow.gateway, { prefetch: 10 });
  assert.equal(flow.with.name, 'shop');
});

void test('probes ping the runtime; preStop and the grace period cover the drain', () => {
  const { files } = kubernetesObjects(parseFlowSpec(FLOW));
  const pod = (n: string): Json => find(files, 'Deployment', n).spec.template.spec;
  const enc = pod('enc');
  assert.equal(enc.terminationGracePeriodSeconds, K8S_TIMING.terminationGracePeriodSeconds);
  const c = enc.containers[0];
  for (const p of ['startupProbe', 'readinessProbe', 'livenessProbe'])
    assert.deepEqual(c[p].exec.command, ['flowgate', 'ping', 'executor', '127.0.0.1:8080'], p);
  assert.equal(c.startupProbe.failureThreshold, 24); // timeout_ready 120 s / 5 s
  assert.deepEqual(c.lifecycle.preStop.exec.command, ['sleep', String(K8S_TIMING.preStopSeconds)]);
  assert.equal(enc.terminationGracePeriodSeconds, 30);
  assert.ok(
    K8S_TIMING.preStopSeconds + K8S_TIMING.drainSeconds < K8S_TIMING.terminationGracePeriodSeconds,
    "preStop + the runtime's drain grace period fit in the grace period, with room to close",
  );
  assert.deepEqual(pod('gateway').containers[0].readinessProbe.exec.command, [
    'flowgate',
    'ping',
    'gateway',
    'grpc://127.0.0.1:8080',
  ]);
  assert.deepEqual(pod('idx-head').containers[1].livenessProbe.exec.command, [
    'flowgate',
    'ping',
    'executor',
    '127.0.0.1:8082',
  ]);
});

void test('toKubernetes writes YAML documents that parse back to the same objects', () => {
  const spec = parseFlowSpec(FLOW);
  const { files } = toKubernetes(spec, { image: 'i:1' });
  const objects = kubernetesObjects(spec, { image: 'i:1' }).files;
  for (const [path, text] of Object.entries(files)) {
    assert.match(text, /^# Generated by `flowgate export kubernetes`/);
    const docs = parseAllDocuments(text).map((d) => d.toJS() as unknown);
    assert.deepEqual(docs, JSON.parse(JSON.stringify(objects[path])), path);
  }
});

void test('a changed ConfigMap changes the pod template (so apply rolls the pods)', () => {
  const hash = (env: string) =>
    find(
      kubernetesObjects(parseFlowSpec(`jtype: Flow\nexecutors:\n  - { name: a, uses: a.ts, env: ${env} }\n`))
        .files,
      'Deployment',
      'a',
    ).spec.template.metadata.annotations['flowgate.io/config-hash'] as string;
  assert.equal(hash('{ X: 1 }'), hash('{ X: 1 }'));
  assert.notEqual(hash('{ X: 1 }'), hash('{ X: 2 }'));
});

void test('names that would clash as objects are rejected', () => {
  const spec = parseFlowSpec(
    'jtype: Flow\nexecutors:\n  - { name: a, uses: a.ts, shards: 2 }\n  - { name: a-head, uses: b.ts }\n',
  );
  assert.throws(
    () => kubernetesObjects(spec),
    /Executor 'a-head' and Executor 'a' would both be deployed as 'a-head'/,
  );
});
