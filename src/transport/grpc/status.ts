import * as grpc from '@grpc/grpc-js';
import { FlowgateError } from '../../core/errors.js';

/**
 * Any error as a gRPC status: the one place this mapping lives, for the gRPC Gateway, the
 * Executors' workers and the heads. A {@link FlowgateError} keeps its code (flowgate's codes are
 * gRPC's); an error that already carries a gRPC code (a `ServiceError`) keeps it; anything else is
 * INTERNAL. `detailsPrefix` names who answers (a head writes `|Head <name>: `).
 *
 * @example
 * ```ts
 * cb(toGrpcStatus(new FlowgateError(Code.InvalidArgument, 'bad'))); // { code: 3, details: 'bad' }
 * ```
 */
export function toGrpcStatus(err: unknown, detailsPrefix = ''): Partial<grpc.StatusObject> {
  if (err instanceof FlowgateError) return { code: err.code, details: detailsPrefix + err.message };
  const e = err as { code?: number; details?: string; message?: string } | undefined;
  if (typeof e?.code === 'number' && e.code >= 0 && e.code <= 16)
    return { code: e.code, details: detailsPrefix + (e.details ?? e.message ?? '') };
  return { code: grpc.status.INTERNAL, details: detailsPrefix + (e?.message ?? String(err)) };
}
