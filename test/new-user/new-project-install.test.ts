// `flowgate new my-flow && cd my-flow && npm install && npm test`, as a user types it, in a
// temporary folder outside the repository: the project installs the flowgate that generated it
// (a tarball beside its package.json) and everything else from the npm registry.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { flowgate, run, userEnv, userFolder } from './user-folder.js';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

void test('flowgate new my-flow && npm install && npm test passes, with no flowgate on the registry', async () => {
  // No flowgate linked in: the project must get it from what `flowgate new` wrote.
  const folder = await userFolder({}, { linkFlowgate: false });
  try {
    const made = await flowgate(['new', 'my-flow'], folder.dir);
    assert.equal(made.code, 0, made.err);
    const project = join(folder.dir, 'my-flow');
    const pkg = JSON.parse(await readFile(join(project, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
    };
    assert.match(pkg.devDependencies.flowgate ?? '', /^file:flowgate-\d+\.\d+\.\d+\.tgz$/);
    for (const tool of ['tsx', '@types/node']) assert.ok(pkg.devDependencies[tool], `declares ${tool}`);

    const env = userEnv({ FLOWGATE_LOG_LEVEL: 'warn', npm_config_audit: 'false', npm_config_fund: 'false' });
    const installed = await run(npm, ['install', '--prefer-offline'], project, { env, timeoutMs: 300_000 });
    assert.equal(installed.code, 0, installed.out + installed.err);
    const tested = await run(npm, ['test'], project, { env, timeoutMs: 180_000 });
    assert.equal(tested.code, 0, tested.out + tested.err);
    assert.match(tested.out, /# pass 1\n/);
  } finally {
    await folder.remove();
  }
});
