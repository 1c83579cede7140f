/**
 * The load generator's protocol drivers. Each opens its connections, checks one full answer (the
 * probe: right documents back, no error status), then hands out senders that check each answer
 * cheaply: gRPC status / HTTP status, and for flowgate targets the request header's status.
 */
import http from 'node:http';
import WebSocket from 'ws';
import { DataRequest } from '../../src/proto/request.js';
import { api } from '../api.js';
import { payload, type PayloadName } from '../payloads.js';
import { bytesClient, unaryBytes } from '../raw/grpc-defs.js';
import type { Sender } from './closed-loop.js';

/** How a load generator talks to its target. */
export type DriverKind = 'grpc' | 'http' | 'ws' | 'client-grpc' | 'client-http' | 'client-websocket';

/** What a driver is pointed at. */
export interface DriverTarget {
  kind: DriverKind;
  port: number;
  payload: PayloadName;
  /** True for a flowgate Gateway (answers are DataRequests), false for a raw echo or forwarder. */
  flowgate: boolean;
  /** HTTP only: post the `DataRequestProto` as `application/x-protobuf` (default: the JSON body). */
  body?: 'json' | 'protobuf';
}

/** Open connections and the senders that use them. */
export interface Driver {
  senders(concurrency: number): Promise<Sender[]>;
  close(): Promise<void>;
}

/** The target does not offer this protocol (yet): reported as n/a, not as a failure. */
export class Unavailable extends Error {}

const HOST = '127.0.0.1';

/** Throws when a DataRequest answer carries an error status. */
function checkDataRequest(bytes: Uint8Array, expectDocs?: number): void {
  const r = DataRequest.decode(bytes);
  if (r.isError) throw new Error(`error response: ${r.status?.description ?? '?'}`);
  if (expectDocs !== undefined) {
    const n = api.decodeDocs(r.docsBytes).length;
    if (n !== expectDocs) throw new Error(`expected ${expectDocs} documents back, got ${n}`);
  }
}

function grpcDriver(t: DriverTarget): Driver {
  const p = payload(t.payload);
  const client = bytesClient(`${HOST}:${t.port}`);
  const check = (res: Buffer, full: boolean) => {
    if (t.flowgate) checkDataRequest(res, full ? p.docs.length : undefined);
    else if (res.length !== p.frame.length)
      throw new Error(`echo of ${p.frame.length} B came back as ${res.length} B`);
  };
  const send: Sender = async () => check(await unaryBytes(client, p.frame), false);
  return {
    async senders(n) {
      check(await unaryBytes(client, p.frame), true);
      return Array.from({ length: n }, () => send);
    },
    async close() {
      client.close();
    },
  };
}

