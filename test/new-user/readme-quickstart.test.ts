/**
 * The README's quick start, followed as a user would: its TypeScript block copied verbatim into
 * main.ts of an empty folder outside the repository (flowgate installed there), run with tsx.
 * Only the fixed port 12345 is swapped for a free one. test/quickstart.test.ts is the same example
 * in-process; this one fails when the README's text itself stops working.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { freePort } from '../../src/serve/gateway-runtime.js';
import { repo, run, userEnv, userFolder } from './user-folder.js';

const tsx = import.meta.resolve('tsx');

void test("the README's quick start runs from an empty folder and prints what it says", async () => {
  const readme = await readFile(`${repo}/README.md`, 'utf8');
  const section = readme.slice(readme.indexOf('## Quick start'));
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  assert.ok(code?.includes("from 'flowgate'"), 'the quick start has a ts block importing flowgate');
  const printed = /console\.log\(docs\.texts\);\s*\/\/ (.*)/.exec(code)?.[1];
  assert.ok(printed, 'the quick start says what it prints');
  const port = await freePort();
  const { dir, remove } = await userFolder({
    'package.json': JSON.stringify({ name: 'my-flow', type: 'module' }),
    'main.ts': code.replaceAll('12345', String(port)),
  });
  try {
    const r = await run(process.execPath, ['--import', tsx, 'main.ts'], dir, {
      env: userEnv({ FLOWGATE_LOG_LEVEL: 'warn' }),
    });
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.trim(), printed.trim());
  } finally {
    await remove();
  }
});
