import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFlowSpec } from '../../config/load.js';
import { FlowgateError } from '../../core/errors.js';
import { checkObjectNames, containerUses, gatewayPorts, objectName, planExport } from './plan.js';

void test('objectName makes DNS labels of Executor names', () => {
  assert.equal(objectName('encoder'), 'encoder');
  assert.equal(objectName('My_Encoder'), 'my-encoder');
  assert.equal(objectName('9lives'), 'e-9lives');
  assert.equal(objectName('a__b-'), 'a-b');
});

void test('checkObjectNames rejects two Executors that become one object, and too long names', () => {
  assert.throws(
    () =>
      checkObjectNames([
        ['a-b', "Executor 'a_b'"],
        ['a-b', "Executor 'a-b'"],
      ]),
    /Executor 'a-b' and Executor 'a_b' would both be deployed as 'a-b'/,
  );
  assert.throws(() => checkObjectNames([['x'.repeat(64), "Executor 'x'"]]), /63 characters/);
  checkObjectNames([
    ['a', "Executor 'a'"],
    ['a', "Executor 'a'"],
  ]); // the same owner twice is fine
});

void test('containerUses: docker:// images, paths relative to the Flow folder, classes in modules', () => {
  const warnings: string[] = [];
  const o = { image: 'flowgate:1', baseDir: '/flows/demo', what: "Executor 'e'", warnings };
  assert.deepEqual(containerUses('docker://me/enc:2', undefined, o), {
    image: 'me/enc:2',
    uses: 'config.yml',
  });
  assert.deepEqual(containerUses('/flows/demo/exec/enc.ts:Enc', undefined, o), {
    image: 'flowgate:1',
    uses: 'exec/enc.ts:Enc',
  });
  assert.deepEqual(containerUses('enc.yml', undefined, o), { image: 'flowgate:1', uses: 'enc.yml' });
  assert.deepEqual(containerUses('Enc', ['/flows/demo/enc.ts'], o), {
    image: 'flowgate:1',
    uses: 'enc.ts:Enc',
  });
  assert.equal(warnings.length, 0);
  assert.deepEqual(containerUses('/elsewhere/x.ts', undefined, o), {
    image: 'flowgate:1',
    uses: '/elsewhere/x.ts',
  });
  assert.match(warnings[0]!, /outside the Flow's folder/);
  assert.throws(() => containerUses('jinahub://Enc', undefined, o), FlowgateError);
});

void test('gatewayPorts: the Flow ports, 8080, 8081... where none or 0 are given', () => {
  const spec = (gateway: string) => parseFlowSpec(`jtype: Flow\ngateway: ${gateway}\n`);
  assert.deepEqual(gatewayPorts(spec('{}')), { protocols: ['grpc'], ports: [8080] });
  assert.deepEqual(gatewayPorts(spec('{ protocol: [grpc, http], port: [0, 9000] }')), {
    protocols: ['grpc', 'http'],
    ports: [8080, 9000],
  });
  assert.throws(
    () => gatewayPorts(spec('{ protocol: [grpc, http, websocket], port: [1, 2] }')),
    /one port per protocol, or one port for all/,
  );
  // one port for several protocols stays one port
  assert.deepEqual(gatewayPorts(spec('{ protocol: [grpc, http], port: 1 }')), {
    protocols: ['grpc', 'http'],
    ports: [1],
  });
});

void test('planExport sorts Executors into workers, sharded, external and Gateway merges', () => {
  const spec = parseFlowSpec(
    [
      'jtype: Flow',
      'with: { timeout_ready: -1 }',
      'executors:',
      '  - { name: a, uses: a.ts, replicas: 2, env: { N: 1 }, metas: { x: 1 } }',
      '  - { name: b, uses: b.ts, shards: 3, uses_before: pre.ts, polling: ALL }',
      '  - { name: c, external: true, host: h, port: 1 }',
      '  - { name: j, needs: [b, c] }',
    ].join('\n'),
  );
  const plan = planExport(spec, { image: 'img:1', logLevel: 'debug' });
  assert.deepEqual(
    plan.executors.map((e) => e.kind),
    ['worker', 'sharded', 'external', 'merge'],
  );
  const [a, b] = plan.executors;
  assert.ok(a?.kind === 'worker' && b?.kind === 'sharded');
  assert.deepEqual(a.env, { FLOWGATE_LOG_LEVEL: 'debug', N: '1' });
  assert.equal(a.replicas, 2);
  assert.deepEqual(b.usesBefore, { image: 'img:1', uses: 'pre.ts' });
  assert.equal(b.shards, 3);
  assert.equal(plan.timeoutReadySeconds, 600);
  assert.match(plan.warnings.join('\n'), /metas are not passed/);
  assert.throws(
    () => planExport(parseFlowSpec('jtype: Flow\nexecutors:\n  - { name: a, uses: a.ts, needs: zz }\n')),
    /needs 'zz', which is not in the Flow/,
  );
});
