/**
 * The three payloads of the benchmark, built the same way in every process: one Document of 100 B
 * of text, 100 such Documents, and one Document with a 1 MiB float32 tensor (seeded values, so the
 * JSON form has realistic float text rather than zeros).
 */
import { DataRequest } from '../src/proto/request.js';
import { api } from './api.js';

/** The payload names, in table order. */
export const PAYLOADS = ['text1', 'text100', 'tensor1m'] as const;
export type PayloadName = (typeof PAYLOADS)[number];

/** What each payload is, for the table. */
export const PAYLOAD_LABELS: Record<PayloadName, string> = {
  text1: '1 doc x 100 B text',
  text100: '100 docs x 100 B text',
  tensor1m: '1 doc, 1 MiB f32 tensor',
};

/** A payload in every form a load generator sends. */
export interface Payload {
  name: PayloadName;
  docs: InstanceType<typeof api.DocumentArray>;
  /** The encoded `DocumentArrayProto`: MB/s counts these bytes, one way. */
  docsBytes: Uint8Array;
  /** A serialised `jina.DataRequestProto` to endpoint `/` (gRPC and WebSocket `bytes`). */
  frame: Buffer;
  /** The `/post` JSON body (HTTP). */
  json: Buffer;
}

/** A small deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function text100(i: number): string {
  const base = `document ${i}: the quick brown fox jumps over the lazy dog; `;
  return base.repeat(Math.ceil(100 / base.length)).slice(0, 100);
}

function buildDocs(name: PayloadName): InstanceType<typeof api.DocumentArray> {
  const { Document, DocumentArray, NdArray } = api;
  if (name === 'tensor1m') {
    const rnd = prng(42);
    const values = new Float32Array(512 * 512);
    for (let i = 0; i < values.length; i++) values[i] = rnd();
    return new DocumentArray([
      new Document({ id: 'doc-0', tensor: NdArray.from(values, { shape: [512, 512] }) }),
    ]);
  }
  const n = name === 'text1' ? 1 : 100;
  return new DocumentArray(
    Array.from({ length: n }, (_, i) => new Document({ id: `doc-${i}`, text: text100(i) })),
  );
}

const cache = new Map<PayloadName, Payload>();

/** The payload `name`, built once per process. */
export function payload(name: PayloadName): Payload {
  let p = cache.get(name);
  if (!p) {
    const docs = buildDocs(name);
    const docsBytes = api.encodeDocs(docs);
    const frame = DataRequest.create({ requestId: 'bench-0', endpoint: '/', docsBytes }).encode();
    const json = JSON.stringify({ data: api.docsToJson(docs), execEndpoint: '/' });
    p = {
      name,
      docs,
      docsBytes,
      frame: Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength),
      json: Buffer.from(json),
    };
    cache.set(name, p);
  }
  return p;
}
