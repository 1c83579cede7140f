#!/usr/bin/env node
import { Command, Option } from 'commander';
import { serveExecutor, serveFromParent, serveHead } from './serve.js';
import { ping, type PingOptions } from './ping.js';
import { addressList } from './addresses.js';
import { registerExport } from './export.js';
import { registerNew } from './new.js';
import { registerGatewayCommand } from './gateway-command.js';
import { explain } from '../core/known-errors.js';
import { VERSION } from '../core/version.js';
import { LOG_LEVEL_ENV, LOG_LEVELS, parseLogLevel } from '../core/logger.js';
import { executorServeSchema, flowOptionsSchema, gatewaySchema, headSchema } from '../config/schemas.js';
import { loadFlowSpec, validateComponent, validateGatewaySpec } from '../config/load.js';
import { executorServeConfig, headServeConfig } from '../orchestrate/process-config.js';
import { Flow } from '../orchestrate/flow.js';
import { Deployment } from '../orchestrate/deployment.js';
import { deploymentSchema, isDeploymentYaml, loadDeploymentSpec } from '../config/deployment.js';
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

const executorCommand = program
  .command('executor')
  .description('Serve one Executor over gRPC.')
  .addOption(new Option('--ipc', 'receive the configuration from a parent Flow').hideHelp());
for (const o of optionsFromSchema(executorServeSchema)) executorCommand.addOption(o);
executorCommand.action(async (opts: Record<string, unknown>) => {
  if (opts.ipc) return serveFromParent('executor');
  const spec = validateComponent(
    executorServeSchema,
    optionsFromFlags(executorServeSchema, opts),
    { locate: () => 'command line' },
    [],
    'the Executor',
  );
  if (!spec.uses) program.error('flowgate executor: --uses is required (a module or an Executor YAML file)');
  const config = executorServeConfig(spec);
  const worker = await serveExecutor(config);
  process.stderr.write(`Executor ${config.name} serving gRPC on ${config.host}:${worker.port}\n`);
});

const headCommand = program
  .command('head')
  .description('Serve the head of a sharded Executor: it spreads each request over the shards.')
  .addOption(new Option('--ipc', 'receive the configuration from a parent Flow').hideHelp());
for (const o of optionsFromSchema(headSchema)) headCommand.addOption(o);
headCommand.action(async (opts: Record<string, unknown>) => {
  if (opts.ipc) return serveFromParent('head');
  const flags = optionsFromFlags(headSchema, opts);
  if (typeof flags.polling === 'string') flags.polling = flags.polling.toUpperCase();
  const spec = validateComponent(headSchema, flags, { locate: () => 'command line' }, [], 'the head');
  const config = headServeConfig(spec);
  const head = await serveHead(config);
  process.stderr.write(`head of ${config.name} serving gRPC on ${config.host}:${head.port}\n`);
});

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
for (const o of optionsFromSchema(flowOptionsSchema)) flowCommand.addOption(o);
flowCommand.action(async (opts: Record<string, unknown> & { uses: string }) => {
  const spec = await loadFlowSpec(opts.uses);
  const flowFlags = optionsFromFlags(flowOptionsSchema, opts);
  const flow = Flow.fromSpec({ ...spec, with: { ...spec.with, ...flowFlags } });
  // `--uses` is the Flow YAML here, not a custom Gateway (which the gateway: section names)
  const { uses: _flowYaml, ...flags } = optionsFromFlags(gatewaySchema, opts);
  flow.configGateway(validateGatewaySpec(flags, 'command line'));
  await flow.start();
  const where = addressList(flow.protocols, '127.0.0.1', flow.ports, flow.tls);
  process.stderr.write(`Flow ${opts.uses} is ready on ${where}\n`);
  await flow.block();
});

const deploymentCommand = program
  .command('deployment')
  .description('Serve one Executor (replicas, shards) behind a Gateway, until SIGINT or SIGTERM.')
  .addHelpText(
    'after',
    '\n--uses is a Deployment YAML (jtype: Deployment) or the Executor itself; flags override the YAML.\n\nExamples:\n  flowgate deployment --uses dep.yml\n  flowgate deployment --uses upper.ts:Upper --port 12345 --protocol http --replicas 2',
  );
for (const o of optionsFromSchema(deploymentSchema)) deploymentCommand.addOption(o);
deploymentCommand.action(async (opts: Record<string, unknown>) => {
  const flags = optionsFromFlags(deploymentSchema, opts);
  const uses = typeof flags.uses === 'string' ? flags.uses : undefined;
  let base: Record<string, unknown> = {};
  if (uses && /\.ya?ml$/i.test(uses) && (await isDeploymentYaml(uses))) {
    base = await loadDeploymentSpec(uses);
    delete flags.uses;
  }
  const spec = validateComponent(
    deploymentSchema,
    { ...base, ...flags },
    { locate: () => 'command line' },
    [],
    'the Deployment',
  );
  if (!spec.uses)
    program.error(
      'flowgate deployment: --uses is required (a Deployment YAML, a module or an Executor YAML)',
    );
  const dep = await new Deployment(spec).start();
  const where = addressList(dep.protocols, '127.0.0.1', dep.ports, dep.tls);
  process.stderr.write(`Deployment ${uses} is ready on ${where}\n`);
  await dep.block();
});

program
  .command('ping')
  .description(
    'Check that an Executor, Gateway or Flow is healthy; exit 0 if so, 1 if not. ' +
      'With only an address, checks the Gateway (or Flow) there.',
  )
  .argument('<target>', 'executor, gateway or flow; or just the address')
  .argument('[host]', '[grpc|grpcs|http|https|ws|wss://]host:port')
  .option('--timeout <ms>', 'timeout of each attempt in ms', (v) => Number(v), 3000)
  .option('--attempts <n>', 'number of attempts', (v) => Number(v), 1)
  .option('--min-successful-attempts <n>', 'successes needed', (v) => Number(v), 1)
  .option('--ca-file <pem>', 'CA certificate (PEM) that signed a TLS Gateway, for a private CA')
  .action(async (target: string, host: string | undefined, opts: PingOptions) => {
    const ok = await ping(target, host, opts);
    if (ok)
      process.stdout.write(`${host === undefined ? 'gateway' : target} at ${host ?? target} is healthy\n`);
    process.exit(ok ? 0 : 1);
  });

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
