/**
 * One Moleculer 0.15 node of the benchmark's peer section, as a child process:
 * `node --import tsx bench/peer/moleculer-node.ts service` (the service node: action `echo.docs`
 * returns the documents it was sent) or `... gateway <service TCP port>` (a `moleculer-web`
 * ApiGateway: `POST /post` calls `echo.docs`). The nodes talk over Moleculer's built-in TCP
 * transporter on loopback, without UDP discovery (static `urls`). Reports `{ type: 'ready', port }`
 * over IPC: the service its TCP port, the gateway its HTTP port.
 */
import net from 'node:net';
import { ServiceBroker } from 'moleculer';
import ApiGateway from 'moleculer-web';

const HOST = '127.0.0.1';

// Moleculer's TCP transporter listens on every interface; the benchmark serves on loopback only.
// eslint-disable-next-line @typescript-eslint/unbound-method -- re-applied with its own `this` below
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
  const first = args[0];
  if (first && typeof first === 'object' && !('host' in first) && !('path' in first))
    args[0] = { ...first, host: HOST };
  return (listen as (...a: unknown[]) => net.Server).apply(this, args);
} as typeof listen;

/** A broker on the TCP transporter; `peers` are static `host:port/nodeID` addresses. */
function broker(nodeID: string, peers: string[]): ServiceBroker {
  const b = new ServiceBroker({
    nodeID,
    namespace: 'flowgate-bench',
    logger: false,
    transporter: {
      type: 'TCP',
      options: { udpDiscovery: false, ...(peers.length ? { urls: peers.join(',') } : {}), port: 0 },
    },
  });
  // Advertise the loopback address (the default is the host name or the first external IP).
  const local = b.registry.nodes.localNode as unknown as { hostname: string; ipList: string[] };
  local.hostname = HOST;
  local.ipList = [HOST];
  return b;
}

async function service(): Promise<number> {
  const b = broker('service', []);
  b.createService({
    name: 'echo',
    actions: {
      docs: (ctx: { params: { data?: unknown[] } }) => ({ data: ctx.params.data ?? [] }),
    },
  });
  await b.start();
  return (b.registry.nodes.localNode as unknown as { port: number }).port;
}

async function gateway(servicePort: number): Promise<number> {
  const b = broker('gateway', [`${HOST}:${servicePort}/service`]);
  const api = b.createService({
    name: 'api',
    mixins: [ApiGateway],
    settings: {
      port: 0,
      ip: HOST,
      logRequest: null,
      logResponse: null,
      log4XXResponses: false,
      routes: [
        {
          path: '/',
          mappingPolicy: 'restrict',
          aliases: { 'POST /post': 'echo.docs' },
          bodyParsers: { json: { limit: '64mb' } },
        },
      ],
    },
  }) as unknown as { server: net.Server };
  await b.start();
  await b.waitForServices(['echo'], 30_000);
  return (api.server.address() as net.AddressInfo).port;
}

const role = process.argv[2];
if (process.send && (role === 'service' || role === 'gateway')) {
  const port = role === 'service' ? await service() : await gateway(Number(process.argv[3]));
  process.send({ type: 'ready', port });
  const bye = () => process.exit(0);
  process.on('disconnect', bye);
  process.on('SIGTERM', bye);
}
