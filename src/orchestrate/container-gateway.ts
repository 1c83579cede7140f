import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { flagName } from '../config/load.js';
import { Code, FlowgateError } from '../core/errors.js';
import type { Protocol } from '../gateway/gateway.js';
import { graphDescriptionOf } from '../gateway/graph-description.js';
import type { TopologyNode } from '../gateway/topology.js';
import { callFlags, type DeploymentCallOptions } from '../gateway/graph-description.js';
import type { RunningChild } from './child-process.js';

/**
 * Gateways from container images (`configGateway({ uses: 'docker://image' })`). The image's
 * entry point is `flowgate gateway --uses config.yml`, as the seed builds it; the Flow appends the
 * ports, protocols and graph as the original's flags (`--graph-description`,
 * `--deployments-addresses`, ...) and runs it with host networking, so the Gateway reaches the
 * Executors at the addresses the Flow started them on.
 */

/** The container command line tool in use. */
export interface ContainerEngine {
  /** `docker` or `podman` (or what FLOWGATE_CONTAINER_ENGINE names). */
  bin: string;
}

/**
 * Finds a working container engine: `FLOWGATE_CONTAINER_ENGINE` if set, else Docker, else podman
 * (the first whose `version` command succeeds: a Docker client without a daemon does not count).
 *
 * @throws FlowgateError saying that neither is installed, or what each one answered.
 */
export function containerEngine(env: NodeJS.ProcessEnv = process.env, image = 'the image'): ContainerEngine {
  const candidates = env.FLOWGATE_CONTAINER_ENGINE ? [env.FLOWGATE_CONTAINER_ENGINE] : ['docker', 'podman'];
  const problems: string[] = [];
  for (const bin of candidates) {
    const r = spawnSync(bin, ['version'], { encoding: 'utf8', timeout: 15_000, env });
    if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') continue;
    if (r.status === 0) return { bin };
    const why = (r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n').at(-1);
    problems.push(`${bin}: ${why}`);
  }
  if (problems.length === 0)
    throw new FlowgateError(
      Code.FailedPrecondition,
      `uses 'docker://${image}' runs the Gateway in a container, which needs Docker or podman, and neither is installed: install one (or set FLOWGATE_CONTAINER_ENGINE to its command)`,
    );
  throw new FlowgateError(
    Code.FailedPrecondition,
    `uses 'docker://${image}' needs a working Docker or podman: ${problems.join('; ')}`,
  );
}

/** What the Gateway container is told. */
export interface ContainerGatewaySpec {
  /** `docker://image` or just the image. */
  uses: string;
  protocols: Protocol[];
  /** One per protocol, all known (the Flow picks free ones first). */
  ports: number[];
  host: string;
  nodes: TopologyNode[];
  addresses: Record<string, string[]>;
  heads: string[];
  /** Deployments reached over TLS. */
  tls?: string[];
  /** Each Executor's own timeoutSend / retries (`--deployments-timeout-send`, `--deployments-retries`). */
  calls?: Record<string, DeploymentCallOptions>;
  usesWith?: Record<string, unknown>;
  /** Other Gateway flags, e.g. `{ timeoutSend: 1000 }` -> `--timeout-send 1000`. */
  flags?: Record<string, unknown>;
  /** Extra `run` arguments (FLOWGATE_CONTAINER_ARGS, split on spaces, comes first). */
  runArgs?: string[];
}

/** The `run` arguments of a Gateway container (exported for tests and `--dry-run` style checks). */
export function containerRunArgs(spec: ContainerGatewaySpec, name: string, env = process.env): string[] {
  const image = spec.uses.replace(/^docker:\/\//, '');
  const extra = (env.FLOWGATE_CONTAINER_ARGS ?? '').split(/\s+/).filter(Boolean);
  const flags: string[] = [
    '--protocol',
    spec.protocols.join(','),
    '--port',
    spec.ports.join(','),
    '--host',
    spec.host,
    '--graph-description',
    JSON.stringify(graphDescriptionOf(spec.nodes)),
    '--deployments-addresses',
    JSON.stringify(spec.addresses),
  ];
  const conditions = Object.fromEntries(spec.nodes.filter((n) => n.when).map((n) => [n.name, n.when]));
  if (Object.keys(conditions).length > 0) flags.push('--graph-conditions', JSON.stringify(conditions));
  const noReduce = spec.nodes.filter((n) => n.noReduce).map((n) => n.name);
  if (noReduce.length > 0) flags.push('--deployments-no-reduce', JSON.stringify(noReduce));
  if (spec.heads.length > 0) flags.push('--deployments-heads', JSON.stringify(spec.heads));
  if (spec.tls?.length) flags.push('--deployments-tls', JSON.stringify(spec.tls));
  flags.push(...callFlags(spec.calls));
  if (spec.usesWith) flags.push('--uses-with', JSON.stringify(spec.usesWith));
  for (const [k, v] of Object.entries(spec.flags ?? {})) {
    if (v === undefined || v === false) continue;
    if (v === true) flags.push(`--${flagName(k)}`);
    else flags.push(`--${flagName(k)}`, typeof v === 'string' ? v : JSON.stringify(v));
  }
  return [
    'run',
    '--rm',
    '--name',
    name,
    '--network',
    'host',
    ...extra,
    ...(spec.runArgs ?? []),
    image,
    ...flags,
  ];
}

/**
 * Starts the Gateway container and returns it as a running child (its `process` is the engine's
 * `run` command, which passes SIGTERM on to the Gateway). The caller health-checks the first port.
 */
export function startContainerGateway(
  spec: ContainerGatewaySpec,
  env: NodeJS.ProcessEnv = process.env,
): RunningChild & { stop(): Promise<void> } {
  const image = spec.uses.replace(/^docker:\/\//, '');
  const engine = containerEngine(env, image);
  const name = `flowgate-gateway-${process.pid}-${randomBytes(3).toString('hex')}`;
  const child = spawn(engine.bin, containerRunArgs(spec, name, env), {
    stdio: ['ignore', 'inherit', 'pipe'],
    env,
  });
  let tail = '';
  child.stderr.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    tail = (tail + chunk.toString('utf8')).slice(-8000);
  });
  child.once('error', (err) => (tail += `\n${engine.bin}: ${err.message}`));
  return {
    name: `gateway (${image})`,
    process: child,
    ports: spec.ports,
    stderrTail: () => tail,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      // `stop` sends SIGTERM to the Gateway inside and removes the container (--rm) once it exits.
      spawn(engine.bin, ['stop', '--time', '10', name], { stdio: 'ignore', env });
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
