import { setMaxListeners } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { LightAbort } from '../../core/abort-like.js';
import { Code, FlowgateError } from '../../core/errors.js';
import type { DataRequest } from '../../proto/request.js';
import type { jina } from '../../proto/wire.js';
import { environmentInfo } from '../../runtime/info.js';
import { createGrpcServer, type ConnectionInjector, type FlowgateGrpcServer } from './rpc-server.js';
import {
  JinaGatewayDryRunRPCService,
  JinaInfoRPCService,
  JinaRPCService,
  JinaSingleDataRequestRPCService,
  ServiceNames,
} from './codec.js';
import { headerRecord, metadataToForward, type AuthOutcome, type Authenticator } from '../../gateway/auth.js';
import { Gateway, type GatewayOptions } from '../../gateway/gateway.js';
import { DEFAULT_MAX_MESSAGE_BYTES, type TlsKeyPair } from '../../gateway/security.js';
import { dryRun } from '../../gateway/dry-run.js';
import { toGrpcStatus } from './status.js';
import {
  GATEWAY_STREAM_DOC_SERVICE,
  serveGatewayStreamDoc,
  type GatewayStreamCall,
} from './server-stream-doc.js';
import { STREAM_DOC_SERVICE } from './stream-doc.js';
import { forwardedHeaders, type Headers } from '../../core/headers.js';
import { firstEvent } from '../../core/events.js';

/** What every kind of server call has (grpc-js does not export its own name for it). */
type SurfaceCall = Pick<grpc.ServerUnaryCall<unknown, unknown>, 'metadata' | 'getPeer' | 'cancelled'>;

/** Options of {@link GrpcGateway}. */
export interface GrpcGatewayOptions extends GatewayOptions {
  /** Server credentials; default: TLS with `tls`, else plaintext. */
  credentials?: grpc.ServerCredentials;
  /** Serve TLS with this key pair. */
  tls?: TlsKeyPair;
  /** Largest message received or sent, bytes (RESOURCE_EXHAUSTED above it); 0 or less = none. Default 64 MiB. */
  maxMessageBytes?: number;
  /** Checks every call but health and reflection (UNAUTHENTICATED when it fails). */
  authenticator?: Authenticator;
  /** Metadata keys sent on to Executors as `metadata`. */
  forwardMetadata?: string[];
}

/**
 * The built-in gRPC Gateway: `JinaRPC/Call` (bidirectional, answered in completion order unless the
 * client sends `__results_in_order__: true`), `process_single_data`, `dry_run`, `_status`, health
 * and reflection. With an authenticator, every call but health and reflection must pass it.
 */
export class GrpcGateway extends Gateway {
  private grpcServer: FlowgateGrpcServer | undefined;
  private stopped: (() => void) | undefined;
  /** With `attached`, once running: where the one-port front hands HTTP/2 connections. */
  injector: ConnectionInjector | undefined;
  private readonly credentials: grpc.ServerCredentials | undefined;
  private readonly maxMessageBytes: number;
  private readonly authenticator: Authenticator | undefined;
  private readonly forwardMetadata: string[] | undefined;

  constructor(options: GrpcGatewayOptions = {}) {
    super(options);
    this.credentials =
      options.credentials ??
      (options.tls
        ? grpc.ServerCredentials.createSsl(null, [
            { private_key: Buffer.from(options.tls.key), cert_chain: Buffer.from(options.tls.cert) },
          ])
        : undefined);
    const max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.maxMessageBytes = max > 0 ? max : -1;
    this.authenticator = options.authenticator;
    this.forwardMetadata = options.forwardMetadata;
  }

  /** Authenticates one call; a rejection is answered UNAUTHENTICATED by the caller. */
  private async authorize(call: SurfaceCall, path: string): Promise<AuthOutcome> {
    if (!this.authenticator) return { ok: true };
    return this.authenticator({
      protocol: 'grpc',
      headers: grpcHeaders(call.metadata),
      peer: call.getPeer(),
      method: 'POST',
      path,
    });
  }

  /** The headers of `call` that travel on to Executors, with the principal if any. */
  private forwardable(call: SurfaceCall, auth: AuthOutcome): Headers | undefined {
    if (!this.forwardMetadata && !(auth.ok && auth.principal)) return undefined;
    const principal = auth.ok ? auth.principal : undefined;
    return forwardedHeaders(metadataToForward(grpcHeaders(call.metadata), this.forwardMetadata, principal));
  }

