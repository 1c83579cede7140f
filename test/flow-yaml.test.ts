import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { Client, Document, Flow, FlowgateError } from '../src/index.js';
import { Trail } from './fixtures/chain-executors.js';

let dir: string;
const fixture = resolve('test/fixtures/chain-executors.ts');

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flowgate-yaml-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

void test('a Flow loaded from YAML (with env substitution and a relative module) starts and answers', async () => {
  await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n');
  await writeFile(join(dir, 'exec.ts'), `export { Trail } from ${JSON.stringify(fixture)};\n`);
  const path = join(dir, 'flow.yml');
  await writeFile(
    path,
    [
      'jtype: Flow',
      'gateway:',
      '  protocol: grpc',
      'executors:',
      '  - name: first',
      '    uses: Trail',
      '    py_modules: exec.ts',
      '  - name: second',
      '    uses: exec.ts:Trail',
      '    uses_with:',
      '      mark: ${{ ENV.FLOWGATE_TEST_MARK:-default-mark }}',
    ].join('\n'),
  );
  process.env.FLOWGATE_TEST_MARK = 'from-env';
  const flow = await Flow.load(path);
  delete process.env.FLOWGATE_TEST_MARK;
  await flow.start();
  try {
    const client = new Client({ port: flow.port });
    const docs = await client.post('/chain', [new Document({ text: 'x' })]);
    assert.deepEqual(docs[0]!.tags.trail, ['first', 'from-env']);
    await client.close();
  } finally {
    await flow.close();
  }
});

void test('Flow.load rejects a bad key with file, line and key before starting anything', async () => {
  const path = join(dir, 'bad.yml');
  await writeFile(path, 'jtype: Flow\nexecutors:\n  - name: a\n    uses: a.ts\n    replica: 2\n');
  await assert.rejects(Flow.load(path), (err: unknown) => {
    assert.ok(err instanceof FlowgateError);
    assert.match(
      err.message,
      new RegExp(`^${path.replace(/[.]/g, '\\.')}:5:5: unknown key 'replica'.*did you mean 'replicas'`),
    );
    return true;
  });
});

void test('flow.save writes YAML that Flow.load reads back to the same Flow', async () => {
  const flow = new Flow({ timeoutReady: 9000 })
    .configGateway({ protocol: ['grpc', 'http'], port: [0, 0], prefetch: 10 })
    .add({ name: 'a', uses: Trail, usesWith: { mark: 'A' }, replicas: 2 })
    .add({ name: 'b', uses: `${fixture}:Other`, needs: 'gateway' })
    .needs(['a', 'b'], { name: 'join', uses: Trail, noReduce: true });
  const path = join(dir, 'saved.yml');
  await flow.save(path);
  const text = await readFile(path, 'utf8');
  assert.match(text, /with:\n\s+mark: A/);
  assert.match(text, /no_reduce: true/);
  const loaded = await Flow.load(path);
  assert.deepEqual(loaded.toSpec(), flow.toSpec());
  const svgPath = join(dir, 'flow.svg');
  const svg = await flow.plot(svgPath);
  assert.match(svg, /^<svg/);
  for (const name of ['gateway', 'a', 'b', 'join'])
    assert.ok(svg.includes(`>${name}<`), `${name} missing from the SVG`);
  assert.equal(await readFile(svgPath, 'utf8'), svg);
});
