import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { withGatewayYaml } from '../config/gateway-yaml.js';
import { validateGatewaySpec } from '../config/load.js';
import { gatewaySchema } from '../config/schemas.js';
import { graphFromFlags, type GraphFlags } from '../gateway/graph-description.js';
import { gatewayProcessOptions } from '../orchestrate/flow.js';
import { optionsFromFlags, optionsFromSchema } from './schema-flags.js';
import { serveFromParent, serveGateway } from './serve.js';
import { addressList, isHttpGateway } from './addresses.js';

/** The original's graph flags, in JSON. */
const GRAPH_FLAGS: [
  flag: string,
  key: keyof GraphFlags | 'deploymentsHeads' | 'deploymentsTls',
  help: string,
][] = [
  [
    'graph-description',
    'graphDescription',
    'the routing graph: {"start-gateway": ["a"], "a": ["end-gateway"]}',
  ],
  ['graph-conditions', 'graphConditions', 'node -> its when filter: {"a": {"tags__x": {"$gt": 1}}}'],
  [
    'deployments-addresses',
    'deploymentsAddresses',
    'node -> replica addresses: {"a": ["grpc://10.0.0.5:8080"]}',
  ],
  ['deployments-no-reduce', 'deploymentsNoReduce', 'nodes that get every part unreduced: ["j"]'],
  ['deployments-heads', 'deploymentsHeads', 'nodes whose address is the head of a sharded Executor: ["s"]'],
  ['deployments-tls', 'deploymentsTls', 'nodes reached over TLS (the system CAs): ["remote"]'],
];

function jsonFlag(flag: string) {
  return (raw: string): unknown => {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      throw new Error(`--${flag} expects JSON, got '${raw}'`);
    }
  };
}

/**
 * `flowgate gateway`: serves a Gateway on its own, in front of Executors that run elsewhere, as a
 * container's entry point does (`ENTRYPOINT ["flowgate", "gateway", "--uses", "config.yml"]`). The
 * Gateway is built-in (by `--protocol`) or custom (`--uses` a Gateway YAML file or `gw.ts:Class`);
 * the Executors come as the original's graph flags. Every Gateway option is also a flag.
 */
export function registerGatewayCommand(program: Command): void {
  const command = program
    .command('gateway')
    .description('Serve a Gateway in front of Executors that run elsewhere.')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  flowgate gateway --protocol http --port 8080 \\',
        '    --graph-description \'{"start-gateway":["encoder"],"encoder":["end-gateway"]}\' \\',
        '    --deployments-addresses \'{"encoder":["10.0.0.5:8080","10.0.0.6:8080"]}\'',
        '  flowgate gateway --uses my-gateway/config.yml --port 12345   # a custom Gateway from YAML',
        '',
        'A DNS name in --deployments-addresses is resolved to all its addresses (a headless Service).',
      ].join('\n'),
    );
  for (const [flag, , help] of GRAPH_FLAGS)
    command.addOption(new Option(`--${flag} <json>`, help).argParser(jsonFlag(flag)));
  for (const o of optionsFromSchema(gatewaySchema)) command.addOption(o);
  command.addOption(new Option('--ipc', 'receive the configuration from a parent Flow').hideHelp());
  command.action(async (opts: Record<string, unknown>) => {
    if (opts.ipc) return serveFromParent('gateway');
    const spec = withGatewayYaml(validateGatewaySpec(optionsFromFlags(gatewaySchema, opts), 'command line'));
    const graph = graphFromFlags({
      graphDescription: (opts.graphDescription as GraphFlags['graphDescription'] | undefined) ?? {},
      graphConditions: opts.graphConditions as GraphFlags['graphConditions'],
      deploymentsAddresses: opts.deploymentsAddresses as GraphFlags['deploymentsAddresses'],
      deploymentsNoReduce: opts.deploymentsNoReduce as GraphFlags['deploymentsNoReduce'],
    });
    const protocols = spec.protocol === undefined ? ['grpc' as const] : [spec.protocol].flat();
    const module = [spec.modules ?? []].flat()[0];
    // `--uses MyGateway --modules gw.ts` names a class in that module
    const uses =
      spec.uses && module && /^\w+$/.test(spec.uses) ? `${resolve(module)}:${spec.uses}` : spec.uses;
    const host = spec.host ?? '0.0.0.0';
    const runtime = await serveGateway({
      name: 'gateway',
      host,
      protocols,
      ports: spec.port === undefined ? [] : [spec.port].flat(),
      nodes: graph.nodes,
      output: graph.output,
      addresses: graph.addresses,
      heads: (opts.deploymentsHeads as string[] | undefined) ?? [],
      tls: (opts.deploymentsTls as string[] | undefined) ?? [],
      ...gatewayProcessOptions(spec),
      uses: uses ? { spec: uses } : undefined,
    });
    // A custom Gateway serves what it serves: an HTTP one (Fastify, or any Node HTTP server) says so.
    const served = runtime.served.map((g, i) =>
      spec.protocol === undefined && uses && isHttpGateway(g) ? 'http' : (protocols[i] ?? 'grpc'),
    );
    const where = addressList(served, host, runtime.ports, spec.sslCertfile !== undefined);
    process.stderr.write(`Gateway serving ${where}\n`);
  });
}
