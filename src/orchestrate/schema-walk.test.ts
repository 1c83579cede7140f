/**
 * Every key of every component schema takes effect. Each table below names, for one schema, what
 * each key changes in what a process is told (`flow-plan.ts`, `process-config.ts`): the test walks
 * the schema's keys, so a key added without a consumer, or a table entry for a removed key, fails;
 * and for each key it shows the effect: the value set gives `expected`, the key unset does not.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { z } from 'zod';
import type { AddOptions, GatewayConfigOptions } from '../config/options.js';
import {
  executorServeSchema,
  executorSchema,
  flowOptionsSchema,
  gatewaySchema,
  headSchema,
} from '../config/schemas.js';
import {
  DEPLOYMENT_GATEWAY_KEYS,
  deploymentOptionsSchema,
  deploymentSchema,
  splitDeployment,
} from '../config/deployment.js';
import { validateComponent } from '../config/load.js';
import { planExport } from './export/plan.js';
import { checkAddOptions, checkGatewayOptions } from './flow-options.js';
import {
  BUILTIN_GATEWAY_OPTIONS,
  executorEntry,
  executorProcessConfig,
  externalAddresses,
  gatewayPlan,
  gatewayRouting,
  headProcessConfig,
  processEnv,
  readyTimeout,
  replicaSlots,
  restartOptions,
  topologyNodes,
} from './flow-plan.js';
import { gatewayOptionsOfSpec } from './flow-spec.js';
import { executorServeConfig, headServeConfig } from './process-config.js';

/** One key: the options that set it (over `base`), what to look at, and what it must be. */
interface Effect<P, O> {
  set: O;
  base?: O;
  look: (plan: P) => unknown;
  expected: unknown;
}

function walk<P, O>(schema: z.ZodObject, table: Record<string, Effect<P, O>>, plan: (o: O) => P): void {
  void test('the table names exactly the keys of the schema', () => {
    assert.deepEqual(Object.keys(table).sort(), Object.keys(schema.shape).sort());
  });
  for (const [key, e] of Object.entries(table)) {
    void test(`${key} takes effect`, () => {
      const base = (e.base ?? {}) as O;
      assert.deepEqual(e.look(plan({ ...base, ...e.set })), e.expected, `${key} set`);
      assert.notDeepEqual(e.look(plan(base)), e.expected, `${key} unset must differ`);
    });
  }
}

/** Everything a Flow tells the processes of one Executor. */
function executorPlan(options: AddOptions) {
  const d = executorEntry({ name: 'e', uses: 'exec.ts:E', ...checkAddOptions(options) }, 'gateway');
  const slots = replicaSlots(d);
  const processes = [...slots.shards.flat(), ...(slots.usesBefore ?? []), ...(slots.usesAfter ?? [])].map(
    (s) => executorProcessConfig(d, s),
  );
  const head =
    slots.shards.length > 1
      ? headProcessConfig(
          d,
          {},
          {
            shards: slots.shards.map((_, i) => [`s${i}`]),
            usesBefore: slots.usesBefore && ['b'],
            usesAfter: slots.usesAfter && ['a'],
          },
        )
      : undefined;
  return {
    node: topologyNodes([d])[0]!,
    routing: gatewayRouting([d]),
    external: d.external ? externalAddresses(d) : undefined,
    processes,
    first: processes[0],
    head,
    env: processEnv(d),
    restart: restartOptions(d),
  };
}
type ExecutorPlan = ReturnType<typeof executorPlan>;
const sharded: AddOptions = { shards: 2 };
const external: AddOptions = { external: true, uses: undefined, host: 'h', port: 1 };

