import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { NOTICE_PERIOD_MS, QUIET_MS, waitIdle } from '../runtime/graceful-stop.js';
import type { FlowgateGrpcServer } from '../transport/grpc/rpc-server.js';
import type { Gateway } from './gateway.js';

/**
 * A Gateway that reports readiness itself: the runtime calls `setServing(false)` when it starts
 * draining (SIGTERM). A custom Gateway may implement it; the built-in ones are handled by
 * {@link setGatewayServing}.
 */
export interface ReportsReadiness {
  setServing(serving: boolean): void;
}

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** HTTP servers whose `GET /` answers 503 while the value is false. */
const httpReadiness = new WeakMap<Server, { serving: boolean }>();

/**
 * Makes `GET /` (the health check of HTTP-family Gateways, which `flowgate ping` and the
 * Kubernetes probes call) answer 503 while not serving, in front of whatever app serves `server`;
 * every other request is served as before.
 */
export function setHttpServing(server: Server, serving: boolean): void {
  let state = httpReadiness.get(server);
  if (!state) {
    state = { serving: true };
    httpReadiness.set(server, state);
    const listeners = server.listeners('request') as RequestListener[];
    server.removeAllListeners('request');
    const s = state;
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (!s.serving && req.method === 'GET' && (req.url === '/' || req.url?.startsWith('/?'))) {
        res.writeHead(503, { 'content-type': 'application/json', connection: 'close' });
        res.end('{"detail":"the Gateway is shutting down"}');
        return;
      }
      for (const l of listeners) l.call(server, req, res);
    });
  }
  state.serving = serving;
}

function isHttpServer(v: unknown): v is Server {
  return typeof (v as Server | undefined)?.listeners === 'function' && 'listening' in (v as object);
}

/**
 * Reports a Gateway ready or not to health checks: `setServing()` when the Gateway has one, else,
 * for the built-in Gateways, the gRPC health service (NOT_SERVING) or `GET /` (503) of the HTTP,
 * WebSocket and GraphQL ones. Returns false when it found no way to (the Gateway then only stops
 * answering when it shuts down).
 */
export function setGatewayServing(g: Gateway, serving: boolean): boolean {
  const own = g as Partial<ReportsReadiness>;
  if (typeof own.setServing === 'function') {
    own.setServing(serving);
    return true;
  }
  // The built-in Gateways' servers, by the fields they keep them in.
  const fields = g as unknown as {
    grpcServer?: FlowgateGrpcServer;
    app?: { server?: unknown };
    server?: { server?: unknown } | Server;
  };
  if (typeof fields.grpcServer?.setServing === 'function') {
    fields.grpcServer.setServing(serving);
    return true;
  }
  // A Fastify app keeps its Node server as `.server`; a plain Gateway may keep one as `server`.
  const http =
    fields.app?.server ?? (fields.server as { server?: unknown } | undefined)?.server ?? fields.server;
  if (isHttpServer(http)) {
    setHttpServing(http, serving);
    return true;
  }
  return false;
}

/** What {@link drainGateways} stops. */
export interface DrainGatewaysOptions {
  gateways: Gateway[];
  /** What each Gateway's `runServer()` returned. */
  running: Promise<void>[];
  /** Requests in flight to the Executors. */
  inFlight: () => number;
  gracePeriodMs: number;
}

/**
 * The Gateway's graceful stop: reports not ready (gRPC NOT_SERVING, `GET /` 503), keeps serving
 * while requests are in flight (until quiet for a moment, at most `NOTICE_PERIOD_MS`), then shuts
 * every Gateway down (they stop accepting and finish what they are answering); all within
 * `gracePeriodMs`.
 */
export async function drainGateways(o: DrainGatewaysOptions): Promise<void> {
  const deadline = Date.now() + o.gracePeriodMs;
  for (const g of o.gateways) setGatewayServing(g, false);
  if (o.inFlight() > 0)
    await waitIdle(o.inFlight, Math.min(deadline, Date.now() + NOTICE_PERIOD_MS), QUIET_MS);
  const stopped = Promise.all(o.gateways.map((g) => g.shutdown())).then(() => Promise.allSettled(o.running));
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    stopped,
    new Promise<void>((r) => (timer = setTimeout(r, Math.max(0, deadline - Date.now())))),
  ]);
  clearTimeout(timer);
}
