import { Client, type ClientOptions, type ClientProtocol } from '../client/client.js';
import { Code, FlowgateError } from '../core/errors.js';
import type { Protocol } from '../gateway/gateway.js';
import type { GatewayEntry } from './flow-plan.js';

/**
 * The Client a started Flow or Deployment posts with: its Gateway's first protocol and port, its
 * auth token, TLS when it serves TLS; `overrides` wins (a `caFile` for a private CA, another
 * protocol...).
 */
export function flowClient(
  protocols: readonly Protocol[],
  ports: readonly number[],
  gateway: GatewayEntry,
  overrides: ClientOptions = {},
): Client {
  const protocol = protocols[0] ?? 'grpc';
  if (ports.length === 0)
    throw new FlowgateError(
      Code.FailedPrecondition,
      'post() needs a started Flow or Deployment: call start() first',
    );
  if (protocol === 'graphql' && overrides.protocol === undefined)
    throw new FlowgateError(
      Code.InvalidArgument,
      "post() speaks grpc, http or websocket; this Gateway's first protocol is graphql: list another first",
    );
  const host =
    !gateway.host || gateway.host === '0.0.0.0' || gateway.host === '::' ? '127.0.0.1' : gateway.host;
  // A protocol override that the Gateway serves goes to that protocol's port.
  const at = overrides.protocol ? protocols.indexOf(overrides.protocol) : -1;
  return new Client({
    host,
    port: ports[at >= 0 ? at : 0],
    protocol: protocol as ClientProtocol,
    tls: gateway.sslCertfile !== undefined,
    authToken: gateway.authToken,
    ...overrides,
  });
}
