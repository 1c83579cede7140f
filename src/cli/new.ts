import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { VERSION } from '../core/version.js';
import { projectFiles, type ProjectKind } from './new-templates.js';
import { packFlowgateInto, toolVersions } from './new-dependency.js';

/** An npm package name from a folder name: lowercase, `-` for anything else. */
function packageName(dir: string): string {
  const name = basename(resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return name || 'my-flow';
}

/**
 * Writes a runnable project skeleton into `dir` (created if missing; an existing folder must be
 * empty): an Executor, a Flow YAML (or, with `kind: 'deployment'`, a Deployment YAML serving the
 * Executor alone), a test, a Dockerfile, package.json and a README. Resolves to the files
 * written, relative to `dir`.
 *
 * @example
 * ```ts
 * await createProject('my-flow');   // ['package.json', 'tsconfig.json', 'executor.ts', 'flow.yml', ...]
 * await createProject('my-model', { kind: 'deployment' }); // [..., 'deployment.yml', ...]
 * ```
 */
export async function createProject(
  dir: string,
  options: { name?: string; pack?: boolean; kind?: ProjectKind } = {},
): Promise<string[]> {
  const root = resolve(dir);
  const existing = await readdir(root).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  if (existing.length > 0)
    throw new Error(`${dir} is not empty (${existing.length} entries): give a new or empty folder`);
  const project = options.name ?? packageName(dir);
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(project))
    throw new Error(
      `--name '${project}' must be lowercase letters, digits and -: it names the package, the image and the Kubernetes namespace`,
    );
  await mkdir(root, { recursive: true });
  // Until flowgate is on the registry, the project installs the flowgate that wrote it.
  const flowgateSpec = options.pack === false ? undefined : packFlowgateInto(root);
  const files = projectFiles(
    { project, version: VERSION, flowgateSpec, tools: toolVersions() },
    options.kind ?? 'flow',
  );
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text, { flag: 'wx' });
  }
  return [...Object.keys(files), ...(flowgateSpec ? [flowgateSpec.slice('file:'.length)] : [])];
}

/** Adds `flowgate new <dir>`. */
export function registerNew(program: Command): void {
  program
    .command('new')
    .description(
      'Create a runnable project: an Executor, a Flow YAML (or a Deployment YAML), a test, a Dockerfile.',
    )
    .argument('<dir>', 'the folder to create (it must not exist, or be empty)')
    .option('--name <name>', 'the package (and image) name; default the folder name')
    .option('--deployment', 'serve the Executor alone as a Deployment (deployment.yml) instead of a Flow')
    .option('--flow', 'a Flow project (flow.yml): the default')
    .addHelpText(
      'after',
      '\nExamples:\n  flowgate new my-flow && cd my-flow && npm install && npm test && npm start\n  flowgate new --deployment my-model    # one Executor, no Flow: deployment.yml',
    )
    .action(async (dir: string, opts: { name?: string; deployment?: boolean; flow?: boolean }) => {
      if (opts.deployment && opts.flow) throw new Error('--deployment and --flow: give one of them');
      const files = await createProject(dir, {
        name: opts.name,
        kind: opts.deployment ? 'deployment' : 'flow',
      });
      process.stdout.write(
        `Created ${dir}: ${files.join(', ')}\n\nNext:\n  cd ${dir}\n  npm install\n  npm test\n  npm start\n`,
      );
    });
}