  /** Runs `serve` once `call` is authenticated, else answers UNAUTHENTICATED through `deny`. */
  private guarded<C extends SurfaceCall>(
    path: string,
    serve: (call: C, auth: AuthOutcome) => void,
    deny: (call: C, status: Partial<grpc.StatusObject>) => void,
  ): (call: C) => void {
    return (call) => {
      if (!this.authenticator) return serve(call, { ok: true });
      void this.authorize(call, path).then((auth) => {
        if (call.cancelled) return; // the client went away while it was being authenticated
        if (auth.ok) serve(call, auth);
        else deny(call, { code: grpc.status.UNAUTHENTICATED, details: auth.message });
      });
    };
  }

  private unaryGuard<Req, Res>(
    path: string,
    serve: (call: grpc.ServerUnaryCall<Req, Res>, cb: grpc.sendUnaryData<Res>, auth: AuthOutcome) => void,
  ): (call: grpc.ServerUnaryCall<Req, Res>, cb: grpc.sendUnaryData<Res>) => void {
    if (!this.authenticator) return (call, cb) => serve(call, cb, NO_AUTH);
    return (call, cb) =>
      this.guarded<grpc.ServerUnaryCall<Req, Res>>(
        path,
        (c, auth) => serve(c, cb, auth),
        (_c, status) => cb(status),
      )(call);
  }

  override async setupServer(): Promise<void> {
    const s = createGrpcServer({ maxMessageBytes: this.maxMessageBytes });
    this.grpcServer = s;
    // `Call` decodes its messages itself (see UNREADABLE): a bad frame ends the stream with
    // INVALID_ARGUMENT naming it, instead of grpc-js's own path, which can leave the call open.
    s.server.addService(LENIENT_CALL_SERVICE, {
      Call: this.guarded<grpc.ServerDuplexStream<DataRequest, DataRequest>>(
        JinaRPCService.Call.path,
        (call, auth) => this.serveCall(call, auth),
        (call, status) => call.emit('error', status),
      ),
    });
    s.server.addService(JinaSingleDataRequestRPCService, {
      process_single_data: this.unaryGuard<DataRequest, DataRequest>(
        JinaSingleDataRequestRPCService.process_single_data.path,
        (call, cb, auth) => {
          // A client that goes away (or whose deadline passes) cancels the work still pending.
          // grpc-js also emits 'cancelled' after a call that was answered: only abort unsettled work
          // (aborting builds an error with a stack: measurable at thousands of calls per second).
          // A light signal: a DOM AbortController per call was ~5% of the Gateway's CPU.
          const abort = new LightAbort();
          let settled = false;
          call.on('cancelled', () => {
            if (!settled) abort.abort();
          });
          this.streamer.process(call.request, { headers: this.forwardable(call, auth), signal: abort }).then(
            (res) => {
              settled = true;
              cb(null, res);
            },
            (err: unknown) => {
              settled = true;
              if (!call.cancelled) cb(toGrpcStatus(err));
            },
          );
        },
      ),
    });
    s.server.addService(GATEWAY_STREAM_DOC_SERVICE, {
      stream_doc: this.guarded<GatewayStreamCall>(
        GATEWAY_STREAM_DOC_SERVICE.stream_doc.path,
        (call, auth) =>
          void serveGatewayStreamDoc(call, this.streamer, this.forwardable(call, auth), toGrpcStatus),
        (call, status) => call.emit('error', status),
      ),
    });
    s.serviceNames.push(STREAM_DOC_SERVICE);
    s.server.addService(JinaGatewayDryRunRPCService, {
      dry_run: this.unaryGuard<unknown, jina.IStatusProto>(
        JinaGatewayDryRunRPCService.dry_run.path,
        (_call, cb) => void dryRun(this.streamer).then((status) => cb(null, status)),
      ),
    });
    s.server.addService(JinaInfoRPCService, {
      _status: this.unaryGuard<unknown, jina.IJinaInfoProto>(JinaInfoRPCService._status.path, (_call, cb) =>
        cb(null, environmentInfo()),
      ),
    });
    s.serviceNames.push(
      ServiceNames.JinaRPC,
      ServiceNames.JinaSingleDataRequestRPC,
      ServiceNames.JinaGatewayDryRunRPC,
      ServiceNames.JinaInfoRPC,
    );
  }

