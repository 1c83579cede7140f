import { promisify } from 'node:util';
import { deflate, gzip } from 'node:zlib';
import type { FastifyInstance } from 'fastify';

/** Bodies smaller than this are sent as they are (compressing them saves nothing). */
const MIN_COMPRESS_BYTES = 1024;
/** Above this, the fastest zlib level: a 50 MB body must not cost seconds of CPU. */
const FAST_LEVEL_ABOVE_BYTES = 1024 * 1024;

const encoders = { gzip: promisify(gzip), deflate: promisify(deflate) } as const;
type Encoding = keyof typeof encoders;

/**
 * The encoding to answer with for an `Accept-Encoding` header: the supported one (gzip, deflate)
 * with the highest q-value, gzip first on ties; `*` means gzip; q=0 refuses.
 *
 * @example
 * ```ts
 * chooseEncoding('deflate, gzip;q=0.5'); // 'deflate'
 * chooseEncoding('identity');            // undefined
 * ```
 */
export function chooseEncoding(header: string | undefined): Encoding | undefined {
  if (!header) return undefined;
  let best: { enc: Encoding; q: number } | undefined;
  for (const part of header.split(',')) {
    const [rawName, ...params] = part.trim().toLowerCase().split(';');
    const name = rawName?.trim();
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!(q > 0)) continue;
    const enc: Encoding | undefined =
      name === 'gzip' || name === 'x-gzip' || name === '*'
        ? 'gzip'
        : name === 'deflate'
          ? 'deflate'
          : undefined;
    if (enc && (!best || q > best.q)) best = { enc, q };
  }
  return best?.enc;
}

/** The API description and its UI are not data: the limit does not apply to them. */
function isDocsRoute(url: string): boolean {
  const path = url.split('?')[0] ?? '';
  return path === '/openapi.json' || path === '/docs' || path.startsWith('/docs/');
}

/** Options of {@link registerResponseHook}. */
export interface ResponseHookOptions {
  /** Largest response body, bytes; 0 or less = none. Quoted in the 413 answer. */
  maxMessageBytes: number;
}

/**
 * Adds an `onSend` hook that (1) answers 413 instead of a response body larger than
 * `maxMessageBytes`, naming the limit (not for `/openapi.json` and `/docs`), and (2) compresses bodies of 1 KiB or more with gzip or
 * deflate when the request's `Accept-Encoding` asks for it (node:zlib; `Vary: Accept-Encoding`).
 * Streamed bodies (static files of `/docs`) are left as they are.
 */
export function registerResponseHook(app: FastifyInstance, options: ResponseHookOptions): void {
  const limit = options.maxMessageBytes;
  // A callback hook, not an async one: the common answer (small, or no Accept-Encoding) costs no
  // promise and returns at once.
  app.addHook('onSend', (request, reply, payload, done) => {
    if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) {
      done(null, payload);
      return;
    }
    const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    if (limit > 0 && size > limit && !isDocsRoute(request.url)) {
      request.log.warn(`response of ${size} bytes replaced by 413`);
      void reply.code(413).type('application/json; charset=utf-8');
      done(
        null,
        JSON.stringify({
          detail: `the response body (${size} bytes) is larger than the limit of ${limit} bytes (maxMessageBytes)`,
        }),
      );
      return;
    }
    void reply.header('vary', 'accept-encoding');
    const accept = request.headers['accept-encoding'];
    const encoding = accept && size >= MIN_COMPRESS_BYTES ? chooseEncoding(accept) : undefined;
    if (!encoding || reply.hasHeader('content-encoding')) {
      done(null, payload);
      return;
    }
    const level = size > FAST_LEVEL_ABOVE_BYTES ? 1 : 6;
    encoders[encoding](payload, { level }).then(
      (body) => {
        void reply.header('content-encoding', encoding).removeHeader('content-length');
        done(null, body);
      },
      (err: Error) => done(err),
    );
  });
}