const executorTable: Record<keyof z.infer<typeof executorSchema>, Effect<ExecutorPlan, AddOptions>> = {
  uses: { set: { uses: 'other.ts:B' }, look: (p) => p.first?.uses, expected: { spec: 'other.ts:B' } },
  name: { set: { name: 'named' }, look: (p) => [p.node.name, p.first?.name], expected: ['named', 'named'] },
  needs: { set: { needs: 'up' }, look: (p) => p.node.needs, expected: ['up'] },
  usesWith: { set: { usesWith: { k: 1 } }, look: (p) => p.first?.usesWith, expected: { k: 1 } },
  usesDynamicBatching: {
    set: { usesDynamicBatching: { '/e': { preferredBatchSize: 4 } } },
    look: (p) => p.first?.dynamicBatching,
    expected: { '/e': { preferredBatchSize: 4 } },
  },
  metas: { set: { metas: { m: 1 } }, look: (p) => p.first?.metas.m, expected: 1 },
  modules: {
    set: { modules: 'm.ts' },
    base: { uses: 'Cls' },
    look: (p) => p.first?.uses,
    expected: { spec: 'm.ts:Cls' },
  },
  env: { set: { env: { A: 1 } }, look: (p) => p.env, expected: { A: '1' } },
  replicas: { set: { replicas: 3 }, look: (p) => p.processes.length, expected: 3 },
  shards: { set: { shards: 2 }, look: (p) => p.head?.shards, expected: [['s0'], ['s1']] },
  polling: { set: { polling: 'ALL' }, base: sharded, look: (p) => p.head?.polling, expected: 'ALL' },
  usesBefore: {
    set: { usesBefore: 'b.ts:B' },
    base: sharded,
    look: (p) => p.processes.find((c) => c.name === 'e/uses-before')?.uses,
    expected: { spec: 'b.ts:B' },
  },
  usesAfter: {
    set: { usesAfter: 'a.ts:A' },
    base: sharded,
    look: (p) => p.processes.find((c) => c.name === 'e/uses-after')?.uses,
    expected: { spec: 'a.ts:A' },
  },
  when: { set: { when: { tags__x: 1 } }, look: (p) => p.node.when, expected: { tags__x: 1 } },
  floating: { set: { floating: true }, look: (p) => p.node.floating, expected: true },
  noReduce: {
    set: { noReduce: true },
    base: sharded,
    look: (p) => [p.node.noReduce, p.head?.noReduce],
    expected: [true, true],
  },
  external: {
    set: { external: true },
    base: { host: 'h', port: 1 },
    look: (p) => p.external,
    expected: ['h:1'],
  },
  host: { set: { host: 'far' }, base: external, look: (p) => p.external, expected: ['far:1'] },
  port: { set: { port: 5555 }, look: (p) => p.first?.port, expected: 5555 },
  timeoutSend: {
    set: { timeoutSend: 500 },
    base: sharded,
    look: (p) => [p.routing.calls?.e?.timeoutSendMs, p.head?.timeoutSendMs],
    expected: [500, 500],
  },
  retries: {
    set: { retries: 2 },
    base: sharded,
    look: (p) => [p.routing.calls?.e?.retries, p.head?.retries],
    expected: [2, 2],
  },
  tls: { set: { tls: true }, base: external, look: (p) => p.routing.tls, expected: ['e'] },
  restartPolicy: { set: { restartPolicy: 'never' }, look: (p) => p.restart.policy, expected: 'never' },
  maxRestarts: { set: { maxRestarts: 3 }, look: (p) => p.restart.maxRestarts, expected: 3 },
  monitoring: { set: { monitoring: true }, look: (p) => p.first?.observability?.monitoring, expected: true },
  portMonitoring: {
    set: { portMonitoring: 9999 },
    base: { monitoring: true },
    look: (p) => p.first?.observability?.portMonitoring,
    expected: 9999,
  },
  tracing: { set: { tracing: true }, look: (p) => p.first?.observability?.tracing, expected: true },
  tracesExporterHost: {
    set: { tracesExporterHost: 'otel' },
    base: { tracing: true },
    look: (p) => p.first?.observability?.tracesExporterHost,
    expected: 'otel',
  },
  tracesExporterPort: {
    set: { tracesExporterPort: 4000 },
    base: { tracing: true },
    look: (p) => p.first?.observability?.tracesExporterPort,
    expected: 4000,
  },
};

