/**
 * Memory of a Gateway under one big request (issue 22): a request of N MB on the wire (one
 * Document with a float32 tensor sized so that the encoded request, or the JSON body over HTTP, is
 * N MB) is sent once to a running Gateway, and the rise of its resident memory is read from /proc
 * (VmHWM after `clear_refs`, or VmRSS sampled every 50 ms): the target is at most 3 N MB.
 */
import http from 'node:http';
import WebSocket from 'ws';
import { DataRequest } from '../../src/proto/request.js';
import { api } from '../api.js';
import type { BenchProtocol, HttpBody } from '../measure.js';
import { ProcWatch, rssMb } from '../proc.js';
import { bytesClient, unaryBytes } from '../raw/grpc-defs.js';
import type { NodeLoad } from '../load/node-load.js';

/** One big request to one Gateway. */
export interface BigRequest {
  protocol: BenchProtocol;
  body?: HttpBody;
  status: 'ok' | 'n/a' | 'failed';
  reason?: string;
  /** The request's size on the wire, MB (1e6 B). */
  requestMb: number;
  /** RSS just before the request, MB (2^20 B, as /proc reports). */
  beforeMb?: number;
  peakMb?: number;
  /** peak - before, MB (1e6 B, as the request's size). */
  riseMb?: number;
  /** Time to the answer, ms. */
  ms?: number;
}

const HOST = '127.0.0.1';
const TIMEOUT_MS = 120_000;

/** The request bodies for `mb` MB: the DataRequest frame, its JSON form and the docs' count. */
function bigBodies(mb: number): { frame: Buffer; json: Buffer } {
  const { Document, DocumentArray, NdArray } = api;
  const docs = (n: number) => {
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) values[i] = (i % 1000) / 997;
    return new DocumentArray([new Document({ id: 'big-0', tensor: NdArray.from(values) })]);
  };
  const bytes = mb * 1e6;
  const frameDocs = docs(Math.floor(bytes / 4));
  const f = DataRequest.create({ requestId: 'big-0', endpoint: '/', docsBytes: api.encodeDocs(frameDocs) });
  const frame = f.encode();
  // JSON numbers of these values average ~19 characters: size the list to fill `mb` MB of body.
  const probe = JSON.stringify({ data: api.docsToJson(docs(1000)), execEndpoint: '/' }).length / 1000;
  const json = JSON.stringify({ data: api.docsToJson(docs(Math.floor(bytes / probe))), execEndpoint: '/' });
  return { frame: Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength), json: Buffer.from(json) };
}

function check(answer: Uint8Array): void {
  const r = DataRequest.decode(answer);
  if (r.isError) throw new Error(`error response: ${r.status?.description ?? '?'}`);
  const n = api.decodeDocs(r.docsBytes).length;
  if (n !== 1) throw new Error(`expected 1 document back, got ${n}`);
}

function postHttp(port: number, body: Buffer, type: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: HOST,
        port,
        path: '/post',
        method: 'POST',
        headers: { 'content-type': type, accept: type, 'content-length': body.length },
        timeout: TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

async function sendWs(port: number, frame: Buffer): Promise<Buffer> {
  const ws = new WebSocket(`ws://${HOST}:${port}/`, ['bytes'], {
    perMessageDeflate: false,
    maxPayload: 2 ** 31,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return await new Promise<Buffer>((resolve, reject) => {
      ws.once('message', (data: Buffer) => resolve(data));
      ws.once('close', (code) => reject(new Error(`socket closed (${code})`)));
      ws.once('error', reject);
      ws.send(frame);
    });
  } finally {
    ws.terminate();
  }
}

/** Sends one `mb` MB request to the Gateway `pid` serving `protocol` on `port` and reads its RSS rise. */
export async function bigRequest(
  protocol: BenchProtocol,
  port: number,
  pid: number,
  mb: number,
  body: HttpBody = 'json',
): Promise<BigRequest> {
  const { frame, json } = bigBodies(mb);
  const wire = protocol === 'http' && body === 'json' ? json : frame;
  const base = { protocol, ...(protocol === 'http' ? { body } : {}), requestMb: wire.length / 1e6 };
  const beforeMb = rssMb(pid);
  const watch = new ProcWatch(pid);
  watch.start();
  const t0 = performance.now();
  try {
    if (protocol === 'grpc') {
      const client = bytesClient(`${HOST}:${port}`);
      try {
        check(await unaryBytes(client, frame));
      } finally {
        client.close();
      }
    } else if (protocol === 'websocket') check(await sendWs(port, frame));
    else {
      const type = body === 'json' ? 'application/json' : 'application/x-protobuf';
      const res = await postHttp(port, wire, type);
      if (body === 'protobuf' && (res.status === 415 || res.status === 400)) {
        watch.stop();
        return { ...base, status: 'n/a', reason: `application/x-protobuf on /post: HTTP ${res.status}` };
      }
      if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.body.toString('utf8', 0, 200)}`);
      if (body === 'protobuf') check(res.body);
      else if (/"status":\{"code":1[,}]/.test(res.body.toString('utf8', 0, 4096)))
        throw new Error(`error response: ${res.body.toString('utf8', 0, 200)}`);
    }
  } catch (err) {
    watch.stop();
    return { ...base, status: 'failed', reason: err instanceof Error ? err.message : String(err) };
  }
  const ms = performance.now() - t0;
  const { peakRssMb } = watch.stop();
  return {
    ...base,
    status: 'ok',
    beforeMb,
    peakMb: peakRssMb,
    riseMb: peakRssMb !== undefined && beforeMb !== undefined ? (peakRssMb - beforeMb) * 1.048576 : undefined,
    ms,
  };
}

/**
 * A Gateway's idle RSS in MB: read 200 ms after one answered request (so its connections to the
 * Executor are open), before any load.
 */
export async function idleRssAfterOneRequest(
  load: NodeLoad,
  protocol: BenchProtocol,
  port: number,
  pid: number,
): Promise<number | undefined> {
  await load.run({
    kind: protocol === 'websocket' ? 'ws' : protocol,
    port,
    payload: 'text1',
    flowgate: true,
    concurrency: 1,
    warmupMs: 0,
    durationMs: 0,
    probeOnly: true,
  });
  await new Promise((r) => setTimeout(r, 200));
  return rssMb(pid);
}
