// A user's Executor loads whatever their project says it is: CommonJS (`npm init`), no
// package.json, or "type": "module"; .ts, .mts, .cts and .js files. Each case is a fresh folder
// outside the repository, served with the built `flowgate flow --uses flow.yml`.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Client, Document } from '../../src/index.js';
import { freePort } from '../../src/serve/gateway-runtime.js';
import { flowgate, serve, userFolder } from './user-folder.js';

const ESM_TS = `import { Executor, requests, type HandlerArgs } from 'flowgate';
export class Upper extends Executor {
  @requests()
  upper({ docs }: HandlerArgs) {
    for (const d of docs) d.text = (d.text ?? '').toUpperCase();
  }
}
`;
const CJS_TS = `const { Executor, requests } = require('flowgate') as typeof import('flowgate');
class Upper extends Executor {
  @requests()
  upper({ docs }: import('flowgate').HandlerArgs) {
    for (const d of docs) d.text = (d.text ?? '').toUpperCase();
  }
}
module.exports = { Upper };
`;
const body = `class Upper extends Executor {
  upper({ docs }) {
    for (const d of docs) d.text = (d.text ?? '').toUpperCase();
  }
}
requests()(Upper.prototype.upper, { kind: 'method', static: false });
`;
const CJS_JS = `const { Executor, requests } = require('flowgate');\n${body}module.exports = { Upper };\n`;
const ESM_JS = `import { Executor, requests } from 'flowgate';\nexport ${body}`;

const NPM_INIT = JSON.stringify({ name: 'mine', version: '1.0.0', type: 'commonjs' });
const MODULE = JSON.stringify({ name: 'mine', version: '1.0.0', type: 'module' });

const cases: { folder: string; packageJson?: string; file: string; source: string }[] = [
  // `npm init` writes "type": "commonjs"; a .ts file with import/export in it is then CommonJS.
  { folder: 'npm-init-ts', packageJson: NPM_INIT, file: 'upper.ts', source: ESM_TS },
  { folder: 'no-package-ts', file: 'upper.ts', source: ESM_TS },
  { folder: 'module-ts', packageJson: MODULE, file: 'upper.ts', source: ESM_TS },
  { folder: 'npm-init-mts', packageJson: NPM_INIT, file: 'upper.mts', source: ESM_TS },
  { folder: 'module-cts', packageJson: MODULE, file: 'upper.cts', source: CJS_TS },
  { folder: 'npm-init-js', packageJson: NPM_INIT, file: 'upper.js', source: CJS_JS },
  { folder: 'module-js', packageJson: MODULE, file: 'upper.js', source: ESM_JS },
  // Top-level await where the file is ESM.
  {
    folder: 'module-ts-tla',
    packageJson: MODULE,
    file: 'upper.ts',
    source: `await Promise.resolve();\n${ESM_TS}`,
  },
];

/** A Flow YAML chaining one Executor per case, each from its own folder (its own package.json). */
function flowYaml(list: { folder: string; file: string }[]): string {
  const executors = list.map(
    (c) => `  - name: ${c.folder}\n    uses: Upper\n    modules: ${c.folder}/${c.file}\n`,
  );
  return `jtype: Flow\nexecutors:\n${executors.join('')}`;
}

void describe("a user's Executor module, in any module format", () => {
  void test('CommonJS (npm init), no package.json, "type": "module"; .ts .mts .cts .js: flowgate flow serves each', async () => {
    // No package.json at the top: the no-package case must find none above its file.
    const files: Record<string, string> = { 'flow.yml': flowYaml(cases) };
    for (const c of cases) {
      files[`${c.folder}/${c.file}`] = c.source.replace('toUpperCase()', `toUpperCase() + ' ${c.folder}'`);
      if (c.packageJson) files[`${c.folder}/package.json`] = c.packageJson;
    }
    const folder = await userFolder(files);
    const port = await freePort();
    const flow = await serve(['flow', '--uses', 'flow.yml', '--port', String(port)], folder.dir);
    try {
      const client = new Client({ port });
      const docs = await client.post('/', [new Document({ text: 'ada' })]);
      // Each Executor upper-cases and appends its folder: all of them ran, in order.
      const expected = cases.reduce((text, c) => `${text.toUpperCase()} ${c.folder}`, 'ada');
      assert.deepEqual(docs.texts, [expected]);
      await client.close();
    } finally {
      assert.equal(await flow.stop(), 0, flow.log());
      await folder.remove();
    }
  });

  void test('top-level await in a file loaded as CommonJS: the error says what to change', async () => {
    const folder = await userFolder({
      'cjs/package.json': NPM_INIT,
      'cjs/upper.ts': `await Promise.resolve();\n${ESM_TS}`,
      'flow.yml': flowYaml([{ folder: 'cjs', file: 'upper.ts' }]),
    });
    try {
      const r = await flowgate(
        ['flow', '--uses', 'flow.yml', '--port', String(await freePort())],
        folder.dir,
      );
      assert.equal(r.code, 1, r.err);
      assert.match(r.err, /upper\.ts uses top-level await, but it is loaded as CommonJS/);
      assert.match(r.err, /rename it to \.mts .*or set "type": "module" in its package\.json/);
    } finally {
      await folder.remove();
    }
  });
});
