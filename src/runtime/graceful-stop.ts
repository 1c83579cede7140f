import type * as grpc from '@grpc/grpc-js';

/**
 * How long a runtime drains after SIGTERM by default, ms: requests in flight are answered within
 * it, then it exits. The Kubernetes export's `terminationGracePeriodSeconds` is the `preStop` sleep
 * plus this plus a margin for closing the Executor (see `K8S_TIMING`).
 */
export const DEFAULT_GRACE_PERIOD_MS = 20_000;

/**
 * How long a stopping runtime keeps accepting new requests while it reports NOT_SERVING, at most,
 * ms: Gateways watching its health move new requests elsewhere within milliseconds; this covers
 * those already on their way.
 */
export const NOTICE_PERIOD_MS = 2000;

/** The quiet time (nothing in flight) that ends the notice period early, ms. */
export const QUIET_MS = 250;

/**
 * Resolves once `inFlight()` has been 0 (and `extra()` true) for `quietMs`, or at `deadline`
 * (epoch ms), whichever comes first.
 */
export async function waitIdle(
  inFlight: () => number,
  deadline: number,
  quietMs: number,
  extra: () => boolean = () => true,
): Promise<void> {
  let idleSince: number | undefined;
  while (Date.now() < deadline) {
    if (inFlight() === 0 && extra()) {
      idleSince ??= Date.now();
      if (Date.now() - idleSince >= quietMs) return;
    } else idleSince = undefined;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** `FLOWGATE_GRACE_PERIOD_MS` from the environment when it is a non-negative number, else the default. */
export function gracePeriodFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.FLOWGATE_GRACE_PERIOD_MS);
  return env.FLOWGATE_GRACE_PERIOD_MS !== undefined && Number.isFinite(v) && v >= 0
    ? v
    : DEFAULT_GRACE_PERIOD_MS;
}

/** A served `JinaRPC/Call` stream, as {@link GracefulStop} tracks it. */
export interface TrackedStream {
  /** Call before running a request from the stream: false once stopping (do not run it). */
  accept(): boolean;
  /** Call when a request from the stream is answered (or failed). */
  done(): void;
  /** Call when the client half-closes the stream. */
  clientEnded(): void;
}

/** What {@link GracefulStop.stop} drives. */
export interface GracefulStopTarget {
  /** Reports SERVING / NOT_SERVING on the health service. */
  setServing(serving: boolean): void;
  /** Requests being handled (streams and unary calls). */
  inFlight(): number;
  /** Closes the gRPC server, forcing after `graceMs`. */
  closeServer(graceMs: number): Promise<void>;
}

/**
 * The shutdown sequence of a runtime behind the Gateway (a worker or a head):
 *
 * 1. report NOT_SERVING: Gateways watching health stop picking this replica;
 * 2. keep serving everything until nothing has been in flight for a moment (at most
 *    {@link NOTICE_PERIOD_MS});
 * 3. stop taking requests from `JinaRPC/Call` streams and end each stream with status OK once its
 *    requests are answered: a request the client sent after that never runs, and the client, seeing
 *    the graceful end, moves it to another replica;
 * 4. wait for every request in flight, then close the server (what is left is health watches).
 *
 * Steps 2-4 together take at most `gracePeriodMs`.
 *
 * @example
 * ```ts
 * const stop = new GracefulStop({ setServing, inFlight: () => n, closeServer: (ms) => server.close(ms) }, 20_000);
 * const s = stop.track(call); // in the Call handler
 * await stop.stop();
 * ```
 */
export class GracefulStop {
  private readonly streams = new Set<{ stop(): void }>();
  private stopping = false;
  private stopped: Promise<void> | undefined;

  constructor(
    private readonly target: GracefulStopTarget,
    private readonly gracePeriodMs: number,
  ) {}

  /** Whether {@link stop} has begun. */
  get isStopping(): boolean {
    return this.stopping;
  }

  /** Tracks one served `JinaRPC/Call` stream. */
  track(call: grpc.ServerDuplexStream<unknown, unknown>): TrackedStream {
    let pending = 0;
    let clientEnded = false;
    let refusing = false;
    let ended = false;
    const entry = {
      stop: () => {
        refusing = true;
        finish();
      },
    };
    const finish = () => {
      if (ended || pending > 0 || !(clientEnded || refusing)) return;
      ended = true;
      this.streams.delete(entry);
      if (!call.cancelled && !call.destroyed) call.end();
    };
    const forget = () => {
      ended = true;
      this.streams.delete(entry);
    };
    call.on('cancelled', forget);
    call.on('close', forget);
    this.streams.add(entry);
    if (this.stopping) entry.stop();
    return {
      accept: () => {
        if (refusing || ended) return false;
        pending++;
        return true;
      },
      done: () => {
        pending--;
        finish();
      },
      clientEnded: () => {
        clientEnded = true;
        finish();
      },
    };
  }

  /** Runs the shutdown sequence (once; later calls wait for the first). */
  stop(): Promise<void> {
    this.stopped ??= this.run();
    return this.stopped;
  }

  private async run(): Promise<void> {
    this.stopping = true;
    const deadline = Date.now() + this.gracePeriodMs;
    this.target.setServing(false);
    const inFlight = () => this.target.inFlight();
    if (this.streams.size > 0 || inFlight() > 0) {
      await waitIdle(inFlight, Math.min(deadline, Date.now() + NOTICE_PERIOD_MS), QUIET_MS);
    }
    for (const s of [...this.streams]) s.stop();
    await waitIdle(inFlight, deadline, 0, () => this.streams.size === 0);
    // What is left are health watches (and streams that carried nothing): no need to wait long.
    await this.target.closeServer(Math.max(100, Math.min(250, deadline - Date.now())));
  }
}