void describe('executorSchema: every key takes effect', () =>
  walk(executorSchema, executorTable, executorPlan));

/** What a Flow tells its Gateway process (a YAML `gateway:` section goes through `gatewayOptionsOfSpec`). */
function gatewayPlanOf(options: GatewayConfigOptions) {
  const spec = checkGatewayOptions(options) as z.infer<typeof gatewaySchema>;
  return gatewayPlan(gatewayOptionsOfSpec(spec) as never, undefined);
}
type GatewayPlan = ReturnType<typeof gatewayPlanOf>;
const builtin = (
  key: (typeof BUILTIN_GATEWAY_OPTIONS)[number],
  value: unknown,
): Effect<GatewayPlan, GatewayConfigOptions> => ({
  set: { [key]: value },
  look: (p) => p.gatewayOptions?.[key],
  expected: value,
});
const gatewayTable: Record<keyof z.infer<typeof gatewaySchema>, Effect<GatewayPlan, GatewayConfigOptions>> = {
  protocol: { set: { protocol: 'http' }, look: (p) => p.protocols, expected: ['http'] },
  port: { set: { port: 1234 }, look: (p) => p.ports, expected: [1234] },
  host: { set: { host: '0.0.0.0' }, look: (p) => p.host, expected: '0.0.0.0' },
  uses: { set: { uses: '/gw.ts:G' }, look: (p) => p.uses, expected: { spec: '/gw.ts:G' } },
  usesWith: { set: { usesWith: { a: 1 } }, look: (p) => p.usesWith, expected: { a: 1 } },
  modules: {
    set: { modules: '/gw.ts' },
    base: { uses: 'G' },
    look: (p) => p.uses,
    expected: { spec: '/gw.ts:G' },
  },
  timeoutSend: { set: { timeoutSend: 5 }, look: (p) => p.timeoutSendMs, expected: 5 },
  retries: { set: { retries: 2 }, look: (p) => p.retries, expected: 2 },
  prefetch: { set: { prefetch: 7 }, look: (p) => p.prefetch, expected: 7 },
  compression: { set: { compression: 'gzip' }, look: (p) => p.compression, expected: 'gzip' },
  cors: builtin('cors', true),
  noDebugEndpoints: builtin('noDebugEndpoints', true),
  noCrudEndpoints: builtin('noCrudEndpoints', true),
  exposeEndpoints: builtin('exposeEndpoints', { '/a': { path: '/b' } }),
  exposeGraphqlEndpoint: builtin('exposeGraphqlEndpoint', true),
  title: builtin('title', 'T'),
  description: builtin('description', 'D'),
  maxMessageBytes: builtin('maxMessageBytes', 1000),
  slowClientTimeout: builtin('slowClientTimeout', 10),
  sslCertfile: {
    set: { sslCertfile: 'c.pem', sslKeyfile: 'k.pem' },
    look: (p) => p.gatewayOptions?.sslCertfile,
    expected: 'c.pem',
  },
  sslKeyfile: {
    set: { sslCertfile: 'c.pem', sslKeyfile: 'k.pem' },
    look: (p) => p.gatewayOptions?.sslKeyfile,
    expected: 'k.pem',
  },
  authToken: builtin('authToken', 'secret'),
  authenticate: builtin('authenticate', 'auth.ts:check'),
  forwardMetadata: builtin('forwardMetadata', ['x-a']),
  monitoring: { set: { monitoring: true }, look: (p) => p.observability?.monitoring, expected: true },
  portMonitoring: {
    set: { portMonitoring: 9 },
    base: { monitoring: true },
    look: (p) => p.observability?.portMonitoring,
    expected: 9,
  },
  tracing: { set: { tracing: true }, look: (p) => p.observability?.tracing, expected: true },
  tracesExporterHost: {
    set: { tracesExporterHost: 'o' },
    base: { tracing: true },
    look: (p) => p.observability?.tracesExporterHost,
    expected: 'o',
  },
  tracesExporterPort: {
    set: { tracesExporterPort: 1 },
    base: { tracing: true },
    look: (p) => p.observability?.tracesExporterPort,
    expected: 1,
  },
};

