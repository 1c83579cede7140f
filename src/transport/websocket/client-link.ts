import type { Socket } from 'node:net';
import type WebSocket from 'ws';
import { Code, FlowgateError } from '../../core/errors.js';
import type { DataRequest } from '../../proto/request.js';
import { ClientMux } from '../shared/client-mux.js';
import { decodeResponseFrame, encodeRequestFrame, type Frame } from './codec.js';
import { WsCloseCode, type WsSubprotocol } from './frames.js';
import { closeError } from './status.js';

/** Bytes waiting in the send buffer before the next request waits for them. */
const SEND_HIGH_WATER_BYTES = 4 * 1024 * 1024;

/** A frame as the codec reads it: text frames as strings, binary ones as bytes. */
export function frameOf(data: WebSocket.RawData, isBinary: boolean): Frame {
  const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
  return isBinary ? buf : buf.toString('utf8');
}

/**
 * The data stream of one WebSocket (path `/`) shared by concurrent posts: each request is one frame
 * (`bytes` or `json` per `mode`), each response frame goes to the post that sent its request id
 * (see {@link ClientMux}). The Gateway closing the socket fails the posts in flight with
 * `Unavailable` (1011: with the Gateway's reason); a socket with no post in flight does not keep the
 * process alive. The end-of-input marker is never sent: the socket stays open for the next post.
 *
 * @example
 * ```ts
 * const mux = wsMux(ws, url, opened, 'bytes');
 * for await (const res of mux.stream(requests, {})) console.log(res.requestId);
 * ```
 */
export function wsMux(ws: WebSocket, url: string, opened: Promise<void>, mode: WsSubprotocol): ClientMux {
  const what = `the stream to ${url}`;
  const mux = new ClientMux(what, opened);
  let raw: Socket | undefined;
  let busy = false;
  let open = false;
  let corked = false;
  const uncork = () => {
    corked = false;
    raw?.uncork();
  };
  ws.once('upgrade', (res) => {
    raw = res.socket;
    if (!busy) raw.unref();
  });
  ws.once('open', () => (open = true));
  ws.on('message', (data, isBinary) => {
    let res: DataRequest;
    try {
      res = decodeResponseFrame(frameOf(data, isBinary));
    } catch (err) {
      return mux.fail(err);
    }
    mux.deliver(res);
  });
  // Before the handshake is done, `opened` rejects with the reason (TLS, 401, unreachable).
  ws.on('close', (code, reason) => {
    if (open) mux.fail(closeError(code, reason.toString(), url, mux.unanswered));
  });
  ws.on('error', (err) => {
    if (open) mux.fail(new FlowgateError(Code.Unavailable, `${what} failed: ${err.message}`, { cause: err }));
  });
  mux.attach({
    send(req) {
      if (ws.readyState !== ws.OPEN)
        throw new FlowgateError(Code.Unavailable, `${what} is closed: the request was not sent`);
      const frame = encodeRequestFrame(req, mode);
      // The frames sent in one turn of the event loop (the posts answered by one read send their
      // next requests together) leave in one write: fewer syscalls here and reads at the Gateway.
      if (raw && !corked) {
        corked = true;
        raw.cork();
        process.nextTick(uncork);
      }
      if (ws.bufferedAmount < SEND_HIGH_WATER_BYTES) {
        ws.send(frame);
        return undefined;
      }
      return new Promise<void>((resolve) => ws.send(frame, () => resolve()));
    },
    close() {
      if (ws.readyState === ws.OPEN) ws.close(WsCloseCode.Normal);
      else if (ws.readyState !== ws.CLOSED) ws.terminate();
    },
    busy(b) {
      busy = b;
      if (b) raw?.ref();
      else raw?.unref();
    },
  });
  return mux;
}
