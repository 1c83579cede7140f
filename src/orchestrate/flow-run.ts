import type { ChildProcess } from 'node:child_process';
import { freePort } from '../serve/gateway-runtime.js';
import type { ObservabilityOptions } from '../runtime/observability.js';
import { spawnRuntime, stopChild, type RunningChild } from './child-process.js';
import {
  executorProcessConfig,
  externalAddresses,
  headProcessConfig,
  processEnv,
  processName,
  replicaSlots,
  restartOptions,
  type ExecutorEntry,
  type GatewayEntry,
  type ReplicaSlot,
} from './flow-plan.js';
import type { ExecutorProcessConfig } from './process-config.js';
import { supervise } from './supervisor.js';

/**
 * The processes of a started Flow: starts each Executor (its replicas, shards and head), restarts
 * those that exit on their own, and stops them all on `close()`. What each process is told comes
 * from `flow-plan.ts`; the Gateway is started by `flow-gateway.ts` on the same run.
 */
export class FlowRun {
  children: RunningChild[] = [];
  /** Every process started and not yet stopped, ready or not: what `close()` must stop. */
  readonly spawned = new Set<ChildProcess>();
  /** Set by close(): Executor exits are expected from then on, not restarted. */
  closing = false;
  gatewayChild: RunningChild | undefined;
  /** Stops a Gateway run from a container image. */
  stopContainer: (() => Promise<void>) | undefined;
  ports: number[] = [];
  readonly monitoringPorts: Record<string, number> = {};

  constructor(
    private readonly gateway: GatewayEntry,
    readonly timeoutMs: number,
  ) {}

  /** Records a spawned process, so that close() stops it even if it never becomes ready. */
  readonly onSpawn = (p: ChildProcess): void => {
    this.spawned.add(p);
  };

  /**
   * A process's observability with its metrics port chosen here (a free one when monitoring is on
   * and none is given), so that the Flow can tell it.
   */
  async withMonitoringPort(o: ObservabilityOptions | undefined): Promise<ObservabilityOptions | undefined> {
    if (!o?.monitoring) return o;
    const portMonitoring = o.portMonitoring || (await freePort());
    this.monitoringPorts[o.runtimeName ?? 'gateway'] = portMonitoring;
    return { ...o, portMonitoring };
  }

  /** Starts one Executor's processes; its addresses (its head's with shards), none for a merge. */
  async startExecutor(d: ExecutorEntry): Promise<{ addresses: string[]; head: boolean }> {
    if (d.external) return { addresses: externalAddresses(d), head: false };
    const slots = replicaSlots(d);
    if (slots.shards.length === 0) return { addresses: [], head: false }; // the Gateway merges/passes on
    if (slots.shards.length === 1)
      return { addresses: await this.startReplicas(d, slots.shards[0]!), head: false };
    const [shardAddresses, usesBefore, usesAfter] = await Promise.all([
      Promise.all(slots.shards.map((s) => this.startReplicas(d, s))),
      slots.usesBefore && this.startReplicas(d, slots.usesBefore),
      slots.usesAfter && this.startReplicas(d, slots.usesAfter),
    ]);
    const config = headProcessConfig(d, this.gateway, { shards: shardAddresses, usesBefore, usesAfter });
    config.observability = await this.withMonitoringPort(config.observability);
    const head = await spawnRuntime({
      role: 'head',
      name: `${d.name}/head`,
      config,
      timeoutMs: this.timeoutMs,
      onSpawn: this.onSpawn,
    });
    if (this.spawned.has(head.process)) this.children.push(head);
    return { addresses: [`127.0.0.1:${head.ports[0]}`], head: true };
  }

  /** Starts the processes of one shard (or of a uses-before/after); their addresses. */
  private async startReplicas(d: ExecutorEntry, slots: ReplicaSlot[]): Promise<string[]> {
    const env = processEnv(d);
    return Promise.all(
      slots.map(async (slot) => {
        const config = executorProcessConfig(d, slot);
        config.observability = await this.withMonitoringPort(config.observability);
        const c = await spawnRuntime({
          role: 'executor',
          name: processName(slot),
          config,
          env,
          timeoutMs: this.timeoutMs,
          onSpawn: this.onSpawn,
        });
        // Not when close() already stopped it (a sibling failed while this one was starting).
        if (this.spawned.has(c.process)) {
          this.children.push(c);
          this.superviseReplica(c, config, d, env);
        }
        return `127.0.0.1:${c.ports[0]}`;
      }),
    );
  }

  /** Restarts an Executor process that exits on its own, on the same port (see `restartPolicy`). */
  private superviseReplica(
    child: RunningChild,
    config: ExecutorProcessConfig,
    d: ExecutorEntry,
    env: Record<string, string> | undefined,
  ): void {
    supervise(child, {
      ...restartOptions(d),
      closing: () => this.closing,
      respawn: async () => {
        const next = await spawnRuntime({
          role: 'executor',
          name: child.name,
          config: { ...config, port: child.ports[0]! },
          env,
          timeoutMs: this.timeoutMs,
          onSpawn: this.onSpawn,
        });
        // close() ran while it was starting: it must not outlive the Flow
        if (this.closing) await stopChild(next.process);
        return next;
      },
      onRestart: (next) => {
        this.children = this.children.filter(
          (c) => c.process.exitCode === null && c.process.signalCode === null,
        );
        for (const p of this.spawned)
          if (p.exitCode !== null || p.signalCode !== null) this.spawned.delete(p);
        this.children.push(next);
      },
    });
  }

  /** The process ids of the running parts (every Executor replica, then the Gateway). */
  get pids(): number[] {
    return [...this.children, ...(this.gatewayChild ? [this.gatewayChild] : [])]
      .map((c) => c.process.pid)
      .filter((pid): pid is number => pid !== undefined);
  }

  /** Stops the Gateway (which waits for floating work), then every process. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.stopContainer) await this.stopContainer();
    else if (this.gatewayChild) await stopChild(this.gatewayChild.process);
    this.gatewayChild = undefined;
    this.stopContainer = undefined;
    // Every spawned process, including those still starting when start() failed: an Executor that
    // becomes ready after a sibling failed must not outlive the Flow.
    const all = [...this.spawned];
    this.spawned.clear();
    this.children = [];
    await Promise.all(all.map((p) => stopChild(p)));
  }
}
