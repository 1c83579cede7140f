/**
 * How a project made by `flowgate new` gets flowgate while flowgate is not on the npm registry:
 * the flowgate that runs `flowgate new` packs itself (`npm pack`) into a tarball beside the
 * project's package.json, and the project depends on `file:flowgate-<version>.tgz`.
 *
 * Why a tarball, not a `file:` link to flowgate's folder: a link points into wherever this CLI is
 * installed (a global npm prefix, a repository checkout), so the project breaks when that folder is
 * updated, rebuilt or removed, cannot be copied to another machine or into a Docker build, and npm
 * resolves flowgate's dependencies from that folder instead of the project. The tarball is a copy,
 * installed like any package; only npm's registry is needed for flowgate's own dependencies.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** flowgate's package root (the folder of its package.json), from dist/cli/ or src/cli/. */
export function flowgateRoot(): string {
  return fileURLToPath(new URL('../../', import.meta.url));
}

interface PackageJson {
  version: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

/** Version ranges of the tools a project needs itself (tsx, @types/node, typescript), as flowgate uses them. */
export function toolVersions(root = flowgateRoot()): Record<string, string> {
  const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as PackageJson;
  const all = { ...pkg.devDependencies, ...pkg.dependencies };
  const out: Record<string, string> = {};
  for (const name of ['tsx', '@types/node', 'typescript']) if (all[name]) out[name] = all[name];
  return out;
}

/**
 * Packs the running flowgate into `dir` and returns the dependency spec for it
 * (`file:flowgate-0.1.0.tgz`). Throws with npm's own message when `npm pack` fails.
 *
 * @example
 * ```ts
 * const spec = packFlowgateInto('/tmp/my-flow'); // 'file:flowgate-0.1.0.tgz'
 * ```
 */
export function packFlowgateInto(dir: string, root = flowgateRoot()): string {
  const r = spawnSync('npm', ['pack', root, '--pack-destination', dir, '--json', '--ignore-scripts'], {
    cwd: dir,
    encoding: 'utf8',
    shell: process.platform === 'win32',
    env: { ...process.env, npm_config_loglevel: 'error' },
  });
  if (r.error || r.status !== 0) {
    const why = r.error?.message ?? (r.stderr.trim() || `npm pack exited ${r.status}`);
    throw new Error(`cannot pack flowgate (${root}) into ${dir}: ${why}`);
  }
  const [packed] = JSON.parse(r.stdout) as { filename: string }[];
  if (!packed) throw new Error(`npm pack wrote nothing for ${root}`);
  return `file:${packed.filename}`;
}
