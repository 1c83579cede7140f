import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import * as grpc from '@grpc/grpc-js';
import { Code, FlowgateError } from '../core/errors.js';
import type { GatewayClass, Protocol } from '../gateway/gateway.js';
import { checkHealth, createJinaClient } from '../transport/grpc/link.js';

/**
 * How a Flow hands a custom Gateway class to its Gateway process. A class cannot cross IPC, so the
 * child gets `{ module, className }` and imports the module again, as for Executors. A Gateway
 * class has no `@requests` decorator to tell its file, so the module is the file that called
 * `configGateway({ uses })` (found from the call stack, like `@requests` finds its file), unless
 * `usesModule` names it. That file either defines the class or imports it: in the child, the
 * module's own `configGateway` call registers the class by name before the Flow's `start()`
 * (which never resolves there), so the class need not even be exported.
 */

/** Where the Gateway process finds the custom class: a module and class name, or a `uses` string. */
export type GatewayUsesRef = { module: string; className: string } | { spec: string };

/** The reference sent to the Gateway process for `uses` (a class or a `file.ts:Class` string). */
export function gatewayUsesRef(uses: GatewayClass | string, module: string | undefined): GatewayUsesRef {
  if (typeof uses === 'string') return { spec: uses };
  if (!module)
    throw new FlowgateError(
      Code.InvalidArgument,
      `cannot tell which file defines the Gateway ${uses.name}: pass configGateway({ usesModule: 'file.ts' }) or uses: 'file.ts:${uses.name}'`,
    );
  return { module, className: uses.name };
}

/**
 * One health check of a Gateway port: gRPC health for grpc, `GET /` = 200 for the others. With
 * `tls`, over TLS without verifying the certificate: this only asks a process the Flow started
 * itself whether it is up.
 */
export async function gatewayHealthy(
  protocol: Protocol,
  host: string,
  port: number,
  tls = false,
): Promise<boolean> {
  const address = `${host}:${port}`;
  if (protocol === 'grpc') {
    const credentials = tls
      ? grpc.credentials.createSsl(null, null, null, { rejectUnauthorized: false })
      : undefined;
    const client = createJinaClient(address, { credentials });
    try {
      return await checkHealth(client, 1000);
    } finally {
      client.close();
    }
  }
  return new Promise<boolean>((resolve) => {
    const req = (tls ? httpsGet : httpGet)(
      { host, port, path: '/', timeout: 1000, rejectUnauthorized: false },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
  });
}

/**
 * Waits until a custom Gateway's first port passes its health check (only the first port is
 * checked, as in the original), or fails with what the Gateway must implement.
 */
export async function waitGatewayHealthy(
  protocol: Protocol,
  host: string,
  port: number,
  timeoutMs: number,
  tls = false,
): Promise<void> {
  const checkHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await gatewayHealthy(protocol, checkHost, port, tls)) return;
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const duty =
    protocol === 'grpc'
      ? 'register the grpc.health.v1 Health service on its gRPC server'
      : 'answer GET / with status 200 (FastifyBaseGateway does so for you)';
  throw new FlowgateError(
    Code.Unavailable,
    `the custom Gateway on ${protocol} port ${port} failed its health check for ${timeoutMs} ms: a custom Gateway must ${duty}`,
  );
}
