/**
 * The flowgate API the benchmark drives: the compiled `dist/` when it is at least as new as every
 * file in `src/` (what `npm run bench` builds first, and what users run), else `src/` through tsx.
 * `FLOWGATE_BENCH_API=src|dist` forces one. The benchmark's Executor module imports this file too,
 * so the Flow and the Executor share one copy of the library in every process.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as FlowgateApi from '../src/index.js';

type Api = typeof FlowgateApi;

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function newestMtime(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    newest = Math.max(newest, s.isDirectory() ? newestMtime(p) : name.endsWith('.ts') ? s.mtimeMs : 0);
  }
  return newest;
}

function pickApi(): 'src' | 'dist' {
  const forced = process.env.FLOWGATE_BENCH_API;
  if (forced === 'src' || forced === 'dist') return forced;
  const dist = join(ROOT, 'dist/index.js');
  if (!existsSync(dist)) return 'src';
  return statSync(dist).mtimeMs >= newestMtime(join(ROOT, 'src')) ? 'dist' : 'src';
}

/** Which copy of flowgate this process loaded. */
export const apiSource = pickApi();
// Children inherit the choice, so the Executor module loads the same copy as the Flow's runtime.
process.env.FLOWGATE_BENCH_API = apiSource;

/** The public API (`src/index.ts`), from `dist/` or `src/`. */
export const api = (await import(
  pathToFileURL(join(ROOT, apiSource === 'dist' ? 'dist/index.js' : 'src/index.ts')).href
)) as Api;

/**
 * In dist mode, Flows started from this process spawn their Gateway and Executors without the
 * `--import tsx` this process runs under (a Flow passes its own `execArgv` on): that is how a
 * compiled application runs, and tsx costs each process ~30 MB of RSS. The benchmark's Executor
 * module is TypeScript; the Executor process registers tsx itself when it loads it.
 */
export function dropTsxForFlowChildren(): void {
  if (apiSource !== 'dist') return;
  const argv = process.execArgv;
  for (let i = argv.length - 1; i >= 0; i--) {
    const a = argv[i]!;
    if (/^--(import|loader|require)=.*tsx/.test(a)) argv.splice(i, 1);
    else if (/^--(import|loader|require)$/.test(a) && /tsx/.test(argv[i + 1] ?? '')) argv.splice(i, 2);
  }
}
