import type { FastifyInstance, FastifyRequest } from 'fastify';
import { headerRecord, metadataToForward, type Authenticator } from '../../gateway/auth.js';
import type { Protocol } from '../../gateway/gateway.js';
import { forwardedHeaders, type Headers } from '../../core/headers.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's headers (and principal) that travel on to Executors; see `registerAuthHook`. */
    forwardedHeaders: Headers | undefined;
  }
}

/** Options of {@link registerAuthHook}. */
export interface AuthHookOptions {
  /** Named in the hook's request (`http`, `graphql`, `websocket`). */
  protocol: Protocol;
  authenticator?: Authenticator;
  /** Header names sent on to Executors as `metadata`. */
  forwardMetadata?: string[];
}

/**
 * The health check stays open (orchestrators probe it without credentials), and so do CORS
 * preflights (browsers never send credentials with them).
 */
export function isOpenRoute(method: string, url: string): boolean {
  return method === 'OPTIONS' || ((method === 'GET' || method === 'HEAD') && url.split('?')[0] === '/');
}

/** The client's address as `ip:port`. */
export function peerOf(socket: { remoteAddress?: string; remotePort?: number }): string {
  return `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
}

/**
 * Adds an `onRequest` hook to `app` that authenticates every request but the health check
 * (`GET /`) and CORS preflights: a rejected one is answered 401 `{"detail": "<reason>"}` with
 * `WWW-Authenticate: Bearer`, before its body is even read. It also sets
 * `request.forwardedHeaders`: the allowed headers and the principal, as the data routes send them
 * to Executors. Call it before the routes are registered.
 *
 * @example
 * ```ts
 * registerAuthHook(app, { protocol: 'http', authenticator, forwardMetadata: ['x-tenant'] });
 * ```
 */
export function registerAuthHook(app: FastifyInstance, options: AuthHookOptions): void {
  const { authenticator, forwardMetadata } = options;
  app.decorateRequest('forwardedHeaders', undefined);
  if (!authenticator && !forwardMetadata?.length) return;
  app.addHook('onRequest', async (request: FastifyRequest, reply) => {
    let principal: Record<string, unknown> | undefined;
    const headers = headerRecord(request.headers);
    if (authenticator && !isOpenRoute(request.method, request.url)) {
      const auth = await authenticator({
        protocol: options.protocol,
        headers,
        peer: peerOf(request.raw.socket),
        method: request.method,
        path: request.url.split('?')[0] ?? '/',
      });
      if (!auth.ok) {
        return reply.code(401).header('www-authenticate', 'Bearer').send({ detail: auth.message });
      }
      principal = auth.principal;
    }
    request.forwardedHeaders = forwardedHeaders(metadataToForward(headers, forwardMetadata, principal));
  });
}
