import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { loadFlowSpec } from '../config/load.js';
import {
  flowgateVersion,
  renderFlowchart,
  toDockerCompose,
  toKubernetes,
  type KubernetesOptions,
} from '../orchestrate/export/index.js';

interface CommonFlags {
  image?: string;
}

function warn(warnings: string[]): void {
  for (const w of warnings) process.stderr.write(`flowgate: warning: ${w}\n`);
}

/** The options every target shares, from the Flow file's path and the flags. */
async function load(flowPath: string, flags: CommonFlags) {
  const spec = await loadFlowSpec(flowPath);
  return {
    spec,
    options: {
      image: flags.image ?? `flowgate:${flowgateVersion()}`,
      baseDir: dirname(resolve(flowPath)),
      logLevel: process.env.FLOWGATE_LOG_LEVEL,
    },
  };
}

/**
 * Without `--image`, the manifests run flowgate's bare runtime image, which has flowgate but not
 * the user's Executors: their pods would fail to import them. Said before the files are written.
 */
function noImageWarning(image: string): string {
  return (
    `no --image: the manifests use ${image}, flowgate's runtime image, which does not contain your ` +
    `Executors' code (only built-in or external Executors would start). Build an image of your project ` +
    `(the Dockerfile of \`flowgate new\`: FROM ${image}, your folder at /app), push it, and pass it: ` +
    `flowgate export kubernetes <flow.yml> <out-dir> --image registry.example.com/my-flow:0.1.0`
  );
}

const IMAGE_HELP = 'the flowgate runtime image (default flowgate:<version>)';

/**
 * Adds `flowgate export kubernetes | docker-compose | flowchart`.
 *
 * @example
 * ```ts
 * registerExport(program);
 * ```
 */
export function registerExport(program: Command): void {
  const exp = program
    .command('export')
    .description('Write a Flow as Kubernetes manifests, a Docker Compose file, or an SVG picture.');

  exp
    .command('kubernetes')
    .alias('k8s')
    .description('One ConfigMap, Service and Deployment per Executor, shard, head and the Gateway.')
    .argument('<flow.yml>', 'the Flow YAML file')
    .argument('<out-dir>', 'folder for the manifests (created if needed)')
    .option('--namespace <ns>', 'namespace of every object (default: the Flow name, else default)')
    .option('--image <image>', IMAGE_HELP)
    .option('--cluster-domain <domain>', "the cluster's DNS domain", 'cluster.local')
    .addOption(
      new Option('--gateway-service-type <type>', "the type of the Gateway's Service")
        .choices(['ClusterIP', 'NodePort', 'LoadBalancer'])
        .default('ClusterIP'),
    )
    .action(
      async (
        flowPath: string,
        outDir: string,
        flags: CommonFlags & { namespace?: string; clusterDomain: string; gatewayServiceType: string },
      ) => {
        const { spec, options } = await load(flowPath, flags);
        const out = toKubernetes(spec, {
          ...options,
          namespace: flags.namespace,
          clusterDomain: flags.clusterDomain,
          gatewayServiceType: flags.gatewayServiceType as KubernetesOptions['gatewayServiceType'],
        });
        warn(flags.image === undefined ? [noImageWarning(options.image), ...out.warnings] : out.warnings);
        await mkdir(outDir, { recursive: true });
        for (const [name, text] of Object.entries(out.files)) await writeFile(join(outDir, name), text);
        process.stderr.write(
          `wrote ${Object.keys(out.files).length} files to ${outDir} (namespace ${out.namespace}): kubectl apply -f ${outDir}\n`,
        );
      },
    );

  exp
    .command('docker-compose')
    .alias('compose')
    .description('One service per Executor replica, shard replica and head, and the Gateway.')
    .argument('<flow.yml>', 'the Flow YAML file')
    .argument('<out.yml>', 'the Compose file to write')
    .option('--network <name>', 'the network every service joins', 'flowgate-network')
    .option('--image <image>', IMAGE_HELP)
    .action(async (flowPath: string, outPath: string, flags: CommonFlags & { network: string }) => {
      const { spec, options } = await load(flowPath, flags);
      const out = toDockerCompose(spec, { ...options, network: flags.network });
      warn(out.warnings);
      await mkdir(dirname(resolve(outPath)), { recursive: true });
      await writeFile(outPath, out.yaml);
      process.stderr.write(
        `wrote ${outPath} (${Object.keys(out.compose.services).length} services): docker compose -f ${outPath} up\n`,
      );
    });

  exp
    .command('flowchart')
    .description("An SVG picture of the Flow's graph.")
    .argument('<flow.yml>', 'the Flow YAML file')
    .argument('<out.svg>', 'the SVG file to write')
    .option('--vertical', 'top to bottom instead of left to right')
    .action(async (flowPath: string, outPath: string, flags: { vertical?: boolean }) => {
      const spec = await loadFlowSpec(flowPath);
      await mkdir(dirname(resolve(outPath)), { recursive: true });
      await writeFile(outPath, renderFlowchart(spec, { vertical: flags.vertical }));
      process.stderr.write(`wrote ${outPath}\n`);
    });
}