void describe('gatewaySchema: every key takes effect', () => {
  walk(gatewaySchema, gatewayTable, gatewayPlanOf);
  void test('every option only built-in Gateways read is read by a Gateway', () => {
    const files: string[] = [];
    const list = (dir: string) => {
      for (const f of readdirSync(dir)) {
        const p = join(dir, f);
        if (statSync(p).isDirectory()) list(p);
        else if (f.endsWith('.ts') && !f.endsWith('.test.ts')) files.push(readFileSync(p, 'utf8'));
      }
    };
    for (const dir of ['gateway', 'transport']) list(join(import.meta.dirname, '..', dir));
    for (const key of BUILTIN_GATEWAY_OPTIONS)
      assert.ok(
        files.some((text) =>
          new RegExp(`\\.${key}\\b|\\b${key}[?]?:|\\{[^}]*\\b${key}\\b[^}]*\\}\\s*=`).test(text),
        ),
        `no Gateway reads ${key}`,
      );
  });
});

const flowTable: Record<keyof z.infer<typeof flowOptionsSchema>, Effect<unknown, Record<string, unknown>>> = {
  name: {
    set: { name: 'shop' },
    look: (o) => planExport({ jtype: 'Flow', with: o, gateway: {}, executors: [] } as never).flowName,
    expected: 'shop',
  },
  timeoutReady: {
    set: { timeoutReady: 5 },
    look: (o) => readyTimeout((o as { timeoutReady?: number }).timeoutReady),
    expected: 5,
  },
};

void describe('flowOptionsSchema: every key takes effect', () =>
  walk(flowOptionsSchema, flowTable, (o) => o));

/**
 * The rows every process served outside a Flow shares (`flowgate executor`, `flowgate head`): where
 * it listens, and its monitoring and tracing keys.
 */
function servedProcessRows<C extends ServedProcess, O>(): Record<ServedKey, Effect<C, O>> {
  const rows: Record<ServedKey, Effect<C, Record<string, unknown>>> = {
    host: { set: { host: 'h' }, look: (c) => c.host, expected: 'h' },
    port: { set: { port: 9 }, look: (c) => c.port, expected: 9 },
    monitoring: { set: { monitoring: true }, look: (c) => c.observability?.monitoring, expected: true },
    portMonitoring: {
      set: { portMonitoring: 9 },
      base: { monitoring: true },
      look: (c) => c.observability?.portMonitoring,
      expected: 9,
    },
    tracing: { set: { tracing: true }, look: (c) => c.observability?.tracing, expected: true },
    tracesExporterHost: {
      set: { tracesExporterHost: 'o' },
      base: { tracing: true },
      look: (c) => c.observability?.tracesExporterHost,
      expected: 'o',
    },
    tracesExporterPort: {
      set: { tracesExporterPort: 1 },
      base: { tracing: true },
      look: (c) => c.observability?.tracesExporterPort,
      expected: 1,
    },
  };
  return rows as Record<ServedKey, Effect<C, O>>;
}
type ServedKey =
  'host' | 'port' | 'monitoring' | 'portMonitoring' | 'tracing' | 'tracesExporterHost' | 'tracesExporterPort';
interface ServedProcess {
  host?: string;
  port?: number;
  observability?: {
    monitoring?: boolean;
    portMonitoring?: number;
    tracing?: boolean;
    tracesExporterHost?: string;
    tracesExporterPort?: number;
  };
}

type Serve = z.infer<typeof executorServeSchema>;
const serveTable: Record<keyof Serve, Effect<ReturnType<typeof executorServeConfig>, Serve>> = {
  uses: { set: { uses: 'x.ts' }, look: (c) => c.uses, expected: { spec: 'x.ts' } },
  name: { set: { name: 'n' }, look: (c) => c.name, expected: 'n' },
  usesWith: { set: { usesWith: { a: 1 } }, look: (c) => c.usesWith, expected: { a: 1 } },
  metas: { set: { metas: { a: 1 } }, look: (c) => c.metas, expected: { a: 1 } },
  usesDynamicBatching: {
    set: { usesDynamicBatching: { '/e': { timeout: 5 } } },
    look: (c) => c.dynamicBatching,
    expected: { '/e': { timeout: 5 } },
  },
  sslCertfile: { set: { sslCertfile: 'c' }, look: (c) => c.ssl?.certfile, expected: 'c' },
  sslKeyfile: { set: { sslKeyfile: 'k' }, look: (c) => c.ssl?.keyfile, expected: 'k' },
  ...servedProcessRows(),
};

