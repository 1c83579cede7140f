import type { ServiceDefinition, MethodDefinition } from '@grpc/grpc-js';
import { google, jina } from '../../proto/wire.js';
import { DataRequest } from '../../proto/request.js';

/**
 * gRPC service definitions for the `jina.*` services, with flowgate's own (de)serialisers: data
 * requests travel as {@link DataRequest} (documents left encoded), everything else as the generated
 * protobufjs classes.
 */

interface Codec<T> {
  encode: (v: T) => Buffer;
  decode: (b: Buffer) => T;
}

function protoCodec<T>(type: { encode(m: T): { finish(): Uint8Array }; decode(b: Uint8Array): T }): Codec<T> {
  return {
    encode: (m) => asBuffer(type.encode(m).finish()),
    decode: (b) => type.decode(b),
  };
}

/** Wraps bytes in a Buffer without copying. */
export function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

const dataRequestCodec: Codec<DataRequest> = {
  encode: (r) => asBuffer(r.encode()),
  decode: (b) => DataRequest.decode(b),
};

/** A list of data requests (`jina.DataRequestListProto`). */
export type DataRequestList = DataRequest[];

const dataRequestListCodec: Codec<DataRequestList> = {
  encode: (list) => {
    // DataRequestListProto { repeated DataRequestProto requests = 1; }: write each as field 1.
    const parts = list.map((r) => r.encode());
    const chunks: Buffer[] = [];
    for (const p of parts) {
      chunks.push(Buffer.from([0x0a]), varint(p.length), asBuffer(p));
    }
    return Buffer.concat(chunks);
  },
  decode: (b) => {
    const out: DataRequest[] = [];
    let pos = 0;
    while (pos < b.length) {
      const [tag, p1] = readVarint(b, pos);
      const [len, p2] = readVarint(b, p1);
      if (tag !== 0x0a) throw new Error(`unexpected field tag ${tag} in DataRequestListProto`);
      out.push(DataRequest.decode(b.subarray(p2, p2 + len)));
      pos = p2 + len;
    }
    return out;
  },
};

function varint(n: number): Buffer {
  const bytes: number[] = [];
  while (n > 0x7f) {
    bytes.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  bytes.push(n);
  return Buffer.from(bytes);
}

function readVarint(b: Buffer, pos: number): [number, number] {
  let result = 0;
  let mul = 1;
  for (;;) {
    if (pos >= b.length) throw new Error('truncated varint in DataRequestListProto');
    const byte = b[pos++]!;
    result += (byte & 0x7f) * mul;
    if ((byte & 0x80) === 0) return [result, pos];
    mul *= 128;
  }
}

const emptyCodec = protoCodec(google.protobuf.Empty);

function method<Req, Res>(
  path: string,
  req: Codec<Req>,
  res: Codec<Res>,
  stream: { request?: boolean; response?: boolean } = {},
): MethodDefinition<Req, Res> {
  return {
    path,
    requestStream: stream.request ?? false,
    responseStream: stream.response ?? false,
    requestSerialize: req.encode,
    requestDeserialize: req.decode,
    responseSerialize: res.encode,
    responseDeserialize: res.decode,
  };
}

/** `jina.JinaRPC`: the bidirectional data stream. */
export const JinaRPCService = {
  Call: method('/jina.JinaRPC/Call', dataRequestCodec, dataRequestCodec, { request: true, response: true }),
} satisfies ServiceDefinition;

/** `jina.JinaSingleDataRequestRPC`: one request, one response. */
export const JinaSingleDataRequestRPCService = {
  process_single_data: method(
    '/jina.JinaSingleDataRequestRPC/process_single_data',
    dataRequestCodec,
    dataRequestCodec,
  ),
} satisfies ServiceDefinition;

/** `jina.JinaDataRequestRPC`: a list of requests (join without reduce), one merged response. */
export const JinaDataRequestRPCService = {
  process_data: method('/jina.JinaDataRequestRPC/process_data', dataRequestListCodec, dataRequestCodec),
} satisfies ServiceDefinition;

/** `jina.JinaDiscoverEndpointsRPC`. */
export const JinaDiscoverEndpointsRPCService = {
  endpoint_discovery: method(
    '/jina.JinaDiscoverEndpointsRPC/endpoint_discovery',
    emptyCodec,
    protoCodec(jina.EndpointsProto),
  ),
} satisfies ServiceDefinition;

/** `jina.JinaGatewayDryRunRPC`. */
export const JinaGatewayDryRunRPCService = {
  dry_run: method('/jina.JinaGatewayDryRunRPC/dry_run', emptyCodec, protoCodec(jina.StatusProto)),
} satisfies ServiceDefinition;

/** `jina.JinaInfoRPC`. */
export const JinaInfoRPCService = {
  _status: method('/jina.JinaInfoRPC/_status', emptyCodec, protoCodec(jina.JinaInfoProto)),
} satisfies ServiceDefinition;

/** Full service names, as registered for health and reflection. */
export const ServiceNames = {
  JinaRPC: 'jina.JinaRPC',
  JinaSingleDataRequestRPC: 'jina.JinaSingleDataRequestRPC',
  JinaDataRequestRPC: 'jina.JinaDataRequestRPC',
  JinaDiscoverEndpointsRPC: 'jina.JinaDiscoverEndpointsRPC',
  JinaGatewayDryRunRPC: 'jina.JinaGatewayDryRunRPC',
  JinaInfoRPC: 'jina.JinaInfoRPC',
} as const;
