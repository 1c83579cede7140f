import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { createLogger, parseLogLevel, type LoggerOptions } from './logger.js';

/** A destination that keeps every line written to it. */
function capture(): { lines: string[]; destination: NonNullable<LoggerOptions['destination']> } {
  const lines: string[] = [];
  return { lines, destination: { write: (s: string) => void lines.push(...s.trimEnd().split('\n')) } };
}

void test('one JSON line per event: level, time, pid, name, msg and the fields', () => {
  const { lines, destination } = capture();
  const log = createLogger('gateway', { level: 'info', destination });
  log.info('started', { ports: [12345, 12346], monitoringPort: 9090 });
  assert.equal(lines.length, 1);
  const line = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.equal(line.level, 'info');
  assert.equal(line.name, 'gateway');
  assert.equal(line.msg, 'started');
  assert.deepEqual(line.ports, [12345, 12346]);
  assert.equal(line.monitoringPort, 9090);
  assert.equal(line.pid, process.pid);
  assert.ok(!Number.isNaN(Date.parse(line.time as string)), `time is ISO 8601: ${String(line.time)}`);
});

void test('events below the level are dropped; the level is read case-insensitively', () => {
  const { lines, destination } = capture();
  const log = createLogger('w', { level: parseLogLevel('WARN'), destination });
  log.debug('d');
  log.info('i');
  log.warn('w');
  log.error('e', { requestId: 'abc' });
  assert.deepEqual(
    lines.map((l) => (JSON.parse(l) as { level: string }).level),
    ['warn', 'error'],
  );
  assert.equal(parseLogLevel('verbose'), undefined);
});

void test('FLOWGATE_LOG_LEVEL sets the level of a process; lines written before exit are not lost', () => {
  const script = [
    "import { createLogger } from './src/core/logger.js';",
    "const log = createLogger('child');",
    "log.info('hidden'); log.warn('shown', { n: 1 }); log.error('last'); process.exit(3);",
  ].join('\n');
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, FLOWGATE_LOG_LEVEL: 'warn', FLOWGATE_LOG_FORMAT: 'json' },
    encoding: 'utf8',
  });
  assert.equal(r.status, 3, r.stderr);
  const lines = r.stderr
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { msg: string; name: string; n?: number });
  assert.deepEqual(
    lines.map((l) => l.msg),
    ['shown', 'last'],
  );
  assert.equal(lines[0]!.name, 'child');
  assert.equal(lines[0]!.n, 1);
});

void test('FLOWGATE_LOG_FORMAT=pretty writes human-readable lines', () => {
  const script =
    "import { createLogger } from './src/core/logger.js'; createLogger('p').info('hello', { a: 1 });";
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, FLOWGATE_LOG_LEVEL: 'info', FLOWGATE_LOG_FORMAT: 'pretty', NO_COLOR: '1' },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /INFO.*\(p\).*hello/);
  assert.throws(() => JSON.parse(r.stderr.split('\n')[0]!));
});