void describe('executorServeSchema (flowgate executor): every key takes effect', () =>
  walk(executorServeSchema, serveTable, executorServeConfig));

type Head = z.infer<typeof headSchema>;
const headTable: Record<keyof Head, Effect<ReturnType<typeof headServeConfig>, Head>> = {
  name: { set: { name: 'n' }, look: (c) => c.name, expected: 'n' },
  polling: { set: { polling: 'ALL' }, look: (c) => c.polling, expected: 'ALL' },
  noReduce: { set: { noReduce: true }, look: (c) => c.noReduce, expected: true },
  timeoutSend: { set: { timeoutSend: 5 }, look: (c) => c.timeoutSendMs, expected: 5 },
  retries: { set: { retries: 2 }, look: (c) => c.retries, expected: 2 },
  shards: { set: { shards: [['a']] }, look: (c) => c.shards, expected: [['a']] },
  usesBefore: { set: { usesBefore: 'b:1' }, look: (c) => c.usesBefore, expected: ['b:1'] },
  usesAfter: { set: { usesAfter: 'a:1' }, look: (c) => c.usesAfter, expected: ['a:1'] },
  ...servedProcessRows(),
};

void describe('headSchema (flowgate head): every key takes effect', () =>
  walk(headSchema, headTable, headServeConfig));

/** A Deployment is a one-Executor Flow: each key must take effect in its Executor, Gateway or Flow. */
function deploymentPlan(o: Record<string, unknown>) {
  const { flow, gateway, executor } = splitDeployment(
    validateComponent(deploymentOptionsSchema, o, { locate: () => 'test' }, [], 'the Deployment'),
  );
  const { name: _name, ...exec } = executor;
  return { exec: executorPlan({ ...exec, name: 'e' }), gw: gatewayPlanOf(gateway), flow };
}
type DeploymentPlan = ReturnType<typeof deploymentPlan>;
const deploymentTable = Object.fromEntries(
  Object.keys(deploymentSchema.shape).map(
    (key): [string, Effect<DeploymentPlan, Record<string, unknown>>] => {
      if (key === 'timeoutReady')
        return [
          key,
          { set: { timeoutReady: 5 }, look: (p) => readyTimeout(p.flow.timeoutReady), expected: 5 },
        ];
      if (key === 'name')
        return [key, { set: { name: 'named' }, look: (p) => splitName(p), expected: 'named' }];
      const fromGateway = (DEPLOYMENT_GATEWAY_KEYS as readonly string[]).includes(key);
      const e = fromGateway
        ? (gatewayTable[key as keyof typeof gatewayTable] as Effect<GatewayPlan, Record<string, unknown>>)
        : (executorTable[key as keyof typeof executorTable] as Effect<ExecutorPlan, Record<string, unknown>>);
      assert.ok(e, `no effect known for the Deployment key ${key}`);
      return [
        key,
        {
          set: e.set,
          base: e.base,
          expected: e.expected,
          look: (p) =>
            fromGateway
              ? (e as Effect<GatewayPlan, unknown>).look(p.gw)
              : (e as Effect<ExecutorPlan, unknown>).look(p.exec),
        },
      ];
    },
  ),
);
let lastName: string | undefined;
const splitName = (_p: DeploymentPlan) => lastName;

void describe('deploymentSchema: every key takes effect', () =>
  walk(deploymentSchema, deploymentTable, (o) => {
    lastName = splitDeployment(o).executor.name;
    return deploymentPlan(o);
  }));
