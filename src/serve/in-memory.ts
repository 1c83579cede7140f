/**
 * The in-memory transport (as connect-es's `createRouterTransport`): a Flow's routing logic (the
 * walker, the streamer, the Client's request cutting and in-flight window) without sockets or
 * processes. {@link createInMemoryPool} stands in for the Gateway's gRPC links to its Executors by
 * calling each Executor instance's handlers in-process; {@link inMemoryTransport} is a Client
 * transport talking to a Gateway's streamer in-process; {@link createInMemoryFlow} wires both.
 * Every request and response goes through the protobuf codec, as on the wire.
 */
import { consoleLogger, type Logger } from '../core/logger.js';
import { Code, FlowgateError } from '../core/errors.js';
import type { Executor } from '../executor/executor.js';
import { ExecutorHandler } from '../executor/handler.js';
import { DataRequest, StatusCode } from '../proto/request.js';
import type { ClientTransport, TransportCallOptions } from '../transport/shared/client-transport.js';
import type { ConnectionPool, PoolSendOptions } from '../gateway/connection-pool.js';
import { GraphWalker } from '../gateway/graph-walker.js';
import { GatewayStreamer } from '../gateway/streamer.js';
import { buildTopology, type TopologyNode } from '../gateway/topology.js';

/** A copy of `req` through the protobuf codec: what the other side of a gRPC link gets. */
const overTheWire = (req: DataRequest) => DataRequest.decode(req.encode());

/**
 * A stand-in for the Gateway's {@link ConnectionPool}: each deployment is an Executor instance
 * called in-process (its requests copied through the wire codec). `calls` counts each
 * deployment's calls, for tests.
 *
 * @example
 * ```ts
 * const pool = createInMemoryPool({ encoder: new Encoder({ metas: { name: 'encoder' } }) });
 * const response = await pool.send('encoder', request);
 * ```
 */
export function createInMemoryPool(
  executors: Record<string, Executor>,
): ConnectionPool & { calls: Map<string, number> } {
  const handlers = new Map(Object.entries(executors).map(([n, e]) => [n, new ExecutorHandler(e)]));
  const calls = new Map<string, number>();
  let inFlight = 0;
  const handlerOf = (name: string) => {
    const h = handlers.get(name);
    if (!h) throw new FlowgateError(Code.NotFound, `no deployment named ${name}`);
    return h;
  };
  const call = async (name: string, parts: DataRequest[], options: PoolSendOptions = {}) => {
    const h = handlerOf(name);
    calls.set(name, (calls.get(name) ?? 0) + 1);
    if (options.signal?.aborted) throw new FlowgateError(Code.Cancelled, `the call to ${name} was cancelled`);
    inFlight++;
    try {
      const metadata = Object.fromEntries(
        Object.entries(options.headers ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v]),
      );
      return overTheWire(await h.handle(parts.map(overTheWire), { metadata }));
    } finally {
      inFlight--;
    }
  };
  const pool = {
    calls,
    get names() {
      return [...handlers.keys()];
    },
    get inFlight() {
      return inFlight;
    },
    endpoints: (name: string) => Promise.resolve(new Set(handlerOf(name).endpoints)),
    send: (name: string, req: DataRequest, options?: PoolSendOptions) => call(name, [req], options),
    sendParts: (name: string, parts: DataRequest[], options?: PoolSendOptions) => call(name, parts, options),
    close: () => undefined,
  };
  return pool as unknown as ConnectionPool & { calls: Map<string, number> };
}

/**
 * A Client transport that hands every request to `streamer.rpcStream` in-process (copied through
 * the wire codec both ways), with the Client's `prefetch` and `resultsInOrder`, as the gRPC
 * Gateway does. Give it to `new Client({ transport })`.
 *
 * @example
 * ```ts
 * const client = new Client({ transport: inMemoryTransport(streamer) });
 * const docs = await client.post('/', [new Document({ text: 'hi' })]);
 * ```
 */
export function inMemoryTransport(streamer: GatewayStreamer): ClientTransport {
  return {
    async *stream(requests: AsyncIterable<DataRequest>, options: TransportCallOptions) {
      async function* sent() {
        for await (const r of requests) yield overTheWire(r);
      }
      const signal =
        options.timeoutMs && options.timeoutMs > 0 ? AbortSignal.timeout(options.timeoutMs) : undefined;
      const headers = options.metadata;
      for await (const res of streamer.rpcStream(sent(), { ...options, headers, signal }))
        yield overTheWire(res);
    },
    async dryRun() {
      const res = await streamer.process(DataRequest.create({ endpoint: '_jina_dry_run_' }));
      return res.status ?? { code: StatusCode.SUCCESS };
    },
    status: () => Promise.resolve({ jina: {}, envs: {} }),
    close: () => Promise.resolve(),
  };
}

/** What {@link createInMemoryFlow} builds. */
export interface InMemoryFlow {
  pool: ConnectionPool & { calls: Map<string, number> };
  walker: GraphWalker;
  streamer: GatewayStreamer;
  /** For `new Client({ transport })`. */
  transport: ClientTransport;
}

/**
 * A whole Flow in-process: the topology of `nodes` (as a Flow gives its Gateway), its Executors as
 * instances, a walker and a streamer over them, and a Client transport.
 *
 * @example
 * ```ts
 * const flow = createInMemoryFlow([{ name: 'a', needs: ['gateway'] }], { a: new A({ metas: { name: 'a' } }) });
 * const docs = await new Client({ transport: flow.transport }).post('/', docs);
 * ```
 */
export function createInMemoryFlow(
  nodes: TopologyNode[],
  executors: Record<string, Executor>,
  options: { output?: string; prefetch?: number; logger?: Logger } = {},
): InMemoryFlow {
  const pool = createInMemoryPool(executors);
  const walker = new GraphWalker(
    buildTopology(nodes, options.output),
    pool,
    options.logger ?? consoleLogger('gateway'),
  );
  const streamer = new GatewayStreamer(walker, pool, options.prefetch);
  return { pool, walker, streamer, transport: inMemoryTransport(streamer) };
}
