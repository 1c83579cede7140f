/**
 * `flowgate export` end to end through the CLI: a Flow with replicas, shards (with uses_before and
 * uses_after), a floating Executor, a docker:// image, an external Executor and a `when` condition
 * is exported to Kubernetes manifests (every object checked against the Kubernetes API schemas,
 * offline, unknown fields included), to a Compose file (whose services are then run here, on
 * loopback ports, from the very commands it holds) and to an SVG picture.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { Client, Document, DocumentArray } from '../src/index.js';
import { loadFlowSpec, parseFlowSpec } from '../src/config/load.js';
import { ping } from '../src/cli/ping.js';
import { freePort } from '../src/serve/gateway-runtime.js';

const CLI = resolve('src/cli/main.ts');
const TSX = import.meta.resolve('tsx');
const TRAIL = pathToFileURL(resolve('test/fixtures/chain-executors.ts')).href;

/** Runs `flowgate <args>` in `cwd`; resolves with its exit code and stderr. */
async function flowgate(args: string[], cwd: string): Promise<{ code: number; stderr: string }> {
  const child = spawn(process.execPath, ['--import', TSX, CLI, ...args], {
    cwd,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  return { code, stderr };
}

// ---------------------------------------------------------------------------------------------
// Kubernetes schema validation, offline: the OpenAPI schemas of kubernetes-models, plus the
// checks the API server makes beyond them (names, label syntax, references between objects).
// ---------------------------------------------------------------------------------------------

/** Parsed YAML, loosely typed so that checks can reach into it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
type K8s = { apiVersion: string; kind: string; metadata: Record<string, Json>; spec?: Json; data?: Json };

const MODELS: Record<string, { prototype: { validate(): void } }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
};

/**
 * Validates against the schema and lists the fields it does not know: the schemas do not forbid
 * extra fields (the API server's strict field validation does), so every field the validator never
 * looked at is reported.
 */
function schemaErrors(o: K8s): string[] {
  const seen = new Map<object, Set<PropertyKey>>();
  const proxies = new WeakMap<object, object>();
  const wrap = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object') return v;
    let p = proxies.get(v);
    if (!p) {
      const keys = new Set<PropertyKey>();
      seen.set(v, keys);
      p = new Proxy(v, {
        get: (t, k, r) => (keys.add(k), wrap(Reflect.get(t, k, r))),
        has: (t, k) => (keys.add(k), Reflect.has(t, k)),
        ownKeys: (t) => (Reflect.ownKeys(t).forEach((k) => keys.add(k)), Reflect.ownKeys(t)),
      });
      proxies.set(v, p);
    }
    return p;
  };
  const model = MODELS[`${o.apiVersion}/${o.kind}`];
  assert.ok(model, `no schema for ${o.apiVersion} ${o.kind}`);
  const errors: string[] = [];
  try {
    model.prototype.validate.call(wrap(o)); // the model's generated schema validator, on plain data
  } catch (err) {
    errors.push(...(err as Error).message.split('\n'));
  }
  const walk = (v: unknown, path: string) => {
    if (v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) return v.forEach((x, i) => walk(x, `${path}/${i}`));
    for (const [k, x] of Object.entries(v)) {
      if (!seen.get(v)?.has(k)) errors.push(`${path}/${k}: unknown field`);
      else walk(x, `${path}/${k}`);
    }
  };
  walk(o, '');
  return errors;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

function isPortName(n: string): boolean {
  return n.length <= 15 && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(n) && /[a-z]/.test(n) && !n.includes('--');
}

/** What the API server checks beyond the schema, and what makes the objects work together. */
function apiServerErrors(all: K8s[]): string[] {
  const errors: string[] = [];
  const fail = (o: K8s, msg: string) => errors.push(`${o.kind} ${o.metadata.name}: ${msg}`);
  const configMaps = new Set(all.filter((o) => o.kind === 'ConfigMap').map((o) => o.metadata.name as string));
  const namespaces = new Set(all.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name as string));
  const deployments = all.filter((o) => o.kind === 'Deployment');
  const keys = new Set<string>();
  for (const o of all) {
    const key = `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    if (keys.has(key)) fail(o, 'defined twice');
    keys.add(key);
    const name: string = o.metadata.name;
    const nameOk = o.kind === 'Service' ? DNS_1035.test(name) : DNS_LABEL.test(name);
    if (!nameOk || name.length > 63) fail(o, 'bad name');
    if (o.kind !== 'Namespace' && !namespaces.has(o.metadata.namespace) && o.metadata.namespace !== 'default')
      fail(o, `namespace ${o.metadata.namespace} is not created`);
    for (const [k, v] of Object.entries({ ...o.metadata.labels, ...o.spec?.template?.metadata?.labels }))
      if (!LABEL_KEY.test(k) || !LABEL_VALUE.test(String(v)) || String(v).length > 63)
        fail(o, `bad label ${k}=${String(v)}`);
  }
  for (const d of deployments) {
    const pod = d.spec.template;
    for (const [k, v] of Object.entries(d.spec.selector.matchLabels))
      if (pod.metadata.labels[k] !== v) fail(d, `selector ${k} does not match the pod labels`);
    const names = new Set<string>();
    const ports = new Set<string>();
    for (const c of pod.spec.containers) {
      if (!DNS_LABEL.test(c.name) || names.has(c.name)) fail(d, `bad or repeated container name ${c.name}`);
      names.add(c.name);
      for (const p of c.ports ?? []) {
        if (!isPortName(p.name) || ports.has(p.name)) fail(d, `bad or repeated port name ${p.name}`);
        ports.add(p.name);
      }
      for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
        const handlers = ['exec', 'httpGet', 'tcpSocket', 'grpc'].filter((h) => c[probe]?.[h]);
        if (handlers.length !== 1) fail(d, `${c.name} ${probe} has ${handlers.length} handlers`);
      }
      for (const ref of c.envFrom ?? [])
        if (!configMaps.has(ref.configMapRef.name)) fail(d, `envFrom ${ref.configMapRef.name} is missing`);
      for (const m of c.volumeMounts ?? [])
        if (!pod.spec.volumes?.some((v: { name: string }) => v.name === m.name))
          fail(d, `no volume ${m.name}`);
    }
    for (const v of pod.spec.volumes ?? [])
      if (v.configMap && !configMaps.has(v.configMap.name)) fail(d, `volume ${v.configMap.name} is missing`);
  }
  for (const s of all.filter((o) => o.kind === 'Service')) {
    const target = deployments.find((d) =>
      Object.entries(s.spec.selector).every(([k, v]) => d.spec.template.metadata.labels[k] === v),
    );
    if (!target) {
      fail(s, 'selects no Deployment');
      continue;
    }
    const containerPorts: number[] = [];
    for (const c of target.spec.template.spec.containers)
      for (const p of c.ports ?? []) containerPorts.push(p.containerPort as number);
    for (const p of s.spec.ports) {
      if (!DNS_LABEL.test(p.name)) fail(s, `bad port name ${p.name}`);
      if (!containerPorts.includes(p.targetPort))
        fail(s, `targetPort ${p.targetPort} is not a container port`);
    }
  }
  return errors;
}

// ---------------------------------------------------------------------------------------------

const FLOW = `jtype: Flow
with:
  name: shop
  timeout_ready: 30000
gateway:
  protocol: [grpc, http]
  port: [0, 9000]
executors:
  - name: encoder
    uses: exec/encoder.ts:Encoder
    uses_with: { dim: 128 }
    replicas: 3
    env: { THREADS: 2 }
  - name: indexer
    uses: docker://registry.example/indexer:1.0
    shards: 2
    replicas: 2
    polling: { /search: ALL, '*': ANY }
    uses_before: exec/pre.ts:Pre
    uses_after: exec/merge.ts:Merge
  - name: audit
    uses: exec/audit.ts:Audit
    needs: encoder
    floating: true
  - name: ranker
    uses: exec/ranker.ts:Ranker
    needs: indexer
    when: { tags__score: { $gt: 0.5 } }
  - name: remote
    external: true
    host: remote.example
    port: 7000
    needs: ranker
`;

void describe('flowgate export', () => {
  let dir: string;
  const objects: K8s[] = [];
  const files: Record<string, K8s[]> = {};

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flowgate-export-'));
    await writeFile(join(dir, 'flow.yml'), FLOW);
    const k8s = await flowgate(['export', 'kubernetes', 'flow.yml', 'k8s', '--namespace', 'shop-prod'], dir);
    assert.equal(k8s.code, 0, k8s.stderr);
    assert.match(k8s.stderr, /wrote 8 files to k8s \(namespace shop-prod\): kubectl apply -f k8s/);
    // Without --image the manifests run the bare runtime image: said, with how to build and pass one.
    assert.match(k8s.stderr, /flowgate: warning: no --image: .*does not contain your Executors' code/);
    assert.match(k8s.stderr, /--image registry\.example\.com\/my-flow:0\.1\.0/);
    for (const f of (await readdir(join(dir, 'k8s'))).sort()) {
      const text = await readFile(join(dir, 'k8s', f), 'utf8');
      files[f] = parseAllDocuments(text).map((d) => d.toJS() as K8s);
      objects.push(...files[f]);
    }
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  void test('kubernetes with --image: no warning about the image', async () => {
    const r = await flowgate(
      ['export', 'kubernetes', 'flow.yml', 'k8s-img', '--image', 'reg.example/shop:1'],
      dir,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /warning: no --image/);
  });

  const get = (kind: string, name: string): K8s => {
    const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
    assert.ok(o, `${kind} ${name}`);
    return o;
  };

  void test('kubernetes: every object validates against the Kubernetes API schemas', () => {
    assert.deepEqual(Object.keys(files), [
      '00-namespace.yml',
      'audit.yml',
      'encoder.yml',
      'gateway.yml',
      'indexer-head.yml',
      'indexer-shard-0.yml',
      'indexer-shard-1.yml',
      'ranker.yml',
    ]);
    assert.equal(objects.length, 1 + 7 * 3);
    for (const o of objects) assert.deepEqual(schemaErrors(o), [], `${o.kind} ${o.metadata.name}`);
    assert.deepEqual(apiServerErrors(objects), []);
  });

  void test('kubernetes: the validation itself catches a wrong type, an unknown field, a dangling reference', () => {
    const d = structuredClone(get('Deployment', 'encoder'));
    d.spec.template.spec.containers[0].startupProbe.periodSeconds = '5';
    d.spec.template.spec.containers[0].livenessProbe.execc = { command: ['x'] };
    const errors = schemaErrors(d);
    assert.ok(
      errors.some((e) => /startupProbe\/periodSeconds must be integer/.test(e)),
      errors.join('\n'),
    );
    assert.ok(
      errors.some((e) => /livenessProbe\/execc: unknown field/.test(e)),
      errors.join('\n'),
    );
    d.spec.template.spec.containers[0].envFrom[0].configMapRef.name = 'nope';
    assert.match(
      apiServerErrors([...objects, { ...d, metadata: { ...d.metadata, name: 'x' } }]).join(),
      /envFrom nope/,
    );
  });

  void test('kubernetes: headless Services per Executor, shard and head; the Gateway is reached by a ClusterIP', () => {
    for (const n of ['encoder', 'audit', 'ranker', 'indexer-head', 'indexer-shard-0', 'indexer-shard-1'])
      assert.equal(get('Service', n).spec.clusterIP, 'None', n);
    assert.equal(get('Service', 'gateway').spec.type, 'ClusterIP');
    assert.deepEqual(
      get('Service', 'gateway').spec.ports.map((p: Json) => [p.name as string, p.port as number]),
      [
        ['grpc', 8080],
        ['http', 9000],
      ],
    );
    assert.equal(get('Deployment', 'encoder').spec.replicas, 3);
    assert.equal(get('Deployment', 'indexer-shard-1').spec.replicas, 2);
    assert.equal(get('Deployment', 'indexer-head').spec.replicas, 1);
    assert.ok(!objects.some((o) => o.metadata.name.startsWith('remote')), 'nothing deployed for an external');
  });

  void test('kubernetes: probes run flowgate ping; preStop and the grace period match the drain', () => {
    for (const d of objects.filter((o) => o.kind === 'Deployment')) {
      const pod = d.spec.template.spec;
      assert.equal(pod.terminationGracePeriodSeconds, 30);
      for (const c of pod.containers) {
        const cmd = c.startupProbe.exec.command as string[];
        assert.deepEqual(cmd.slice(0, 2), ['flowgate', 'ping']);
        assert.deepEqual(c.readinessProbe.exec.command, cmd);
        assert.deepEqual(c.livenessProbe.exec.command, cmd);
        assert.equal(c.startupProbe.failureThreshold, 6); // timeout_ready 30 s, every 5 s
        assert.deepEqual(c.lifecycle.preStop.exec.command, ['sleep', '5']);
        assert.deepEqual(c.command, ['flowgate']);
      }
    }
    const probe = (n: string, i = 0) =>
      get('Deployment', n).spec.template.spec.containers[i].readinessProbe.exec.command.slice(2) as string[];
    assert.deepEqual(probe('encoder'), ['executor', '127.0.0.1:8080']);
    assert.deepEqual(probe('gateway'), ['gateway', 'grpc://127.0.0.1:8080']);
    assert.deepEqual(probe('indexer-head', 1), ['executor', '127.0.0.1:8081']);
    assert.deepEqual(probe('indexer-head', 2), ['executor', '127.0.0.1:8082']);
  });

  void test('kubernetes: args; the docker:// image runs config.yml; the head and Gateway get DNS names', async () => {
    const args = (n: string, i = 0) => get('Deployment', n).spec.template.spec.containers[i].args as string[];
    assert.deepEqual(args('encoder'), [
      'executor',
      '--name',
      'encoder',
      '--uses',
      'exec/encoder.ts:Encoder',
      '--host',
      '0.0.0.0',
      '--port',
      '8080',
      '--uses-with',
      '{"dim":128}',
    ]);
    assert.equal(get('ConfigMap', 'encoder-configmap').data.THREADS, '2');
    const shard = get('Deployment', 'indexer-shard-0').spec.template.spec.containers[0];
    assert.equal(shard.image, 'registry.example/indexer:1.0');
    assert.deepEqual(shard.args.slice(3, 5), ['--uses', 'config.yml']);
    const head = args('indexer-head');
    assert.deepEqual(JSON.parse(head[head.indexOf('--shards') + 1]!), [
      ['indexer-shard-0.shop-prod.svc.cluster.local:8080'],
      ['indexer-shard-1.shop-prod.svc.cluster.local:8080'],
    ]);
    assert.equal(head[head.indexOf('--uses-before') + 1], '127.0.0.1:8081');
    assert.equal(head[head.indexOf('--uses-after') + 1], '127.0.0.1:8082');
    assert.deepEqual(args('indexer-head', 1).slice(0, 5), [
      'executor',
      '--name',
      'indexer/uses-before',
      '--uses',
      'exec/pre.ts:Pre',
    ]);

    // the Gateway's Flow: a valid Flow YAML naming the headless Services
    const flowPath = join(dir, 'gateway-flow.yml');
    await writeFile(flowPath, get('ConfigMap', 'gateway-configmap').data['flow.yml']);
    const flow = await loadFlowSpec(flowPath);
    const hosts = Object.fromEntries(
      flow.executors.map((e) => [e.name, `${String(e.host)}:${String(e.port)}`]),
    );
    assert.deepEqual(hosts, {
      encoder: 'encoder.shop-prod.svc.cluster.local:8080',
      indexer: 'indexer-head.shop-prod.svc.cluster.local:8080',
      audit: 'audit.shop-prod.svc.cluster.local:8080',
      ranker: 'ranker.shop-prod.svc.cluster.local:8080',
      remote: 'remote.example:7000',
    });
    assert.ok(flow.executors.every((e) => e.external));
    const audit = flow.executors.find((e) => e.name === 'audit')!;
    assert.deepEqual([audit.floating, audit.needs], [true, 'encoder']);
    assert.deepEqual(flow.executors.find((e) => e.name === 'ranker')!.when, { tags__score: { $gt: 0.5 } });
    assert.deepEqual(args('gateway'), [
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
  });

  void test('docker-compose: a service per replica, health checks, the Gateway addresses and ports', async () => {
    const r = await flowgate(['export', 'docker-compose', 'flow.yml', 'docker-compose.yml'], dir);
    assert.equal(r.code, 0, r.stderr);
    const compose: Json = parse(await readFile(join(dir, 'docker-compose.yml'), 'utf8'));
    assert.deepEqual(Object.keys(compose.services).sort(), [
      'audit',
      'encoder-rep-0',
      'encoder-rep-1',
      'encoder-rep-2',
      'gateway',
      'indexer-head',
      'indexer-shard-0-rep-0',
      'indexer-shard-0-rep-1',
      'indexer-shard-1-rep-0',
      'indexer-shard-1-rep-1',
      'indexer-uses-after',
      'indexer-uses-before',
      'ranker',
    ]);
    for (const [name, s] of Object.entries<Json>(compose.services)) {
      assert.deepEqual(s.entrypoint, ['flowgate'], name);
      const target =
        name === 'gateway' ? ['gateway', 'grpc://127.0.0.1:8080'] : ['executor', '127.0.0.1:8081'];
      assert.deepEqual(s.healthcheck.test, ['CMD', 'flowgate', 'ping', ...target], name);
    }
    const gw = compose.services.gateway;
    assert.deepEqual(
      gw.ports.map((p: Json) => `${p.published}:${p.target}`),
      ['8080:8080', '9000:9000'],
    );
    assert.equal(Object.keys(gw.depends_on).length, 12);
    const content = (compose.configs['gateway-flow'].content as string).replaceAll('$$', '$');
    const flow = parseFlowSpec(content);
    const hosts = Object.fromEntries(flow.executors.map((e) => [e.name, e.host]));
    assert.deepEqual(hosts, {
      encoder: ['encoder-rep-0', 'encoder-rep-1', 'encoder-rep-2'],
      indexer: 'indexer-head',
      audit: 'audit',
      ranker: 'ranker',
      remote: 'remote.example',
    });
  });

  void test('flowchart: an SVG with every Executor, replicas, shards, the floating one dashed', async () => {
    const r = await flowgate(['export', 'flowchart', 'flow.yml', 'flow.svg'], dir);
    assert.equal(r.code, 0, r.stderr);
    const svg = await readFile(join(dir, 'flow.svg'), 'utf8');
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    for (const n of ['encoder', 'indexer', 'audit', 'ranker', 'remote'])
      assert.match(svg, new RegExp(`data-name="${n}"`));
    assert.match(svg, />x3</);
    assert.match(svg, />2 shards x2</);
    assert.match(svg, /data-name="audit">\s*<rect[^>]*stroke-dasharray/);
    assert.match(svg, /when \{&#34;tags__score&#34;/);
  });

  void test('a Flow that cannot be exported fails with one sentence', async () => {
    await writeFile(join(dir, 'bad.yml'), 'jtype: Flow\nexecutors:\n  - { name: a, uses: jinahub://X }\n');
    const r = await flowgate(['export', 'kubernetes', 'bad.yml', 'out'], dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^flowgate: Executor 'a': uses 'jinahub:\/\/X' cannot be exported/);
  });
});

// ---------------------------------------------------------------------------------------------
// The Compose file, run: each service's own command, on loopback ports instead of the network.
// ---------------------------------------------------------------------------------------------

void describe('the exported Compose services run and answer', () => {
  let dir: string;
  const children: ChildProcess[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flowgate-export-run-'));
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  void test('replicas, shards and the Gateway start from their Compose commands and pass health checks', async () => {
    await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n');
    await writeFile(join(dir, 'chain.ts'), `export { Trail } from '${TRAIL}';\n`);
    await writeFile(
      join(dir, 'flow.yml'),
      'jtype: Flow\nexecutors:\n  - { name: a, uses: chain.ts:Trail, replicas: 2 }\n  - { name: s, uses: chain.ts:Trail, shards: 2 }\n',
    );
    const r = await flowgate(['export', 'docker-compose', 'flow.yml', 'dc.yml'], dir);
    assert.equal(r.code, 0, r.stderr);
    const compose = parse(await readFile(join(dir, 'dc.yml'), 'utf8')) as {
      services: Record<string, { command: string[]; healthcheck: { test: string[] } }>;
      configs: Record<string, { content: string }>;
    };
    const names = Object.keys(compose.services);
    assert.deepEqual(names.sort(), ['a-rep-0', 'a-rep-1', 'gateway', 's-head', 's-shard-0', 's-shard-1']);
    // each service's port 8081 (the gateway's 8080) becomes a free loopback port
    const port: Record<string, number> = {};
    for (const n of names) port[n] = await freePort();
    const local = (arg: string, self: string): string => {
      if (arg === '0.0.0.0') return '127.0.0.1';
      if (arg === '8081' || arg === '8080') return String(port[self]);
      if (/^(\w+:\/\/)?127\.0\.0\.1:808[01]$/.test(arg)) return arg.replace(/808[01]$/, String(port[self]));
      return arg.replace(/([a-z][a-z0-9-]*):8081/g, (m, host: string) =>
        host in port ? `127.0.0.1:${port[host]}` : m,
      );
    };
    const gatewayFlow = parse(compose.configs['gateway-flow']!.content.replaceAll('$$', '$')) as {
      executors: { host: string | string[]; port: number }[];
    };
    for (const e of gatewayFlow.executors) e.host = [e.host].flat().map((h) => `127.0.0.1:${port[h]}`);
    await writeFile(join(dir, 'gateway-flow.yml'), stringify(gatewayFlow));
    const start = (n: string) => {
      const args = compose.services[n]!.command.map((a) =>
        a === '/flowgate/flow.yml' ? join(dir, 'gateway-flow.yml') : local(a, n),
      );
      const child = spawn(process.execPath, ['--import', TSX, CLI, ...args], { cwd: dir, stdio: 'ignore' });
      children.push(child);
    };
    for (const n of names) start(n);
    // the health checks as Compose runs them (`flowgate ping <target> <address>`), until they pass
    await Promise.all(
      names.map(async (n) => {
        const [cmd, sub, target, address] = compose.services[n]!.healthcheck.test.slice(1);
        assert.deepEqual([cmd, sub], ['flowgate', 'ping']);
        const opts = { timeout: 3000, attempts: 60, minSuccessfulAttempts: 1 };
        assert.ok(await ping(target!, local(address!, n), opts), `${n} is not healthy`);
      }),
    );
    const client = new Client({ port: port.gateway });
    const docs = await client.post(
      '/chain',
      new DocumentArray([new Document({ text: 'x' }), new Document({ text: 'y' })]),
    );
    assert.deepEqual(
      docs.map((d) => d.tags.trail),
      [
        ['a', 's'],
        ['a', 's'],
      ],
    );
    await client.close();
    await Promise.all(
      children.map(async (c) => {
        c.kill('SIGTERM');
        const [code] = (await once(c, 'exit')) as [number | null];
        assert.equal(code, 0);
      }),
    );
  });
});
