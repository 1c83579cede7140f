import * as grpc from '@grpc/grpc-js';
import type { DataRequest } from '../proto/request.js';
import { jsonToStruct, type JsonObject } from '../proto/struct.js';
import type { jina } from '../proto/wire.js';
import type { FlowgateGrpcServer } from '../transport/grpc/rpc-server.js';
import {
  JinaDataRequestRPCService,
  JinaDiscoverEndpointsRPCService,
  JinaInfoRPCService,
  JinaRPCService,
  JinaSingleDataRequestRPCService,
  ServiceNames,
} from '../transport/grpc/codec.js';
import { environmentInfo } from './info.js';

/** What a runtime behind the Gateway (a worker or a head) does for each of its gRPC services. */
export interface RuntimeServices {
  /** Answers the parts of one unary call: one for `process_single_data`, all for `process_data`. */
  handle(parts: DataRequest[], call: grpc.ServerUnaryCall<unknown, DataRequest>): Promise<DataRequest>;
  /** The gRPC status for a failure of `handle` or `endpoints`. */
  toStatus(err: unknown): Partial<grpc.StatusObject>;
  /** Serves one `JinaRPC/Call` stream. */
  serveStream(call: grpc.ServerDuplexStream<DataRequest, DataRequest>): void;
  /** The endpoints served, for `endpoint_discovery`. */
  endpoints(): string[] | Promise<string[]>;
  /** The streaming (generator) endpoints among them: `schemas[endpoint].is_generator` in discovery. */
  streamingEndpoints?(): Set<string> | Promise<Set<string>>;
}

/**
 * `EndpointsProto.schemas` marking the generator endpoints as the original's DocArray v2 schemas do
 * (`{ "/gen": { is_generator: true, is_singleton_doc: true } }`); nothing without any.
 */
function generatorSchemas(streaming: Set<string> | undefined): Pick<jina.IEndpointsProto, 'schemas'> {
  if (!streaming || streaming.size === 0) return {};
  const schemas: JsonObject = {};
  for (const e of streaming) schemas[e] = { is_generator: true, is_singleton_doc: true };
  return { schemas: jsonToStruct(schemas) };
}

/** The trailer that marks a response carrying an Executor error (`is-error: true`). */
export function errorTrailer(): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('is-error', 'true');
  return md;
}

/**
 * Registers the services every runtime behind the Gateway serves, worker and head alike:
 * `JinaRPC/Call`, `process_single_data`, `process_data`, `endpoint_discovery` and `_status`.
 */
export function addRuntimeServices(s: FlowgateGrpcServer, r: RuntimeServices): void {
  const unary =
    (toParts: (req: DataRequest | DataRequest[]) => DataRequest[]) =>
    (
      call: grpc.ServerUnaryCall<DataRequest | DataRequest[], DataRequest>,
      cb: grpc.sendUnaryData<DataRequest>,
    ) => {
      r.handle(toParts(call.request), call).then(
        (res) => cb(null, res, res.isError ? errorTrailer() : undefined),
        (err: unknown) => cb(r.toStatus(err)),
      );
    };
  s.server.addService(JinaSingleDataRequestRPCService, {
    process_single_data: unary((req) => [req as DataRequest]),
  });
  s.server.addService(JinaDataRequestRPCService, { process_data: unary((req) => req as DataRequest[]) });
  s.server.addService(JinaRPCService, {
    Call: (call: grpc.ServerDuplexStream<DataRequest, DataRequest>) => r.serveStream(call),
  });
  s.server.addService(JinaDiscoverEndpointsRPCService, {
    endpoint_discovery: (_call: unknown, cb: grpc.sendUnaryData<jina.IEndpointsProto>) => {
      Promise.resolve()
        .then(() => Promise.all([r.endpoints(), r.streamingEndpoints?.()]))
        .then(
          ([endpoints, streaming]) =>
            cb(null, { endpoints, writeEndpoints: [], ...generatorSchemas(streaming) }),
          (err: unknown) => cb(r.toStatus(err)),
        );
    },
  });
  s.server.addService(JinaInfoRPCService, {
    _status: (_call: unknown, cb: grpc.sendUnaryData<jina.IJinaInfoProto>) => cb(null, environmentInfo()),
  });
  s.serviceNames.push(
    ServiceNames.JinaRPC,
    ServiceNames.JinaSingleDataRequestRPC,
    ServiceNames.JinaDataRequestRPC,
    ServiceNames.JinaDiscoverEndpointsRPC,
    ServiceNames.JinaInfoRPC,
  );
}
