import assert from 'node:assert/strict';
import { test } from 'node:test';
import { childNodeArgs, withoutTsx } from './child-argv.js';
import { childV8Flags } from './child-v8-flags.js';

void test('withoutTsx drops every way of loading tsx, and only those', () => {
  const argv = [
    '--import',
    'tsx',
    '--import=tsx/esm',
    '--loader',
    '/app/node_modules/tsx/dist/loader.mjs',
    '--require',
    './otel.cjs',
    '--import=./setup.mjs',
    '--max-old-space-size=512',
    '--enable-source-maps',
  ];
  assert.deepEqual(withoutTsx(argv), {
    argv: [
      '--require',
      './otel.cjs',
      '--import=./setup.mjs',
      '--max-old-space-size=512',
      '--enable-source-maps',
    ],
    removed: true,
  });
  assert.deepEqual(withoutTsx(['--import', './tsxish.mjs']), {
    argv: ['--import', './tsxish.mjs'],
    removed: false,
  });
});

void test('childNodeArgs: a Gateway or head of the compiled entry starts without tsx, deferred; an Executor keeps it', () => {
  const parentExecArgv = ['--import', 'tsx', '--enable-source-maps'];
  for (const role of ['gateway', 'head'] as const) {
    assert.deepEqual(childNodeArgs({ role, entryNeedsTsx: false, parentExecArgv }), {
      execArgv: ['--enable-source-maps'],
      env: { FLOWGATE_TSX_DEFERRED: '1' },
    });
  }
  assert.deepEqual(childNodeArgs({ role: 'executor', entryNeedsTsx: false, parentExecArgv }), {
    execArgv: parentExecArgv,
    env: {},
  });
  // Without tsx in the parent: nothing to defer.
  assert.deepEqual(childNodeArgs({ role: 'gateway', entryNeedsTsx: false, parentExecArgv: [] }), {
    execArgv: [],
    env: {},
  });
  // From the sources the entry is TypeScript: tsx is needed (added when the parent lacks it).
  assert.deepEqual(childNodeArgs({ role: 'gateway', entryNeedsTsx: true, parentExecArgv: [] }).execArgv, [
    '--import',
    'tsx',
  ]);
  // V8 flags come first, so that the parent's own flags win.
  assert.deepEqual(
    childNodeArgs({
      role: 'gateway',
      entryNeedsTsx: false,
      parentExecArgv: [],
      v8Flags: ['--max-semi-space-size=1'],
    }).execArgv,
    ['--max-semi-space-size=1'],
  );
});

void test('childV8Flags: none by default, FLOWGATE_CHILD_V8_FLAGS replaces them', () => {
  assert.deepEqual(childV8Flags('gateway', {}), []);
  assert.deepEqual(
    childV8Flags('executor', { FLOWGATE_CHILD_V8_FLAGS: ' --max-semi-space-size=1  --jitless ' }),
    ['--max-semi-space-size=1', '--jitless'],
  );
  assert.deepEqual(childV8Flags('gateway', { FLOWGATE_CHILD_V8_FLAGS: '' }), []);
});
