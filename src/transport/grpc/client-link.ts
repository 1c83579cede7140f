import * as grpc from '@grpc/grpc-js';
import { Code, FlowgateError } from '../../core/errors.js';
import type { DataRequest } from '../../proto/request.js';
import { ClientMux } from '../shared/client-mux.js';
import { tlsFailure } from '../shared/tls-errors.js';
import { JinaRPCService } from './codec.js';
import { duplex } from './link.js';

/** Maps a gRPC error from the Gateway to a FlowgateError with a sentence a user can act on. */
export function fromGrpcError(err: grpc.ServiceError, address: string): FlowgateError {
  const code = (err.code ?? Code.Unknown) as Code;
  // Only this client's own connection failures: an Executor's TLS error relayed by the Gateway
  // (its details start with the Gateway's sentence) is not about the Gateway's certificate.
  const own = /^(No connection established|Failed to connect|Connection dropped)/i.test(err.details ?? '');
  const tls = code === Code.Unavailable && own ? tlsFailure(err, address) : undefined;
  const msg = tls
    ? tls
    : code === Code.Unavailable &&
        /^(No connection established|Failed to connect to remote host|connect ECONNREFUSED)/i.test(
          err.details,
        )
      ? `cannot reach the Gateway at ${address}: ${err.details}`
      : code === Code.DeadlineExceeded
        ? `the request to ${address} timed out: ${err.details}`
        : code === Code.ResourceExhausted
          ? `the Gateway at ${address} or this client refused a message larger than the limit (maxMessageBytes): ${err.details}`
          : code === Code.Unauthenticated
            ? `the Gateway at ${address} refused the request (UNAUTHENTICATED): ${err.details}`
            : err.details || err.message;
  return new FlowgateError(code, msg, { cause: err });
}

/**
 * Resolves true when the call can take more writes, false when it ended first (a deadline, a
 * cancel, an error): a writer waiting for 'drain' must not wait forever on a call that is over.
 */
export function drained(call: grpc.ClientDuplexStream<DataRequest, DataRequest>): Promise<boolean> {
  if (call.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ok: boolean) => () => {
      call.off('drain', onDrain);
      call.off('status', onEnd);
      call.off('error', onEnd);
      call.off('close', onEnd);
      resolve(ok);
    };
    const onDrain = done(true);
    const onEnd = done(false);
    call.once('drain', onDrain);
    call.once('status', onEnd);
    call.once('error', onEnd);
    call.once('close', onEnd);
  });
}

/**
 * One `JinaRPC/Call` stream shared by concurrent posts (see {@link ClientMux}): each request is one
 * message, each answer goes to the post that sent its request id; the stream is answered in
 * completion order and each post restores its own order. The stream opens once `connected`
 * resolves, fails every post on it with the Gateway's status when it ends with an error, and is
 * ended once no post is left on it (at the end of the current turn of the event loop, so a post
 * that follows another at once reuses it): an idle Client holds no call open.
 *
 * @example
 * ```ts
 * const mux = grpcMux(client, '127.0.0.1:1234', new grpc.Metadata(), Promise.resolve());
 * for await (const res of mux.stream(requests, {})) console.log(res.requestId);
 * ```
 */
export function grpcMux(
  client: grpc.Client,
  address: string,
  metadata: grpc.Metadata,
  connected: Promise<void>,
): ClientMux {
  let call: grpc.ClientDuplexStream<DataRequest, DataRequest> | undefined;
  const ready = connected.then(() => {
    const c = duplex(client, JinaRPCService.Call, metadata);
    c.on('data', (res: DataRequest) => mux.deliver(res));
    c.on('error', (err: grpc.ServiceError) => {
      // Not this client's cancel (that comes after the mux failed): the Gateway reset the stream,
      // e.g. shutting down with requests in flight.
      if (err.code === grpc.status.CANCELLED)
        mux.fail(
          new FlowgateError(
            Code.Unavailable,
            `the Gateway at ${address} cancelled the stream with ${mux.unanswered} request(s) unanswered (is it shutting down?): ${err.details}`,
            { cause: err },
          ),
        );
      else mux.fail(fromGrpcError(err, address));
    });
    c.on('end', () =>
      mux.fail(new FlowgateError(Code.Unavailable, `the Gateway at ${address} ended the stream`)),
    );
    call = c;
  });
  const mux = new ClientMux(`the stream to ${address}`, ready);
  let idle: NodeJS.Immediate | undefined;
  let draining: Promise<void> | undefined;
  mux.attach({
    send(req) {
      if (call!.write(req)) return undefined;
      // one wait for 'drain' shared by every post whose request found the buffer full
      return (draining ??= drained(call!).then(() => {
        draining = undefined;
      }));
    },
    close() {
      clearImmediate(idle);
      // Nothing in flight: half-close, the Gateway ends the call; else cancel the work in flight.
      if (mux.unanswered === 0) call?.end();
      else call?.cancel();
    },
    busy(busy) {
      clearImmediate(idle);
      idle = busy
        ? undefined
        : setImmediate(() => {
            if (mux.posts === 0) mux.close();
          });
    },
  });
  return mux;
}
