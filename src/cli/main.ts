#!/usr/bin/env node
import { Command, Option } from 'commander';
import { serveExecutor, serveFromParent, serveHead } from './serve.js';
import type { Polling } from '../runtime/head.js';
import { ping } from './ping.js';
import { addressList } from './addresses.js';
import { registerExport } from './export.js';
import { registerNew } from './new.js';
import { registerGatewayCommand } from './gateway-command.js';
import { explain } from '../core/known-errors.js';
import { VERSION } from '../core/version.js';
import { parseBatchingConfig } from '../executor/dynamic-batching.js';
import { LOG_LEVEL_ENV, LOG_LEVELS, parseLogLevel } from '../core/logger.js';
import { gatewaySchema } from '../config/schemas.js';
import { validateGatewaySpec } from '../config/load.js';
import { Flow } from '../orchestrate/flow.js';
import { optionsFromFlags, optionsFromSchema } from './schema-flags.js';

const program = new Command();
program
  .name('flowgate')
  .description('Serve pipelines of Executors behind a multi-protocol Gateway.')
  .version(VERSION)
  .option(
    '--log-level <level>',
    `log level: ${LOG_LEVELS.join(', ')} (sets ${LOG_LEVEL_ENV}, for every process)`,
  )
  .hook('preAction', () => {
    const given = program.opts<{ logLevel?: string }>().logLevel;
    if (given === undefined) return;
    const level = parseLogLevel(given);
    if (!level)
      program.error(`flowgate: --log-level must be one of ${LOG_LEVELS.join(', ')}, got '${given}'`);
    // The Flow's processes inherit the environment, so they log at the same level.
    process.env[LOG_LEVEL_ENV] = level;
  });

program
  .command('executor')
  .description('Serve one Executor over gRPC.')
  .option('--uses <uses>', 'module (exec.ts or exec.ts:ClassName) or Executor YAML file')
  .option('--name <name>', 'the Executor name', 'executor')
  .option('--host <host>', 'host to bind', '0.0.0.0')
  .option('--port <port>', 'port to bind (0 = any free port)', (v) => Number(v), 0)
  .option('--uses-with <json>', 'constructor arguments as JSON', '{}')
  .option(
    '--uses-dynamic-batching <json>',
    'dynamic batching per endpoint as JSON, e.g. \'{"/embed":{"preferredBatchSize":32,"timeout":10}}\'',
  )
  .option('--monitoring', 'serve Prometheus metrics on --port-monitoring')
  .option('--port-monitoring <port>', 'port of the metrics (0 = any free port)', (v) => Number(v))
  .option('--tracing', 'export OpenTelemetry spans over OTLP/HTTP')
  .option('--traces-exporter-host <host>', 'host of the OTLP/HTTP receiver (default 127.0.0.1)')
  .option('--traces-exporter-port <port>', 'port of the OTLP/HTTP receiver (default 4318)', (v) => Number(v))
  .option('--ssl-certfile <pem>', 'serve TLS with this certificate (for a Gateway with tls on this Executor)')
  .option('--ssl-keyfile <pem>', 'the private key of --ssl-certfile')
  .addOption(new Option('--ipc', 'receive the configuration from a parent Flow').hideHelp())
  .action(
    async (opts: {
      sslCertfile?: string;
      sslKeyfile?: string;
      uses?: string;
      name: string;
      host: string;
      port: number;
      usesWith: string;
      usesDynamicBatching?: string;
      monitoring?: boolean;
      portMonitoring?: number;
      tracing?: boolean;
      tracesExporterHost?: string;
      tracesExporterPort?: number;
      ipc?: boolean;
    }) => {
      if (opts.ipc) return serveFromParent('executor');
      if (!opts.uses)
        program.error('flowgate executor: --uses is required (a module or an Executor YAML file)');
      const worker = await serveExecutor({
        name: opts.name,
        uses: { spec: opts.uses },
        usesWith: JSON.parse(opts.usesWith) as Record<string, unknown>,
        dynamicBatching: parseBatchingConfig(opts.usesDynamicBatching, '--uses-dynamic-batching'),
        metas: {},
        runtimeArgs: {},
        host: opts.host,
        port: opts.port,
        ssl:
          opts.sslCertfile || opts.sslKeyfile
            ? { certfile: opts.sslCertfile ?? '', keyfile: opts.sslKeyfile ?? '' }
            : undefined,
        observability: {
          monitoring: opts.monitoring,
          portMonitoring: opts.portMonitoring,
          tracing: opts.tracing,
          tracesExporterHost: opts.tracesExporterHost,
          tracesExporterPort: opts.tracesExporterPort,
        },
      });
      process.stderr.write(`Executor ${opts.name} serving gRPC on ${opts.host}:${worker.port}\n`);
    },
  );

