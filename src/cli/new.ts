import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { VERSION } from '../core/version.js';
import { projectFiles } from './new-templates.js';
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
 * empty): an Executor, a Flow YAML, a test, a Dockerfile, package.json and a README. Resolves to
 * the files written, relative to `dir`.
 *
 * @example
 * ```ts
 * await createProject('my-flow');   // ['package.json', 'tsconfig.json', 'executor.ts', ...]
 * ```
 */
export async function createProject(
  dir: string,
  options: { name?: string; pack?: boolean } = {},
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
  const files = projectFiles({ project, version: VERSION, flowgateSpec, tools: toolVersions() });
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
    .description('Create a runnable project: an Executor, a Flow YAML, a test, a Dockerfile.')
    .argument('<dir>', 'the folder to create (it must not exist, or be empty)')
    .option('--name <name>', 'the package (and image) name; default the folder name')
    .addHelpText(
      'after',
      '\nExample:\n  flowgate new my-flow && cd my-flow && npm install && npm test && npm start',
    )
    .action(async (dir: string, opts: { name?: string }) => {
      const files = await createProject(dir, opts);
      process.stdout.write(
        `Created ${dir}: ${files.join(', ')}\n\nNext:\n  cd ${dir}\n  npm install\n  npm test\n  npm start\n`,
      );
    });
}
