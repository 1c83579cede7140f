import type { Context, Tracer } from '@opentelemetry/api';
import type { DocumentArray } from '../document/index.js';
import type { JsonObject } from '../proto/struct.js';
import { endpointTable } from './requests.js';

/** Static facts about an Executor instance (the original's `metas`). */
export interface ExecutorMetas {
  /** The Executor's name in the Flow. */
  name: string;
  /** A folder the Executor may write to, if one was given. */
  workspace?: string;
}

/** Where this Executor runs (the original's `runtime_args`). */
export interface RuntimeArgs {
  shardId: number;
  replicaId: number;
  /** The port the worker listens on. */
  port?: number;
  [key: string]: unknown;
}

/** What every Executor constructor receives, besides its own `usesWith` arguments. */
export interface ExecutorArgs {
  metas?: Partial<ExecutorMetas>;
  runtimeArgs?: Partial<RuntimeArgs>;
}

/** The single argument of an endpoint method. */
export interface HandlerArgs {
  /** The request's documents; change them in place or return a new DocumentArray. */
  docs: DocumentArray;
  /** The request's parameters, with `<executor>__<key>` entries already resolved for this Executor. */
  parameters: JsonObject;
  /** With several upstream parts (a join with `noReduce`), the documents of each part. */
  docsMatrix: DocumentArray[];
  /** With several upstream parts, upstream Executor name -> its documents. */
  docsMap: Record<string, DocumentArray>;
  /** Request headers / gRPC metadata the Gateway was told to forward. */
  metadata: Record<string, string>;
  /**
   * With `tracing: true`: the OpenTelemetry context of this call's span (named after the endpoint),
   * to start your own spans under it: `tracer.startSpan('encode', {}, tracingContext)`.
   */
  tracingContext?: Context;
  /** With `tracing: true`: the runtime's OpenTelemetry tracer. */
  tracer?: Tracer;
}

/** What an endpoint method may return. */
export type HandlerResult = DocumentArray | Record<string, unknown> | void | undefined;

/**
 * The base class of every Executor. Methods bound with `@requests` serve endpoints; the
 * constructor receives `usesWith` merged with `metas` and `runtimeArgs`.
 *
 * @example
 * ```ts
 * class Upper extends Executor {
 *   constructor(private args: { suffix?: string } & ExecutorArgs = {}) { super(args); }
 *   @requests({ on: '/index' })
 *   upper({ docs }: HandlerArgs) {
 *     for (const d of docs) d.text = (d.text ?? '').toUpperCase() + (this.args.suffix ?? '');
 *   }
 * }
 * ```
 */
export class Executor {
  readonly metas: ExecutorMetas;
  readonly runtimeArgs: RuntimeArgs;

  constructor(args: ExecutorArgs = {}) {
    this.metas = { name: args.metas?.name ?? new.target.name, ...args.metas };
    this.runtimeArgs = { shardId: 0, replicaId: 0, ...args.runtimeArgs };
  }

  /** The endpoints this Executor binds (including `/default` when it has a catch-all). */
  get endpoints(): string[] {
    return [...endpointTable(this.constructor as typeof Executor).keys()];
  }

  /** Called once when the worker shuts down; release resources here. */
  async close(): Promise<void> {}
}

/** A class that builds an Executor. */
export type ExecutorClass = new (args: Record<string, unknown> & ExecutorArgs) => Executor;