program
  .command('head')
  .description('Serve the head of a sharded Executor: it spreads each request over the shards.')
  .option('--name <name>', 'the sharded Executor name', 'executor')
  .option('--host <host>', 'host to bind', '0.0.0.0')
  .option('--port <port>', 'port to bind (0 = any free port)', (v) => Number(v), 0)
  .option(
    '--shards <json>',
    'replica addresses of each shard as JSON, e.g. \'[["h1:5001"],["h2:5002","h3:5002"]]\'',
    '[]',
  )
  .option('--polling <polling>', 'ANY, ALL, or JSON per endpoint: \'{"/search":"ALL","*":"ANY"}\'', 'ANY')
  .option('--uses-before <addresses>', 'comma-separated replica addresses of the uses-before Executor')
  .option('--uses-after <addresses>', 'comma-separated replica addresses of the uses-after Executor')
  .option('--no-reduce', "concatenate the shards' documents instead of reducing them by id")
  .option('--timeout-send <ms>', 'deadline of each call to a shard, ms', (v) => Number(v))
  .option('--retries <n>', 'repeat failed calls (see the docs)', (v) => Number(v))
  .addOption(new Option('--ipc', 'receive the configuration from a parent Flow').hideHelp())
  .action(
    async (opts: {
      name: string;
      host: string;
      port: number;
      shards: string;
      polling: string;
      usesBefore?: string;
      usesAfter?: string;
      reduce: boolean;
      timeoutSend?: number;
      retries?: number;
      ipc?: boolean;
    }) => {
      if (opts.ipc) return serveFromParent('head');
      const list = (v?: string) => (v ? v.split(',').filter(Boolean) : undefined);
      const polling = (
        opts.polling.trim().startsWith('{') ? JSON.parse(opts.polling) : opts.polling.toUpperCase()
      ) as Polling;
      const head = await serveHead({
        name: opts.name,
        host: opts.host,
        port: opts.port,
        shards: JSON.parse(opts.shards) as string[][],
        polling,
        usesBefore: list(opts.usesBefore),
        usesAfter: list(opts.usesAfter),
        noReduce: !opts.reduce,
        timeoutSendMs: opts.timeoutSend,
        retries: opts.retries,
      });
      process.stderr.write(`head of ${opts.name} serving gRPC on ${opts.host}:${head.port}\n`);
    },
  );

registerGatewayCommand(program);

const flowCommand = program
  .command('flow')
  .description('Start a Flow from a Flow YAML file and serve until SIGINT or SIGTERM.')
  .requiredOption('--uses <flow.yml>', 'the Flow YAML file')
  .addHelpText(
    'after',
    '\nGateway options given here override the gateway: section of the YAML file.\n\nExample:\n  flowgate flow --uses flow.yml --protocol grpc,http --port 12345,12346',
  );
for (const o of optionsFromSchema(gatewaySchema, ['uses', 'usesWith', 'modules'])) flowCommand.addOption(o);
flowCommand.action(async (opts: Record<string, unknown> & { uses: string }) => {
  const flow = await Flow.load(opts.uses);
  // `--uses` is the Flow YAML here, not a custom Gateway (which the gateway: section names)
  const { uses: _flowYaml, ...flags } = optionsFromFlags(gatewaySchema, opts);
  flow.configGateway(validateGatewaySpec(flags, 'command line'));
  await flow.start();
  const where = addressList(flow.protocols, '127.0.0.1', flow.ports, flow.tls);
  process.stderr.write(`Flow ${opts.uses} is ready on ${where}\n`);
  await flow.block();
});

program
  .command('ping')
  .description('Check that an Executor, Gateway or Flow is healthy; exit 0 if so, 1 if not.')
  .argument('<target>', 'executor, gateway or flow')
  .argument('<host>', '[grpc|http|websocket://]host:port')
  .option('--timeout <ms>', 'timeout of each attempt in ms', (v) => Number(v), 3000)
  .option('--attempts <n>', 'number of attempts', (v) => Number(v), 1)
  .option('--min-successful-attempts <n>', 'successes needed', (v) => Number(v), 1)
  .action(
    async (
      target: string,
      host: string,
      opts: { timeout: number; attempts: number; minSuccessfulAttempts: number },
    ) => {
      process.exit((await ping(target, host, opts)) ? 0 : 1);
    },
  );

registerExport(program);
registerNew(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // One sentence a user can act on; the stack only when asked for.
  const e = err instanceof Error ? err : new Error(String(err));
  process.stderr.write(`flowgate: ${explain(e)}\n`);
  if (process.env.FLOWGATE_LOG_LEVEL?.toLowerCase() === 'debug') process.stderr.write(`${e.stack ?? ''}\n`);
  process.exit(1);
}
