#!/usr/bin/env node
import { Command, Option } from 'commander';
import { serveExecutor, serveFromParent } from './serve.js';
import { ping } from './ping.js';
import { VERSION } from '../index.js';

const program = new Command();
program
  .name('flowgate')
  .description('Serve pipelines of Executors behind a multi-protocol Gateway.')
  .version(VERSION);

program
  .command('executor')
  .description('Serve one Executor over gRPC.')
  .option('--uses <uses>', 'module (exec.ts or exec.ts:ClassName) or Executor YAML file')
  .option('--name <name>', 'the Executor name', 'executor')
  .option('--host <host>', 'host to bind', '0.0.0.0')
  .option('--port <port>', 'port to bind (0 = any free port)', (v) => Number(v), 0)
  .option('--uses-with <json>', 'constructor arguments as JSON', '{}')
  .addOption(new Option('--ipc', 'receive the configuration from a parent Flow').hideHelp())
  .action(
    async (opts: {
      uses?: string;
      name: string;
      host: string;
      port: number;
      usesWith: string;
      ipc?: boolean;
    }) => {
      if (opts.ipc) return serveFromParent('executor');
      if (!opts.uses)
        program.error('flowgate executor: --uses is required (a module or an Executor YAML file)');
      const worker = await serveExecutor({
        name: opts.name,
        uses: { spec: opts.uses },
        usesWith: JSON.parse(opts.usesWith) as Record<string, unknown>,
        metas: {},
        runtimeArgs: {},
        host: opts.host,
        port: opts.port,
      });
      process.stderr.write(`Executor ${opts.name} serving gRPC on ${opts.host}:${worker.port}\n`);
    },
  );

program
  .command('gateway')
  .description('Serve a Gateway.')
  .addOption(new Option('--ipc', 'receive the configuration from a parent Flow').hideHelp())
  .action(async (opts: { ipc?: boolean }) => {
    if (opts.ipc) return serveFromParent('gateway');
    program.error('flowgate gateway: standalone mode needs --uses (coming with YAML support)');
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

await program.parseAsync(process.argv);
