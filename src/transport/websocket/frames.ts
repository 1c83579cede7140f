/**
 * The WebSocket protocol of the original's Gateway, shared by the server and the client: the two
 * subprotocols, the end-of-input markers, the close codes and the 123-byte limit on close reasons.
 */

/** How frames are encoded on one connection, chosen by `Sec-WebSocket-Protocol`. */
export type WsSubprotocol = 'json' | 'bytes';

/** The subprotocols a Gateway understands. */
export const WS_SUBPROTOCOLS: readonly WsSubprotocol[] = ['json', 'bytes'];

/** The subprotocol when the client offers none the Gateway knows (as the original). */
export const DEFAULT_WS_SUBPROTOCOL: WsSubprotocol = 'json';

/** The close codes the Gateway and the client use (RFC 6455 §7.4.1). */
export const WsCloseCode = {
  /** All input answered. */
  Normal: 1000,
  /** The Gateway is shutting down. */
  GoingAway: 1001,
  /** A frame larger than the Gateway's `maxMessageBytes`. */
  MessageTooBig: 1009,
  /** An Executor could not be reached or timed out; the reason says which. */
  InternalError: 1011,
} as const;
export type WsCloseCode = (typeof WsCloseCode)[keyof typeof WsCloseCode];

/** A close reason may hold at most this many UTF-8 bytes (RFC 6455 §5.5: 125 minus the code). */
export const MAX_CLOSE_REASON_BYTES = 123;

/**
 * End of input in `bytes` mode: one zero byte (the original's Python client sends `bytes(True)`,
 * which is `b'\x00'`). No DataRequestProto serialises to it: tag 0 is not a valid field.
 */
export const END_OF_INPUT_BYTES: Uint8Array = Uint8Array.of(0);

/** End of input in `json` mode: an empty object. */
export const END_OF_INPUT_JSON = '{}';

/** The path of the data stream and of the dry run. */
export const WsPath = { Data: '/', DryRun: '/dry_run' } as const;

/**
 * The subprotocol to accept from the client's offer: the first it lists that the Gateway knows, or
 * `undefined` when it offers none of them (then no subprotocol is echoed and `json` is used).
 *
 * @example
 * ```ts
 * chooseSubprotocol(['bytes']); // 'bytes'
 * chooseSubprotocol(['mqtt']);  // undefined
 * ```
 */
export function chooseSubprotocol(offered: Iterable<string>): WsSubprotocol | undefined {
  for (const p of offered) {
    const name = p.trim().toLowerCase();
    if ((WS_SUBPROTOCOLS as readonly string[]).includes(name)) return name as WsSubprotocol;
  }
  return undefined;
}

/** True when a binary frame is the `bytes` end-of-input marker. */
export function isBinaryEndOfInput(frame: Uint8Array): boolean {
  return frame.length === 1 && frame[0] === 0;
}

/** `s` cut to at most `maxBytes` UTF-8 bytes without splitting a character. */
export function truncateUtf8(s: string, maxBytes: number): string {
  if (Buffer.byteLength(s, 'utf8') <= maxBytes) return s;
  let out = '';
  let used = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (used + n > maxBytes - 3) break;
    out += ch;
    used += n;
  }
  return `${out}...`;
}

/**
 * A close reason that fits the limit: `reason` when it does, else `fallback` (cut if it must be),
 * as the original does with gRPC details that are too long.
 */
export function fitCloseReason(reason: string, fallback: string): string {
  if (Buffer.byteLength(reason, 'utf8') <= MAX_CLOSE_REASON_BYTES) return reason;
  return truncateUtf8(fallback, MAX_CLOSE_REASON_BYTES);
}
