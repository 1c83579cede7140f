import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FlowgateError } from '../core/errors.js';
import { parseFlowSpec } from '../config/load.js';
import { Flow } from './flow.js';

function rejects(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof FlowgateError, String(err));
    assert.match(err.message, pattern);
    return true;
  });
}

void test("compression: 'brotli' is rejected from code as from YAML", () => {
  rejects(
    () => new Flow().configGateway({ compression: 'brotli' as 'gzip' }),
    /^configGateway\(\): compression in the gateway: must be one of "none", "gzip", "deflate"/,
  );
  rejects(
    () => parseFlowSpec('jtype: Flow\ngateway:\n  compression: brotli\n', 'flow.yml'),
    /^flow\.yml:3:16: gateway\.compression in the gateway: must be one of "none", "gzip", "deflate"/,
  );
});

void test('add() options get the checks of a YAML Executor entry, naming the Executor', () => {
  rejects(
    () => new Flow().add({ name: 'a', uses: 'a.ts', replicas: 0 }),
    /^add\(\): replicas in Executor 'a': expected a whole number >= 1, got the number 0/,
  );
  rejects(() => new Flow().add({ name: 'a', uses: 'a.ts', timeoutSend: -1 }), /timeoutSend in Executor 'a'/);
  rejects(
    () => new Flow().add({ name: 'a', replica: 2 } as never),
    /unknown key 'replica' in Executor 'a': did you mean 'replicas'\?/,
  );
  rejects(() => new Flow().add({ name: 'a', uses: 42 as never }), /uses in Executor 'a'/);
  rejects(() => new Flow().add({ name: 'a', polling: 'SOME' as 'ANY' }), /polling in Executor 'a'/);
});

void test('new Flow() options are checked too', () => {
  rejects(() => new Flow({ timeoutReady: 1.5 }), /^new Flow\(\): timeoutReady in the Flow options/);
});

void test('code-only values pass: an Executor class, a Gateway class, an authenticate function', () => {
  class E {}
  const flow = new Flow()
    .configGateway({ authenticate: () => ({ ok: true }), uses: 'gw.ts:G' })
    .add({ name: 'a', uses: E as never, shards: 2, usesBefore: E as never });
  assert.throws(() => flow.toSpec(), /cannot tell which file defines E/); // accepted, then only unsaveable
});
