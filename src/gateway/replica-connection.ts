import * as grpc from '@grpc/grpc-js';
import { Code, FlowgateError } from '../core/errors.js';
import type { DataRequest } from '../proto/request.js';
import { createJinaClient, duplex, type JinaClientOptions } from '../transport/grpc/client.js';
import { JinaRPCService } from '../transport/grpc/services.js';

interface Pending {
  resolve: (r: DataRequest) => void;
  reject: (e: FlowgateError) => void;
  originalId: string;
  timer: NodeJS.Timeout | undefined;
}

/**
 * One replica of a deployment, reached over a single long-lived `JinaRPC/Call` stream that carries
 * many requests at once. Each request gets a connection-unique id on the way out (so two clients
 * reusing an id cannot collide) and its own id back on the way in.
 */
export class ReplicaConnection {
  readonly address: string;
  readonly client: grpc.Client;
  private stream: grpc.ClientDuplexStream<DataRequest, DataRequest> | undefined;
  private readonly pending = new Map<string, Pending>();
  private seq = 0;
  private readonly prefix: string;
  /** Requests sent and not yet answered: the balancer prefers the replica with fewest. */
  get inFlight(): number {
    return this.pending.size;
  }

  constructor(
    address: string,
    private readonly deployment: string,
    options: JinaClientOptions = {},
  ) {
    this.address = address;
    this.client = createJinaClient(address, options);
    this.prefix = `${Math.random().toString(36).slice(2, 8)}-`;
  }

  /**
   * Sends one request and resolves to the Executor's response. Rejects with a FlowgateError:
   * Unavailable when the replica cannot be reached or the stream broke, DeadlineExceeded after
   * `timeoutMs`.
   */
  send(request: DataRequest, timeoutMs?: number, metadata?: grpc.Metadata): Promise<DataRequest> {
    const stream = this.ensureStream(metadata);
    const id = this.prefix + (this.seq++).toString(36);
    const originalId = request.requestId;
    return new Promise<DataRequest>((resolve, reject) => {
      const p: Pending = { resolve, reject, originalId, timer: undefined };
      if (timeoutMs !== undefined && timeoutMs > 0) {
        p.timer = setTimeout(() => {
          this.pending.delete(id);
          reject(
            new FlowgateError(
              Code.DeadlineExceeded,
              `Executor ${this.deployment} at ${this.address} did not answer within timeoutSend=${timeoutMs} ms`,
              { details: { executor: this.deployment, address: this.address } },
            ),
          );
        }, timeoutMs);
      }
      this.pending.set(id, p);
      stream.write(request.withRequestId(id));
    });
  }

  private ensureStream(metadata?: grpc.Metadata): grpc.ClientDuplexStream<DataRequest, DataRequest> {
    if (this.stream) return this.stream;
    const stream = duplex(this.client, JinaRPCService.Call, metadata ?? new grpc.Metadata());
    this.stream = stream;
    stream.on('data', (res: DataRequest) => {
      const id = res.requestId;
      const p = this.pending.get(id);
      if (!p) return; // timed out or cancelled: drop
      this.pending.delete(id);
      clearTimeout(p.timer);
      res.requestId = p.originalId;
      p.resolve(res);
    });
    const fail = (err?: Error & { code?: number; details?: string }) => {
      if (this.stream === stream) this.stream = undefined;
      const code = err?.code === grpc.status.DEADLINE_EXCEEDED ? Code.DeadlineExceeded : Code.Unavailable;
      const reason = err?.details || err?.message || 'the stream ended';
      for (const [id, p] of this.pending) {
        this.pending.delete(id);
        clearTimeout(p.timer);
        p.reject(
          new FlowgateError(
            code,
            `cannot reach Executor ${this.deployment} at ${this.address} (${reason}); it may be down`,
            { details: { executor: this.deployment, address: this.address }, cause: err },
          ),
        );
      }
    };
    stream.on('error', fail);
    stream.on('end', () => fail());
    return stream;
  }

  /** Whether the channel is currently usable (not in TRANSIENT_FAILURE or SHUTDOWN). */
  get healthy(): boolean {
    const state = this.client.getChannel().getConnectivityState(false);
    return state !== grpc.connectivityState.TRANSIENT_FAILURE && state !== grpc.connectivityState.SHUTDOWN;
  }

  /** Closes the stream and the channel; pending requests fail as Unavailable. */
  close(): void {
    this.stream?.end();
    this.client.close();
  }
}
