import * as grpc from '@grpc/grpc-js';
import type { DataRequest } from '../../proto/request.js';
import type { jina } from '../../proto/wire.js';
import {
  createJinaClient,
  createStreamClient,
  duplex,
  unary,
  type Compression,
  type JinaClientOptions,
} from './link.js';
import type { StreamDocRequest } from './stream-doc.js';
import { grpcStreamDoc } from './client-stream.js';
import { JinaGatewayDryRunRPCService, JinaInfoRPCService, JinaRPCService } from './codec.js';
import type { ClientMux } from '../shared/client-mux.js';
import { drained, fromGrpcError, grpcMux } from './client-link.js';
import type {
  ClientTransport,
  TransportCallOptions,
  TransportStreamOptions,
} from '../shared/client-transport.js';

/** Options of the gRPC transport. */
export interface GrpcTransportOptions {
  tls?: boolean;
  /** PEM of the CA that signed the Gateway's certificate; default: the system's CAs. */
  rootCertificates?: Buffer;
  /** Compress requests (and ask for compressed responses). */
  compression?: Compression;
  /** Metadata sent on every call (e.g. `authorization`). */
  headers?: Record<string, string>;
  /** Largest message sent or received, bytes; default unlimited. */
  maxMessageBytes?: number;
}

/** The gRPC transport: every post is one `JinaRPC/Call` stream. */
export class GrpcTransport implements ClientTransport {
  private readonly client: grpc.Client;
  private readonly headers: Record<string, string>;
  private readonly clientOptions: JinaClientOptions;
  private streamClient: grpc.Client | undefined;
  /** The `Call` stream concurrent posts share. */
  private shared: ClientMux | undefined;

  constructor(
    private readonly address: string,
    options: GrpcTransportOptions = {},
  ) {
    const credentials = options.tls
      ? grpc.credentials.createSsl(options.rootCertificates ?? null)
      : grpc.credentials.createInsecure();
    this.clientOptions = {
      credentials,
      compression: options.compression,
      maxMessageBytes: options.maxMessageBytes,
      // a restarted Gateway is found again within a second or two, not after grpc-js's 2 minutes
      channelOptions: { 'grpc.initial_reconnect_backoff_ms': 200, 'grpc.max_reconnect_backoff_ms': 2000 },
    };
    this.client = createJinaClient(address, this.clientOptions);
    this.headers = options.headers ?? {};
  }

  /** Call metadata: the transport's headers, then the call's own. */
  private metadata(extra: Record<string, string> = {}): grpc.Metadata {
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries({ ...this.headers, ...extra })) md.set(k.toLowerCase(), v);
    return md;
  }

  /**
   * Waits (up to 3 s, or the call's timeout) for a channel that is not connected, so that a post
   * after a Gateway restart reconnects instead of failing on the channel's back-off; a Gateway that
   * stays down still fails the call fast with UNAVAILABLE.
   */
  private async connected(timeoutMs: number | undefined): Promise<void> {
    const channel = this.client.getChannel();
    if (channel.getConnectivityState(true) === grpc.connectivityState.READY) return;
    const wait = Math.min(3000, timeoutMs && timeoutMs > 0 ? timeoutMs : 3000);
    await new Promise<void>((resolve) => this.client.waitForReady(Date.now() + wait, () => resolve()));
  }

  /**
   * Sends `requests` on the `Call` stream concurrent posts share (opened on first use, ended when
   * no post is left on it) and yields their responses. A post with a `timeoutMs` (a deadline the
   * Gateway enforces and cancels on) or its own `metadata` gets a `Call` of its own.
   */
  stream(requests: AsyncIterable<DataRequest>, options: TransportCallOptions): AsyncIterable<DataRequest> {
    if (this.needsOwnCall(options)) return this.ownStream(requests, options);
    if (!this.shared || this.shared.failed)
      this.shared = grpcMux(this.client, this.address, this.metadata(), this.connected(undefined));
    return this.shared.stream(requests, options);
  }

  /** One request on the shared `Call` stream; `undefined` when the post needs a call of its own. */
  postOne(req: DataRequest, options: TransportCallOptions): Promise<DataRequest> | undefined {
    if (this.needsOwnCall(options)) return undefined;
    if (!this.shared || this.shared.failed)
      this.shared = grpcMux(this.client, this.address, this.metadata(), this.connected(undefined));
    return this.shared.request(req, options);
  }

  private needsOwnCall(options: TransportCallOptions): boolean {
    return (
      (options.timeoutMs !== undefined && options.timeoutMs > 0) ||
      (options.metadata !== undefined && Object.keys(options.metadata).length > 0)
    );
  }

  /** One `Call` stream for one post. */
  private async *ownStream(
    requests: AsyncIterable<DataRequest>,
    options: TransportCallOptions,
  ): AsyncIterable<DataRequest> {
    const md = this.metadata(options.metadata);
    if (options.resultsInOrder) md.set('__results_in_order__', 'true');
    if (options.prefetch !== undefined) md.set('__prefetch__', String(options.prefetch));
    const callOptions: grpc.CallOptions = {};
    if (options.timeoutMs && options.timeoutMs > 0) callOptions.deadline = Date.now() + options.timeoutMs;
    await this.connected(options.timeoutMs);
    const call = duplex(this.client, JinaRPCService.Call, md, callOptions);
    let writeError: Error | undefined;
    const writer = (async () => {
      try {
        for await (const req of requests) {
          if (!call.write(req) && !(await drained(call))) return;
        }
      } catch (err) {
        writeError = err instanceof Error ? err : new Error(String(err));
        call.cancel();
        return;
      }
      call.end();
    })();
    try {
      for await (const res of call as AsyncIterable<DataRequest>) yield res;
    } catch (err) {
      if (writeError) throw writeError;
      throw fromGrpcError(err as grpc.ServiceError, this.address);
    } finally {
      call.cancel();
      await writer;
    }
    if (writeError) throw writeError;
  }

  /** `stream_doc` on its own channel, with the small HTTP/2 window that bounds a stream's buffering. */
  streamDoc(request: StreamDocRequest, options: TransportStreamOptions): AsyncIterable<StreamDocRequest> {
    this.streamClient ??= createStreamClient(this.address, this.clientOptions);
    return grpcStreamDoc(this.streamClient, this.address, this.metadata(options.metadata), request, options);
  }

  async dryRun(timeoutMs = 5000): Promise<jina.IStatusProto> {
    try {
      const { response } = await unary(
        this.client,
        JinaGatewayDryRunRPCService.dry_run,
        {},
        { deadlineMs: timeoutMs, metadata: this.metadata() },
      );
      return response;
    } catch (err) {
      throw fromGrpcError(err as grpc.ServiceError, this.address);
    }
  }

  async status(): Promise<{ jina: Record<string, string>; envs: Record<string, string> }> {
    try {
      const { response } = await unary(
        this.client,
        JinaInfoRPCService._status,
        {},
        { deadlineMs: 5000, metadata: this.metadata() },
      );
      return { jina: { ...response.jina }, envs: { ...response.envs } };
    } catch (err) {
      throw fromGrpcError(err as grpc.ServiceError, this.address);
    }
  }

  async close(): Promise<void> {
    // As grpc-js's own close(): the posts in flight finish (Flow.post relies on it), then the
    // shared stream ends; a post after close() opens a new one.
    this.shared?.drain();
    this.shared = undefined;
    this.client.close();
    this.streamClient?.close();
  }
}
