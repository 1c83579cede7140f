import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FlowgateError } from '../core/errors.js';
import { parseFlowSpec, stringifyFlowSpec, validateGatewaySpec } from './load.js';
import { parseYamlSource } from './yaml-source.js';

function rejects(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof FlowgateError, String(err));
    for (const p of patterns) assert.match(err.message, p);
    return true;
  });
}

void test('a Flow YAML with snake_case and camelCase keys, the !Flow tag and with: gateway options', () => {
  const spec = parseFlowSpec(
    [
      '!Flow',
      'version: "1"',
      'with:',
      '  protocol: http',
      '  timeout_ready: 5000',
      'gateway:',
      '  port: 12345',
      '  no_debug_endpoints: true',
      'executors:',
      '  - name: enc',
      '    uses: enc.ts:Encoder',
      '    uses_with: { dim: 3 }',
      '    replicas: 2',
      '  - name: idx',
      '    uses: idx.yml',
      '    needs: enc',
      '    timeoutSend: 100',
      '    env: { A: 1 }',
    ].join('\n'),
    'flow.yml',
  );
  assert.deepEqual(spec.with, { timeoutReady: 5000 });
  assert.deepEqual(spec.gateway, { protocol: 'http', port: 12345, noDebugEndpoints: true });
  assert.equal(spec.version, '1');
  assert.deepEqual(spec.executors[0], {
    name: 'enc',
    uses: 'enc.ts:Encoder',
    usesWith: { dim: 3 },
    replicas: 2,
  });
  assert.deepEqual(spec.executors[1], {
    name: 'idx',
    uses: 'idx.yml',
    needs: 'enc',
    timeoutSend: 100,
    env: { A: 1 },
  });
});

void test('an unknown key is rejected with the file, line, key and a suggestion', () => {
  rejects(
    () => parseFlowSpec('jtype: Flow\nexecutors:\n  - name: a\n    uses: a.ts\n    replica: 2\n', 'flow.yml'),
    /^flow\.yml:5:5: /,
    /unknown key 'replica'/,
    /did you mean 'replicas'/,
  );
  rejects(
    () => parseFlowSpec('jtype: Flow\nexecutor:\n  - uses: a\n', 'f.yml'),
    /f\.yml:2:1/,
    /did you mean 'executors'/,
  );
  rejects(
    () => parseFlowSpec('gateway:\n  protocl: http\n', 'g.yml'),
    /g\.yml:2:3/,
    /'protocl'/,
    /'protocol'/,
  );
});

void test('a wrong type is rejected with the line of the value', () => {
  rejects(
    () => parseFlowSpec('executors:\n  - name: a\n    replicas: two\n', 'flow.yml'),
    /^flow\.yml:3:15: executors\[0\]\.replicas in Executor 'a': expected a whole number >= 1, got the string 'two'$/,
  );
  rejects(
    () => parseFlowSpec('gateway:\n  protocol: [grpc, smtp]\n', 'f.yml'),
    /f\.yml:2:13/,
    /gateway\.protocol/,
  );
  rejects(() => parseFlowSpec('jtype: Executor\n', 'f.yml'), /needs jtype: Flow/);
  rejects(() => parseFlowSpec('executors: [\n', 'f.yml'), /^f\.yml:\d+:\d+: invalid YAML/);
});

void test('${{ ENV.X }} is substituted, typed when whole, with defaults; unset is an error', () => {
  const env = { N: '3', HOST: 'example' };
  const spec = parseFlowSpec(
    'gateway:\n  port: ${{ ENV.PORT:-8080 }}\nexecutors:\n  - name: a\n    replicas: ${{ ENV.N }}\n    uses: ${{ENV.HOST}}/a.ts\n',
    'f.yml',
    env,
  );
  assert.equal(spec.gateway.port, 8080);
  assert.equal(spec.executors[0]!.replicas, 3);
  assert.equal(spec.executors[0]!.uses, 'example/a.ts');
  rejects(
    () => parseFlowSpec('executors:\n  - uses: ${{ ENV.MISSING }}\n', 'f.yml', {}),
    /^f\.yml:2:11: environment variable MISSING is not set/,
  );
});

void test('the same key twice in two spellings is rejected', () => {
  rejects(
    () => parseFlowSpec('executors:\n  - uses_with: {}\n    with: {}\n', 'f.yml'),
    /gives 'usesWith' twice/,
  );
});

void test('options from code are validated with the same messages', () => {
  assert.deepEqual(validateGatewaySpec({ protocol: ['grpc', 'http'], port: [1, 2] }), {
    protocol: ['grpc', 'http'],
    port: [1, 2],
  });
  rejects(() => validateGatewaySpec({ prefetch: -1 }), /^configGateway\(\): prefetch in the gateway/);
});

void test('stringify and parse round-trip', () => {
  const text =
    'jtype: Flow\ngateway:\n  protocol: [grpc, http]\nexecutors:\n  - name: a\n    uses: a.ts:A\n    uses_with: { x: 1 }\n    no_reduce: true\n';
  const spec = parseFlowSpec(text);
  const again = parseFlowSpec(stringifyFlowSpec(spec));
  assert.deepEqual(again, spec);
  assert.match(stringifyFlowSpec(spec), /no_reduce: true/);
  assert.match(stringifyFlowSpec(spec), /with:\n\s+x: 1/);
});

void test('locate points at keys and values', () => {
  const src = parseYamlSource('a:\n  b: [1, 2]\n', 'x.yml');
  assert.equal(src.locate(['a', 'b'], true), 'x.yml:2:3');
  assert.equal(src.locate(['a', 'b', 1]), 'x.yml:2:10');
});

void test('a bad type says what was expected and what was found', () => {
  rejects(
    () => parseFlowSpec('executors:\n  - uses: a.ts\n    replicas: two\n', 'f.yml'),
    /^f\.yml:3:\d+: executors\[0\]\.replicas in Executor #0: expected a whole number >= 1, got the string 'two'$/,
  );
  rejects(
    () => parseFlowSpec('executors:\n  - uses: a.ts\n    replicas: 0\n', 'f.yml'),
    /replicas in Executor #0: expected a whole number >= 1, got the number 0$/,
  );
});

void test('every mistake of a file is reported, each with file:line', () => {
  const yaml = [
    'jtype: Flow', // 1
    'gateway:', // 2
    '  prefetch: many', // 3
    'executors:', // 4
    '  - uses: a.ts', // 5
    '    replicas: two', // 6
    '    replcas: 2', // 7
    '  - uses: b.ts', // 8
    '    shards: 1.5', // 9
  ].join('\n');
  assert.throws(
    () => parseFlowSpec(yaml, 'f.yml'),
    (err: Error) => {
      const lines = err.message.split('\n');
      assert.equal(lines.length, 4, err.message);
      assert.match(
        lines[0]!,
        /^f\.yml:3:\d+: gateway\.prefetch in the gateway: expected a whole number >= 0, got the string 'many'$/,
      );
      assert.match(lines[1]!, /^f\.yml:6:\d+: executors\[0\]\.replicas .*got the string 'two'$/);
      assert.match(lines[2]!, /^f\.yml:7:\d+: unknown key 'replcas' .*did you mean 'replicas'\?/);
      assert.match(
        lines[3]!,
        /^f\.yml:9:\d+: executors\[1\]\.shards .*expected a whole number >= 1, got the number 1\.5$/,
      );
      return true;
    },
  );
});
