import { readFileSync } from 'node:fs';
import { Code, FlowgateError } from '../core/errors.js';
import { AUTH_TOKEN_ENV, createAuthenticator, type AuthHook, type Authenticator } from './auth.js';

/** The default of `maxMessageBytes` on every protocol: 64 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/**
 * The security options of `configGateway` that every Gateway of a process shares (they travel in
 * `GatewayConfig.gatewayOptions`).
 */
export interface GatewaySecurityOptions {
  /** PEM certificate (chain) of the Gateway: with `sslKeyfile`, every protocol is served over TLS. */
  sslCertfile?: string;
  /** PEM private key of `sslCertfile`. */
  sslKeyfile?: string;
  /** In-process alternative to the two files: the PEM key pair itself. */
  tls?: TlsKeyPair;
  /** Shared secret: every data and info route needs `Authorization: Bearer <token>`. */
  authToken?: string;
  /** A custom check of every request; in a Flow's Gateway process, a `module.ts:function` reference. */
  authenticate?: AuthHook | string;
  /** Request headers / gRPC metadata keys handed to Executors as `metadata`. */
  forwardMetadata?: string | string[];
  /** Largest request or response on every protocol, bytes (default 64 MiB). */
  maxMessageBytes?: number;
}

/** PEM key and certificate, as Node's `tls` and Fastify's `https` option take them. */
export interface TlsKeyPair {
  key: Buffer | string;
  cert: Buffer | string;
}

/** What the Gateways of one process get from {@link resolveGatewaySecurity}. */
export interface GatewaySecurity {
  tls?: TlsKeyPair;
  authenticator?: Authenticator;
  forwardMetadata?: string[];
}

/**
 * Throws at configuration time when only one of the certificate and the key is given.
 *
 * @example
 * ```ts
 * checkTlsPair({ sslCertfile: 'cert.pem' }); // throws: sslCertfile is set but sslKeyfile is not ...
 * ```
 */
export function checkTlsPair(o: { sslCertfile?: string; sslKeyfile?: string }): void {
  const cert = o.sslCertfile !== undefined && o.sslCertfile !== '';
  const key = o.sslKeyfile !== undefined && o.sslKeyfile !== '';
  if (cert === key) return;
  const [given, missing] = cert ? ['sslCertfile', 'sslKeyfile'] : ['sslKeyfile', 'sslCertfile'];
  throw new FlowgateError(
    Code.InvalidArgument,
    `${given} is set but ${missing} is not: TLS needs both the certificate and its private key (ssl_certfile and ssl_keyfile in YAML)`,
  );
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new FlowgateError(
      Code.InvalidArgument,
      `cannot read the TLS ${what} ${path}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/** Reads the key pair of `sslCertfile` / `sslKeyfile`, or undefined without TLS. */
export function loadTlsKeyPair(o: { sslCertfile?: string; sslKeyfile?: string }): TlsKeyPair | undefined {
  checkTlsPair(o);
  if (!o.sslCertfile || !o.sslKeyfile) return undefined;
  return {
    cert: readPem(o.sslCertfile, 'certificate (sslCertfile)'),
    key: readPem(o.sslKeyfile, 'key (sslKeyfile)'),
  };
}

/**
 * Turns the options into what the Gateways use: the key pair read from disk, the authenticator
 * (`authToken`, else the `FLOWGATE_AUTH_TOKEN` environment variable, and the `authenticate` hook,
 * which must be a function by now) and the metadata allow-list.
 */
export function resolveGatewaySecurity(
  o: GatewaySecurityOptions,
  env: NodeJS.ProcessEnv = process.env,
): GatewaySecurity {
  if (typeof o.authenticate === 'string')
    throw new FlowgateError(
      Code.InvalidArgument,
      `authenticate '${o.authenticate}' must be loaded into a function before the Gateway starts`,
    );
  const envToken = env[AUTH_TOKEN_ENV];
  const authToken = o.authToken ?? (envToken ? envToken : undefined);
  return {
    tls: o.tls ?? loadTlsKeyPair(o),
    authenticator: createAuthenticator({ authToken, authenticate: o.authenticate }),
    forwardMetadata:
      o.forwardMetadata === undefined ? undefined : [o.forwardMetadata].flat().map((k) => k.toLowerCase()),
  };
}
