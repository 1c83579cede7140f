import { createHash, timingSafeEqual } from 'node:crypto';
import { Code, FlowgateError } from '../core/errors.js';
import { PRINCIPAL_KEY } from '../core/headers.js';
import type { Protocol } from './gateway.js';

/** The environment variable that sets the Gateway's (and the Client's) bearer token. */
export const AUTH_TOKEN_ENV = 'FLOWGATE_AUTH_TOKEN';

/** What an `authenticate` hook is given about one request (or WebSocket handshake, or gRPC call). */
export interface AuthRequest {
  protocol: Protocol;
  /** HTTP headers or gRPC metadata, keys in lower case (binary gRPC values left out). */
  headers: Record<string, string>;
  /** The client's address, `ip:port`. */
  peer: string;
  /** The HTTP method, or `POST` for gRPC. */
  method: string;
  /** The HTTP path, or the gRPC method path (`/jina.JinaRPC/Call`). */
  path: string;
}

/**
 * What an `authenticate` hook returns: `true` accepts, an object accepts and is the request's
 * principal (sent on to Executors as `metadata['flowgate-principal']`, JSON), anything else
 * (`false`, `undefined`) rejects; a thrown error rejects with its message.
 */
export type AuthResult = boolean | Record<string, unknown> | null | undefined | void;

/**
 * A custom authentication scheme, e.g. checking a JWT or an API key in a database.
 *
 * @example
 * ```ts
 * export async function check({ headers }: AuthRequest) {
 *   const user = await users.byKey(headers['x-api-key'] ?? '');
 *   return user ? { user: user.name } : false;
 * }
 * ```
 */
export type AuthHook = (request: AuthRequest) => AuthResult | Promise<AuthResult>;

/** The outcome of authenticating one request. */
export type AuthOutcome = { ok: true; principal?: Record<string, unknown> } | { ok: false; message: string };

/** Authenticates requests for every Gateway of one process (see {@link createAuthenticator}). */
export type Authenticator = (request: AuthRequest) => Promise<AuthOutcome>;

/** Options of {@link createAuthenticator}. */
export interface AuthOptions {
  /** A shared secret: requests must send `Authorization: Bearer <token>`. */
  authToken?: string;
  /** A hook run after the token check (or alone). */
  authenticate?: AuthHook;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * True when `authorization` is `Bearer <expected>`. Both sides are hashed first, so the comparison
 * (`timingSafeEqual`) runs in constant time whatever the lengths: the answer time tells nothing
 * about how much of the token was right.
 */
export function bearerMatches(expected: string, authorization: string | undefined): boolean {
  const m = /^Bearer[ ]+(.+)$/i.exec(authorization?.trim() ?? '');
  const given = m ? m[1]! : '';
  const equal = timingSafeEqual(digest(given), digest(expected));
  return equal && m !== null;
}

/**
 * Builds the authenticator the Gateways run on every data and info request, or undefined when
 * neither a token nor a hook is configured (then every request is served, as in the original).
 *
 * @example
 * ```ts
 * const auth = createAuthenticator({ authToken: 's3cret' })!;
 * await auth({ protocol: 'http', headers: { authorization: 'Bearer s3cret' }, peer: '', method: 'GET', path: '/status' });
 * // { ok: true }
 * ```
 */
export function createAuthenticator(options: AuthOptions): Authenticator | undefined {
  const { authToken, authenticate } = options;
  if (authToken === '')
    throw new FlowgateError(Code.InvalidArgument, 'authToken is empty: give a secret or leave it unset');
  if (authToken === undefined && authenticate === undefined) return undefined;
  return async (request) => {
    if (authToken !== undefined) {
      const header = request.headers.authorization;
      if (header === undefined)
        return {
          ok: false,
          message: 'authentication required: send the header Authorization: Bearer <token>',
        };
      if (!bearerMatches(authToken, header))
        return { ok: false, message: 'authentication failed: the bearer token is not valid' };
    }
    if (!authenticate) return { ok: true };
    let result: AuthResult;
    try {
      result = await authenticate(request);
    } catch (err) {
      return { ok: false, message: `authentication failed: ${(err as Error)?.message ?? String(err)}` };
    }
    if (result === true) return { ok: true };
    if (result && typeof result === 'object') return { ok: true, principal: result };
    return { ok: false, message: 'authentication failed: the authenticate hook rejected the request' };
  };
}

/** Request headers as a record of strings with lower-case keys (lists joined with `, `). */
export function headerRecord(
  headers: Record<string, string | string[] | Buffer | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || Buffer.isBuffer(v)) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/**
 * What reaches Executors as `metadata` for one request: the allowed headers (keys lower-case,
 * `authorization` only when listed) and the principal of the `authenticate` hook, if any.
 * Undefined when there is nothing to forward.
 */
export function metadataToForward(
  headers: Record<string, string>,
  allow: readonly string[] | undefined,
  principal: Record<string, unknown> | undefined,
): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const key of allow ?? []) {
    const v = headers[key.toLowerCase()];
    if (v !== undefined) out[key.toLowerCase()] = v;
  }
  if (principal) out[PRINCIPAL_KEY] = JSON.stringify(principal);
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * The reference a Flow sends its Gateway process for an `authenticate` function: `module:name`,
 * where `module` is the file that called `configGateway`. The Gateway process imports that file
 * again; its `configGateway` call there registers the function by name (so it need not be
 * exported), as for custom Gateway classes.
 */
export function authHookRef(hook: AuthHook, module: string | undefined): string {
  if (!hook.name || !module)
    throw new FlowgateError(
      Code.InvalidArgument,
      "configGateway({ authenticate }) needs a named function declared in the file that calls configGateway (the Gateway runs in its own process and finds it by name), or a reference 'auth.ts:check'",
    );
  return `${module}:${hook.name}`;
}
