/**
 * A multi-host run of an exported Flow: `flowgate export kubernetes` writes the manifests, and their
 * containers' commands run as processes, each in its own network namespace ("host") on one bridge,
 * with the Kubernetes DNS names the manifests use resolvable through each namespace's /etc/hosts:
 * the Executor's headless Service name has two addresses, its two replicas on two hosts. A client
 * on a fifth host reaches the Gateway by its Service name; the Gateway balances over both replicas,
 * picks up a replica that moves to a new host, and loses nothing when one is stopped.
 *
 * Needs root and `ip netns` (skipped otherwise). Every namespace, veth, bridge and 10.x address is
 * created inside namespaces named `fg-<run>-*` and removed afterwards.
 */
import { describeOrSkip } from './fixtures/skip.js';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { parseAllDocuments } from 'yaml';

const CLI = resolve('src/cli/main.ts');
const TSX = import.meta.resolve('tsx');
const FIXTURE = resolve('test/fixtures/drain-executors.ts');
const INDEX = resolve('src/index.ts');
const RUN = randomBytes(3).toString('hex');
const K8S_NS = 'mh';
const SUBNET = '10.213.0';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The "hosts": a network namespace each, and its address on the bridge. */
const HOSTS = {
  gw: `${SUBNET}.10`,
  e0: `${SUBNET}.11`,
  e1: `${SUBNET}.12`,
  e2: `${SUBNET}.13`,
  cl: `${SUBNET}.20`,
} as const;
type Host = keyof typeof HOSTS;
const nsName = (h: Host | 'sw') => `fg-${RUN}-${h}`;
const EXECUTOR_DNS = `where.${K8S_NS}.svc.cluster.local`;
const GATEWAY_DNS = `gateway.${K8S_NS}.svc.cluster.local`;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Why this test cannot run here, or undefined. */
function cannotRun(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (ip netns)';
  try {
    ip('netns', 'add', nsName('sw'));
  } catch (err) {
    return `ip netns add failed: ${(err as { stderr?: Buffer }).stderr?.toString().trim() ?? String(err)}`;
  }
  return undefined;
}
const skip = cannotRun();

/** /etc/hosts of every namespace: the Services' DNS names, as the cluster's DNS would answer. */
async function writeHosts(executorHosts: Host[]): Promise<void> {
  const lines = [
    '127.0.0.1 localhost',
    `${HOSTS.gw} ${GATEWAY_DNS}`,
    ...executorHosts.map((h) => `${HOSTS[h]} ${EXECUTOR_DNS}`),
  ];
  for (const h of Object.keys(HOSTS) as Host[]) {
    await mkdir(`/etc/netns/${nsName(h)}`, { recursive: true });
    await writeFile(`/etc/netns/${nsName(h)}/hosts`, `${lines.join('\n')}\n`);
  }
}

