/** A Flow YAML with several mistakes, run as a user runs it: every mistake printed with file:line. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flowgate, userFolder } from './user-folder.js';

void test('flowgate flow reports every mistake of the YAML, each with file:line, expected and found', async () => {
  const yaml = [
    'jtype: Flow',
    'executors:',
    '  - uses: a.ts',
    '    replicas: two',
    '  - uses: b.ts',
    '    shards: 0',
    '',
  ];
  const { dir, remove } = await userFolder({ 'flow.yml': yaml.join('\n') }, { linkFlowgate: false });
  try {
    const r = await flowgate(['flow', '--uses', 'flow.yml'], dir);
    assert.equal(r.code, 1);
    assert.deepEqual(r.err.trimEnd().split('\n'), [
      "flowgate: flow.yml:4:15: executors[0].replicas in Executor #0: expected a whole number >= 1, got the string 'two'",
      'flow.yml:6:13: executors[1].shards in Executor #1: expected a whole number >= 1, got the number 0',
    ]);
  } finally {
    await remove();
  }
});
