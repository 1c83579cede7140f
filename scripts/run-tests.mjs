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
// The Executors' and Gateways' info lines (started, stopping...) would bury the test report: only
// warnings and errors are logged, so a failing test still shows what went wrong. Set
// FLOWGATE_LOG_LEVEL=info (or debug) to see everything. A test skipped for a missing tool
// (a browser, podman, root) is counted in the summary (`# skipped`) and says why on its line.
const env = { ...process.env, FLOWGATE_LOG_LEVEL: process.env.FLOWGATE_LOG_LEVEL ?? 'warn' };
const res = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=120000', ...extra, ...files],
  { stdio: 'inherit', env },
);
process.exit(res.status ?? 1);