/** A bridge in its own namespace, and one namespace per host with a veth to it. */
function createNetwork(): void {
  const sw = nsName('sw'); // added by cannotRun()
  ip('-n', sw, 'link', 'set', 'lo', 'up');
  ip('-n', sw, 'link', 'add', 'br0', 'type', 'bridge');
  ip('-n', sw, 'link', 'set', 'br0', 'up');
  for (const [h, addr] of Object.entries(HOSTS) as [Host, string][]) {
    const ns = nsName(h);
    ip('netns', 'add', ns);
    ip('link', 'add', 'eth0', 'netns', ns, 'type', 'veth', 'peer', 'name', `p-${h}`, 'netns', sw);
    ip('-n', sw, 'link', 'set', `p-${h}`, 'master', 'br0');
    ip('-n', sw, 'link', 'set', `p-${h}`, 'up');
    ip('-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0');
    ip('-n', ns, 'link', 'set', 'eth0', 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
  }
}

async function removeNetwork(): Promise<void> {
  for (const h of ['sw', ...Object.keys(HOSTS)] as (Host | 'sw')[]) {
    try {
      ip('netns', 'del', nsName(h));
    } catch {
      // not created
    }
    await rm(`/etc/netns/${nsName(h)}`, { recursive: true, force: true });
  }
  await rmdir('/etc/netns').catch(() => undefined); // only if nothing else is in it
}

/** Runs `node args` inside a host's namespace. */
function inHost(h: Host, args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn('ip', ['netns', 'exec', nsName(h), process.execPath, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** `flowgate <args>` in a host; `flowgate` replaced by this repository's CLI. */
function flowgateIn(h: Host, command: string[], env: Record<string, string> = {}): ChildProcess {
  assert.equal(command[0], 'flowgate');
  return inHost(h, ['--import', TSX, CLI, ...command.slice(1)], env);
}

async function exited(child: ChildProcess): Promise<{ code: number | null; out: string; err: string }> {
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, out, err };
}

/** Runs a probe command (from the manifest) in a host until it passes. */
async function probeUntilReady(h: Host, command: string[], timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await exited(flowgateIn(h, command));
    if (r.code === 0) return;
    if (Date.now() > until) throw new Error(`${command.join(' ')} in ${h} never passed: ${r.err}`);
    await sleep(300);
  }
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describeOrSkip('an exported Flow on five network namespaces', skip, () => {
  let dir: string;
  const procs: ChildProcess[] = [];
  const executors = new Map<Host, ChildProcess>();
  let executorArgs: string[];
  let executorProbe: string[];
  let clientScript: string;

  function startExecutor(h: Host): ChildProcess {
    const p = flowgateIn(h, ['flowgate', ...executorArgs], { FG_HOST: h });
    p.stdout!.resume();
    p.stderr!.resume();
    procs.push(p);
    executors.set(h, p);
    return p;
  }

  /**
   * Load from the client host: 8 loops posting one document per request for `ms` from their first
   * answer on (`started`); which host answered each, and the errors.
   */
  function load(ms: number): {
    started: Promise<void>;
    done: Promise<{ hosts: string[]; errors: string[] }>;
  } {
    const child = inHost('cl', ['--import', TSX, clientScript, `${GATEWAY_DNS}:8080`, String(ms)]);
    const started = new Promise<void>((resolveStarted) => {
      child.stdout!.on('data', (d: Buffer) => {
        if (d.toString().includes('started')) resolveStarted();
      });
    });
    const done = exited(child).then((r) => {
      assert.equal(r.code, 0, r.err);
      return JSON.parse(r.out.trim().split('\n').pop()!) as { hosts: string[]; errors: string[] };
    });
    return { started, done };
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flowgate-multihost-'));
    createNetwork();
    await writeHosts(['e0', 'e1']);

    const flowPath = join(dir, 'flow.yml');
    await writeFile(
      flowPath,
      `jtype: Flow\nwith:\n  name: ${K8S_NS}\ngateway:\n  protocol: grpc\n  port: 8080\nexecutors:\n  - name: where\n    uses: ${FIXTURE}:Where\n    replicas: 2\n`,
    );
    const exp = await exited(
      spawn(process.execPath, ['--import', TSX, CLI, 'export', 'kubernetes', flowPath, join(dir, 'out')], {
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    assert.equal(exp.code, 0, exp.err);
    const objects = async (file: string) =>
      parseAllDocuments(await readFile(join(dir, 'out', file), 'utf8')).map((d) => d.toJSON() as Json);
    const where = await objects('where.yml');
    const gateway = await objects('gateway.yml');
    const deployment = (objs: Json[]) => objs.find((o) => o.kind === 'Deployment')!;
    const service = where.find((o) => o.kind === 'Service')!;
    assert.equal(service.spec.clusterIP, 'None', 'the Executor Service is headless');
    assert.equal(deployment(where).spec.replicas, 2);
    const execContainer = deployment(where).spec.template.spec.containers[0] as Json;
    executorArgs = execContainer.args as string[];
    executorProbe = execContainer.readinessProbe.exec.command as string[];
    const gwContainer = deployment(gateway).spec.template.spec.containers[0] as Json;
    const gwFlow = join(dir, 'gateway-flow.yml');
    const configMap = gateway.find((o) => o.kind === 'ConfigMap')!;
    const flowYaml = configMap.data['flow.yml'] as string;
    assert.match(flowYaml, new RegExp(`host: ${EXECUTOR_DNS.replaceAll('.', '\\.')}`));
    await writeFile(gwFlow, flowYaml);
    const gatewayArgs = (gwContainer.args as string[]).map((a) => (a === '/flowgate/flow.yml' ? gwFlow : a));
    const gatewayProbe = gwContainer.readinessProbe.exec.command as string[];

    clientScript = join(dir, 'client.mts'); // ESM, for the top-level await
    await writeFile(
      clientScript,
      [
        `import { Client, Document } from ${JSON.stringify(INDEX)};`,
        'const [address, ms] = process.argv.slice(2);',
        'const client = new Client({ host: `grpc://${address}` });',
        'await client.post("/", [new Document()]);',
        'console.log("started");',
        'const until = Date.now() + Number(ms);',
        'const hosts = [];',
        'const errors = [];',
        'await Promise.all(Array.from({ length: 8 }, async () => {',
        '  while (Date.now() < until) {',
        '    try {',
        '      const out = await client.post("/", [new Document()], { parameters: { ms: 5 } });',
        '      hosts.push(out[0].tags.host);',
        '    } catch (err) {',
        '      errors.push(err.message);',
        '    }',
        '  }',
        '}));',
        'console.log(JSON.stringify({ hosts, errors }));',
        'await client.close();',
      ].join('\n'),
    );

    startExecutor('e0');
    startExecutor('e1');
    await Promise.all([probeUntilReady('e0', executorProbe), probeUntilReady('e1', executorProbe)]);
    const gw = flowgateIn('gw', ['flowgate', ...gatewayArgs], { FLOWGATE_RESOLVE_INTERVAL_MS: '500' });
    gw.stdout!.resume();
    gw.stderr!.resume();
    procs.push(gw);
    await probeUntilReady('gw', gatewayProbe);
  });

  after(async () => {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGTERM');
    await sleep(500);
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    await removeNetwork();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  void test('the Gateway resolves the headless name to both hosts and balances over them', async () => {
    const { hosts, errors } = await load(1000).done;
    const count = (h: string) => hosts.filter((x) => x === h).length;
    assert.deepEqual(errors, []);
    assert.ok(hosts.length >= 40, `${hosts.length} requests`);
    assert.ok(
      count('e0') >= hosts.length / 4 && count('e1') >= hosts.length / 4,
      `per host: e0 ${count('e0')}, e1 ${count('e1')}`,
    );
  });

  void test('under load, a replica moves to another host: none fails, the stopped one exits 0', async () => {
    // A new pod on e2 becomes ready; then, as a rolling update does, the one on e0 leaves the
    // Service's DNS answers and gets SIGTERM while the client keeps sending.
    startExecutor('e2');
    await probeUntilReady('e2', executorProbe);
    const running = load(3000);
    await running.started;
    await sleep(1000); // e0 and e1 answer
    await writeHosts(['e1', 'e2']);
    const e0 = executors.get('e0')!;
    const t0 = Date.now();
    e0.kill('SIGTERM');
    const [code] = (await once(e0, 'exit')) as [number];
    const drainMs = Date.now() - t0;
    const { hosts, errors } = await running.done;
    const count = (h: string) => hosts.filter((x) => x === h).length;
    process.stderr.write(
      `multihost: ${hosts.length} requests, ${errors.length} failed; e0 exited ${code} ${drainMs} ms ` +
        `after SIGTERM; answered by e0 ${count('e0')}, e1 ${count('e1')}, e2 ${count('e2')}\n`,
    );
    assert.deepEqual(errors, []);
    assert.equal(code, 0);
    assert.ok(count('e0') > 0 && count('e1') > 0 && count('e2') > 0);
    const after = await load(500).done;
    assert.deepEqual(after.errors, []);
    assert.ok(after.hosts.includes('e2') && after.hosts.includes('e1') && !after.hosts.includes('e0'));
  });
});