function httpDriver(t: DriverTarget): Driver {
  const p = payload(t.payload);
  const protobuf = t.body === 'protobuf';
  const body = protobuf ? p.frame : p.json;
  const type = protobuf ? 'application/x-protobuf' : 'application/json';
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const post = (): Promise<{ status: number; type: string; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: HOST,
          port: t.port,
          path: '/post',
          method: 'POST',
          agent,
          headers: { 'content-type': type, accept: type, 'content-length': body.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              type: res.headers['content-type'] ?? '',
              body: Buffer.concat(chunks),
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const ok = async (): Promise<Buffer> => {
    const res = await post();
    if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.body.toString('utf8', 0, 300)}`);
    return res.body;
  };
  const probe = async () => {
    if (protobuf && t.flowgate) {
      // A Gateway without protobuf bodies answers 415 (or 400, or JSON): n/a, not a failure.
      const res = await post();
      if (res.status === 415 || res.status === 400 || !res.type.includes('protobuf'))
        throw new Unavailable(
          `application/x-protobuf on /post: HTTP ${res.status} ${res.type || '(no content-type)'}`,
        );
      if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.body.toString('utf8', 0, 300)}`);
      checkDataRequest(res.body, p.docs.length);
      return;
    }
    const answer = await ok();
    if (!t.flowgate) {
      if (!answer.equals(body)) throw new Error('the HTTP echo changed the body');
      return;
    }
    const res = JSON.parse(answer.toString('utf8')) as {
      data?: unknown[];
      header?: { status?: { code?: number } };
    };
    if (res.header?.status?.code === 1) throw new Error(`error response: ${answer.toString('utf8', 0, 300)}`);
    if (res.data?.length !== p.docs.length)
      throw new Error(`expected ${p.docs.length} documents back, got ${res.data?.length}`);
  };
  // The response starts with the header (dataRequestToJson's key order): look for an ERROR status
  // there without parsing megabytes of JSON per answer.
  const errorHeader = /^\{"header":\{[^{}]*"status":\{"code":1[,}]/;
  const send: Sender = async () => {
    const answer = await ok();
    if (!t.flowgate) return;
    if (protobuf) checkDataRequest(answer);
    else if (errorHeader.test(answer.toString('utf8', 0, Math.min(answer.length, 4096))))
      throw new Error(`error response: ${answer.toString('utf8', 0, 300)}`);
  };
  return {
    async senders(n) {
      await probe();
      return Array.from({ length: n }, () => send);
    },
    async close() {
      agent.destroy();
    },
  };
}

function wsDriver(t: DriverTarget): Driver {
  const p = payload(t.payload);
  const sockets: WebSocket[] = [];
  const open = async (): Promise<{ send: (full: boolean) => Promise<void> }> => {
    const ws = new WebSocket(`ws://${HOST}:${t.port}/`, ['bytes'], {
      perMessageDeflate: false,
      maxPayload: 1 << 30,
    });
    sockets.push(ws);
    let waiting: { resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;
    const fail = (why: string) => {
      const w = waiting;
      waiting = undefined;
      w?.reject(new Error(why));
    };
    ws.on('message', (data: Buffer) => {
      const w = waiting;
      waiting = undefined;
      w?.resolve(data);
    });
    ws.on('close', (code, reason) => fail(`socket closed (${code} ${reason.toString()})`));
    ws.on('error', (err) => fail(err.message));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return {
      send: async (full) => {
        const answer = new Promise<Buffer>((resolve, reject) => (waiting = { resolve, reject }));
        ws.send(p.frame);
        const res = await answer;
        if (t.flowgate) checkDataRequest(res, full ? p.docs.length : undefined);
        else if (res.length !== p.frame.length)
          throw new Error(`echo of ${p.frame.length} B came back as ${res.length} B`);
      },
    };
  };
  return {
    async senders(n) {
      const conns = await Promise.all(Array.from({ length: n }, open));
      await conns[0]!.send(true);
      return conns.map((c) => () => c.send(false));
    },
    async close() {
      for (const ws of sockets) ws.terminate();
    },
  };
}

function clientDriver(t: DriverTarget): Driver {
  const protocol = t.kind.slice('client-'.length) as 'grpc' | 'http' | 'websocket';
  const p = payload(t.payload);
  const client = new api.Client({ host: HOST, port: t.port, protocol });
  const send: Sender = async () => {
    const docs = await client.post('/', p.docs);
    if (docs.length !== p.docs.length)
      throw new Error(`expected ${p.docs.length} documents back, got ${docs.length}`);
  };
  return {
    async senders(n) {
      try {
        await send();
      } catch (err) {
        if (err instanceof api.FlowgateError && err.code === api.Code.Unimplemented)
          throw new Unavailable(err.message);
        throw err;
      }
      return Array.from({ length: n }, () => send);
    },
    async close() {
      await client.close();
    },
  };
}

/** The driver for `t`. */
export function openDriver(t: DriverTarget): Driver {
  switch (t.kind) {
    case 'grpc':
      return grpcDriver(t);
    case 'http':
      return httpDriver(t);
    case 'ws':
      return wsDriver(t);
    default:
      return clientDriver(t);
  }
}
