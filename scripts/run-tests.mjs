#!/usr/bin/env node
// Runs the test suite with node's test runner: unit tests beside the source (src/**/*.test.ts)
// and integration tests on real sockets and processes (test/**/*.test.ts).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const unitOnly = process.argv.includes('--unit');
function find(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}
const files = [...find('src'), ...(unitOnly ? [] : find('test'))].sort();
const extra = process.argv.slice(2).filter((a) => a !== '--unit');
const res = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=120000', ...extra, ...files],
  { stdio: 'inherit' },
);
process.exit(res.status ?? 1);
