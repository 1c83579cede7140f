// A user's script run with tsx from a folder of their own: Flows started one after the other, a
// class defined in the script, a custom Gateway that does not serve, a module that never finishes
// importing. Each either works or fails with a message that says what to change (never a bare
// "exit code 13").
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { freePort } from '../../src/serve/gateway-runtime.js';
import { flowgate, run, userEnv, userFolder } from './user-folder.js';

const tsx = import.meta.resolve('tsx');
const PACKAGE = JSON.stringify({ name: 'mine', type: 'module' });
const EXECUTOR = (name: string, text: string) => `export class ${name} extends Executor {
  @requests()
  run({ docs }: HandlerArgs) {
    for (const d of docs) d.text = '${text}';
  }
}
`;
const IMPORTS = `import { Client, Document, Executor, Flow, requests, type HandlerArgs } from 'flowgate';\n`;
const TWO_FLOWS = `for (const uses of [A, B]) {
  const flow = new Flow().add({ uses });
  await flow.start();
  const client = new Client({ port: flow.port });
  console.log((await client.post('/', [new Document({ text: '' })])).texts.join());
  await client.close();
  await flow.close();
}
`;

/** Runs `node --import tsx main.ts` in `dir`, as `npx tsx main.ts` would. */
const runScript = (dir: string) =>
  run(process.execPath, ['--import', tsx, 'main.ts'], dir, { env: userEnv({ FLOWGATE_LOG_LEVEL: 'warn' }) });

void describe('a script that starts Flows', () => {
  void test('two Flows one after the other, the second using a class defined in the script: the error names the class and the file and says to move it', async () => {
    const folder = await userFolder({
      'package.json': PACKAGE,
      'main.ts': IMPORTS + EXECUTOR('A', 'a') + EXECUTOR('B', 'b') + TWO_FLOWS,
    });
    try {
      const r = await runScript(folder.dir);
      assert.notEqual(r.code, 0);
      assert.equal(r.out, 'a\n'); // the first Flow served
      assert.match(r.err, /B \(Executor\) is defined in .*main\.ts, which this child process imports again/);
      assert.match(r.err, /Move B into its own module and import it into main\.ts/);
      assert.doesNotMatch(r.err, /exited \(code 13\) before/);
    } finally {
      await folder.remove();
    }
  });

  void test('the same with the classes in their own module: both Flows serve', async () => {
    const folder = await userFolder({
      'package.json': PACKAGE,
      'executors.ts': IMPORTS + EXECUTOR('A', 'a') + EXECUTOR('B', 'b'),
      'main.ts': `${IMPORTS}import { A, B } from './executors.ts';\n${TWO_FLOWS}`,
    });
    try {
      const r = await runScript(folder.dir);
      assert.equal(r.code, 0, r.err);
      assert.equal(r.out, 'a\nb\n');
    } finally {
      await folder.remove();
    }
  });

  void test('an Executor module whose top-level await never settles: the error names the file, not just exit code 13', async () => {
    const folder = await userFolder({
      'package.json': PACKAGE,
      'stuck.ts': `${IMPORTS}${EXECUTOR('Stuck', 's')}await new Promise(() => undefined);\n`,
      'flow.yml': 'jtype: Flow\nexecutors:\n  - name: stuck\n    uses: Stuck\n    modules: stuck.ts\n',
    });
    try {
      const r = await flowgate(
        ['flow', '--uses', 'flow.yml', '--port', String(await freePort())],
        folder.dir,
      );
      assert.equal(r.code, 1, r.err);
      assert.match(r.err, /importing .*stuck\.ts never finished: a top-level await in it/);
      assert.match(r.err, /code 13: an await in its start-up never settled/);
    } finally {
      await folder.remove();
    }
  });

  void test('a custom Gateway whose runServer() returns at once: the error says runServer() must serve', async () => {
    const folder = await userFolder({
      'package.json': PACKAGE,
      'gw.ts': `import { Gateway } from 'flowgate';
export class Quick extends Gateway {
  override async setupServer() {}
  override async runServer() {}
  override async shutdown() {}
}
`,
    });
    try {
      const r = await flowgate(
        ['gateway', '--uses', 'gw.ts:Quick', '--port', String(await freePort())],
        folder.dir,
        {
          timeoutMs: 60_000,
        },
      );
      assert.equal(r.code, 1, r.err);
      assert.match(
        r.err,
        /Quick\.runServer\(\) returned, and nothing listens on port \d+: runServer\(\) must start the server/,
      );
    } finally {
      await folder.remove();
    }
  });
});
