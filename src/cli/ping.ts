import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import * as grpc from '@grpc/grpc-js';
import { Client } from '../client/client.js';
import { Code, FlowgateError } from '../core/errors.js';
import { checkHealth, createJinaClient } from '../transport/grpc/link.js';

/** Options of {@link ping}. */
export interface PingOptions {
  timeout: number;
  attempts: number;
  minSuccessfulAttempts: number;
  /** A PEM file with the CA that signed a TLS Gateway's certificate (a private CA). */
  caFile?: string;
}

/** What `flowgate ping` checks: the target and its address split into scheme and host:port. */
export interface PingTarget {
  target: 'executor' | 'gateway' | 'flow';
  scheme: string;
  hostPort: string;
}

const TARGETS = new Set(['executor', 'gateway', 'flow']);
const SCHEMES = new Set(['grpc', 'grpcs', 'http', 'https', 'ws', 'wss', 'websocket']);

/**
 * Reads `ping <target> <address>` or the one-argument `ping <address>` (the Gateway or Flow there:
 * a `gateway` check).
 *
 * @example
 * ```ts
 * parsePingArgs('http://127.0.0.1:8080'); // { target: 'gateway', scheme: 'http', hostPort: '127.0.0.1:8080' }
 * ```
 */
export function parsePingArgs(first: string, second?: string): PingTarget {
  const [target, address] = second === undefined ? ['gateway', first] : [first, second];
  if (!TARGETS.has(target))
    throw new FlowgateError(
      Code.InvalidArgument,
      `ping: unknown target '${target}': use executor, gateway or flow (or give only an address)`,
    );
  const m = /^([a-z]+):\/\/(.*)$/i.exec(address);
  const scheme = (m?.[1] ?? 'grpc').toLowerCase();
  const hostPort = (m?.[2] ?? address).replace(/\/+$/, '');
  if (!SCHEMES.has(scheme))
    throw new FlowgateError(
      Code.InvalidArgument,
      `ping: unknown scheme '${scheme}://' in ${address}: use grpc, grpcs, http, https, ws or wss`,
    );
  if (!/^(\[[^\]]+\]|[^:/\s]+):\d+$/.test(hostPort))
    throw new FlowgateError(Code.InvalidArgument, `ping: '${address}' is not [scheme://]host:port`);
  return { target: target as PingTarget['target'], scheme, hostPort };
}

const isTls = (scheme: string) => scheme === 'grpcs' || scheme === 'https' || scheme === 'wss';

/** GET `path` on an HTTP(S) Gateway: its status code, or undefined when it does not answer. */
function httpGet(
  t: PingTarget,
  path: string,
  timeoutMs: number,
  ca: Buffer | undefined,
): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolve) => {
    const send = isTls(t.scheme) ? httpsRequest : httpRequest;
    const req = send(
      `${isTls(t.scheme) ? 'https' : 'http'}://${t.hostPort}${path}`,
      { ca, timeout: timeoutMs },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', () => resolve(undefined));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

async function healthy(t: PingTarget, timeoutMs: number, ca: Buffer | undefined): Promise<boolean> {
  if (t.scheme.startsWith('grpc')) {
    const credentials = isTls(t.scheme) ? grpc.credentials.createSsl(ca ?? null) : undefined;
    const c = createJinaClient(t.hostPort, { credentials });
    try {
      return await checkHealth(c, Math.min(timeoutMs, 1000));
    } finally {
      c.close();
    }
  }
  return (await httpGet(t, '/', timeoutMs, ca))?.status === 200;
}

async function once(t: PingTarget, opts: PingOptions, ca: Buffer | undefined): Promise<boolean> {
  if (t.target !== 'flow') return healthy(t, opts.timeout, ca);
  if (t.scheme === 'http' || t.scheme === 'https') {
    // A dry run through the whole Flow; a custom Gateway without /dry_run answers its health check.
    const res = await httpGet(t, '/dry_run', opts.timeout, ca);
    if (!res) return false;
    let code: unknown;
    try {
      code = (JSON.parse(res.body) as { code?: unknown }).code;
    } catch {
      code = undefined;
    }
    // A custom Gateway without a /dry_run of its own (404, or not a dry-run answer): its health.
    if (res.status === 404 || (res.status === 200 && typeof code !== 'number'))
      return healthy(t, opts.timeout, ca);
    return res.status === 200 && code === 0;
  }
  const scheme = t.scheme === 'websocket' ? 'ws' : t.scheme;
  const client = new Client({ host: `${scheme}://${t.hostPort}`, rootCertificates: ca });
  try {
    return await client.isFlowReady(opts.timeout);
  } finally {
    await client.close();
  }
}

/**
 * Health-checks a target `attempts` times, one second apart, as `jina ping` does: true when at
 * least `minSuccessfulAttempts` succeeded. Failed attempts are logged to stderr.
 *
 * @example
 * ```ts
 * const ok = await ping('gateway', 'http://127.0.0.1:8080', { timeout: 3000, attempts: 1, minSuccessfulAttempts: 1 });
 * ```
 */
export async function ping(target: string, address: string | undefined, opts: PingOptions): Promise<boolean> {
  const t = parsePingArgs(target, address);
  const ca = opts.caFile === undefined ? undefined : readCa(opts.caFile);
  let ok = 0;
  for (let i = 1; i <= opts.attempts; i++) {
    if (await once(t, opts, ca)) ok++;
    else
      process.stderr.write(
        `${t.target} at ${address ?? target} is not responding, attempt (${i}/${opts.attempts})${i < opts.attempts ? ' in 1s' : ''}\n`,
      );
    if (ok >= opts.minSuccessfulAttempts) return true;
    if (i < opts.attempts) await new Promise((r) => setTimeout(r, 1000));
  }
  return ok >= opts.minSuccessfulAttempts;
}

function readCa(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new FlowgateError(Code.InvalidArgument, `--ca-file ${file}: ${(err as Error).message}`);
  }
}
