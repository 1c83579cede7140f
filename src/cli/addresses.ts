import { Server as HttpServer } from 'node:http';
import type { Protocol } from '../gateway/gateway.js';

/**
 * The URL a client uses for one port of a Gateway: `grpc://`, `http://`, `ws://` (GraphQL is
 * served over HTTP), and `grpcs://`, `https://`, `wss://` with TLS.
 *
 * @example
 * ```ts
 * addressUrl('http', '127.0.0.1', 8080, true); // 'https://127.0.0.1:8080'
 * ```
 */
export function addressUrl(protocol: Protocol, host: string, port: number, tls = false): string {
  const scheme = protocol === 'grpc' ? 'grpc' : protocol === 'websocket' ? 'ws' : 'http';
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${scheme}${tls ? 's' : ''}://${h}:${port}`;
}

/** `addressUrl` for every port, comma-separated. */
export function addressList(protocols: Protocol[], host: string, ports: number[], tls = false): string {
  return protocols.map((p, i) => addressUrl(p, host, ports[i] ?? 0, tls)).join(', ');
}

/**
 * True for a Gateway that serves HTTP: a FastifyBaseGateway (its app's Node server), or a custom
 * Gateway that keeps a node:http server in `server`.
 */
export function isHttpGateway(g: object): boolean {
  const fields = g as { app?: { server?: unknown }; server?: unknown };
  return fields.app?.server instanceof HttpServer || fields.server instanceof HttpServer;
}