  private serveCall(call: grpc.ServerDuplexStream<DataRequest, DataRequest>, auth: AuthOutcome): void {
    const inOrder = call.metadata.get('__results_in_order__')[0]?.toString() === 'true';
    const prefetchMd = Number(call.metadata.get('__prefetch__')[0]?.toString());
    // The client going away or its deadline passing (grpc-js then cancels the call) cancels the
    // work still pending downstream.
    // grpc-js also emits 'cancelled' after every call that ended normally: aborting then would
    // build a DOMException and a Cancelled error per call for nothing (~7% of the Gateway's CPU
    // with one stream per post, as the Client opens).
    const abort = new AbortController();
    let finished = false;
    call.on('cancelled', () => {
      if (!finished) abort.abort();
    });
    setMaxListeners(0, abort.signal); // one listener per request in flight on this stream
    call.on('error', () => undefined);
    // Read without destroying the call at end of input: the response side is still writing.
    const requests = readable(
      call.iterator({ destroyOnReturn: false }) as AsyncIterable<DataRequest | Unreadable>,
    );
    const responses = this.streamer.rpcStream(requests, {
      resultsInOrder: inOrder,
      ...(Number.isFinite(prefetchMd) && prefetchMd >= 0 ? { prefetch: prefetchMd } : {}),
      headers: this.forwardable(call, auth),
      signal: abort.signal,
    });
    void (async () => {
      try {
        for await (const res of responses) {
          if (call.cancelled) break;
          if (!call.write(res)) await firstEvent(call, 'drain', 'cancelled');
        }
        finished = true;
        if (!call.cancelled) call.end();
      } catch (err) {
        finished = true;
        if (!call.cancelled) call.emit('error', toGrpcStatus(err));
      }
    })();
  }

  override async runServer(): Promise<void> {
    if (!this.grpcServer)
      throw new FlowgateError(Code.FailedPrecondition, 'setupServer() must run before runServer()');
    if (this.attached) {
      this.injector = this.grpcServer.injector();
      this.reportListening(this.port);
    } else this.reportListening(await this.grpcServer.listen(this.host, this.port, this.credentials));
    await new Promise<void>((r) => (this.stopped = r));
  }

  override async shutdown(): Promise<void> {
    await this.grpcServer?.close(2000);
    this.stopped?.();
  }
}

/** The outcome of every call when the Gateway has no authenticator. */
const NO_AUTH: AuthOutcome = { ok: true };

/** A request frame that is not a DataRequestProto (what the lenient deserializer returns). */
class Unreadable {
  constructor(readonly reason: string) {}
}

/**
 * `JinaRPC/Call` whose deserializer never throws: grpc-js answers a deserialization failure with a
 * status that it defers while a message is being processed, and in a stream with requests in flight
 * that status can stay unsent (the client then waits for its deadline). The Gateway ends the stream
 * itself instead, with INVALID_ARGUMENT.
 */
const LENIENT_CALL_SERVICE = {
  Call: {
    ...JinaRPCService.Call,
    requestDeserialize: (bytes: Buffer): DataRequest | Unreadable => {
      try {
        return JinaRPCService.Call.requestDeserialize(bytes);
      } catch (err) {
        return new Unreadable((err as Error).message);
      }
    },
  },
} as unknown as typeof JinaRPCService;

/** The requests of a `Call`, failing with INVALID_ARGUMENT at the first frame that is not one. */
async function* readable(source: AsyncIterable<DataRequest | Unreadable>): AsyncGenerator<DataRequest> {
  let n = 0;
  for await (const item of source) {
    n++;
    if (item instanceof Unreadable)
      throw new FlowgateError(
        Code.InvalidArgument,
        `message ${n} of the stream is not a DataRequestProto (${item.reason})`,
      );
    yield item;
  }
}

/** Call metadata as the record an `authenticate` hook and the allow-list read (text values only). */
function grpcHeaders(md: grpc.Metadata): Record<string, string> {
  return headerRecord(md.getMap());
}
