import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FlowStats } from './flow-stats.js';
import { escapeHtml, flowPageHtml } from '../transport/http/server-flow-page.js';

void test('FlowStats counts calls and errors, and takes the percentiles of the durations', () => {
  const stats = new FlowStats({ names: ['b', 'a'] });
  for (let i = 1; i <= 100; i++) stats.record('a', i, i % 10 !== 0);
  const [b, a] = stats.snapshot().executors;
  assert.equal(b?.name, 'b');
  assert.deepEqual(
    { requests: b?.requests, rate: b?.rate, p50: b?.p50Ms, state: b?.state },
    { requests: 0, rate: 0, p50: null, state: 'idle' },
  );
  assert.equal(a?.name, 'a');
  assert.equal(a?.requests, 100);
  assert.equal(a?.errors, 10);
  assert.equal(a?.p50Ms, 50);
  assert.equal(a?.p99Ms, 99);
  // 100 calls at once: counted over at least one second
  assert.ok(a.rate > 0 && a.rate <= 100, `rate ${a.rate}`);
  assert.ok(a.errorRate > 0 && a.errorRate <= 10);
});

void test('FlowStats keeps a bounded ring of durations and tells the health of the replicas', () => {
  const health = {
    a: { total: 2, serving: 2, draining: 0, failing: 0 },
    b: { total: 2, serving: 1, draining: 1, failing: 0 },
    c: { total: 1, serving: 0, draining: 0, failing: 1 },
    d: { total: 1, serving: 0, draining: 0, failing: 0 },
  };
  const stats = new FlowStats({ samples: 16, health: () => health });
  for (let i = 0; i < 1000; i++) stats.record('a', i < 990 ? 1 : 500, true);
  const byName = new Map(stats.snapshot().executors.map((e) => [e.name, e]));
  assert.equal(byName.get('a')?.requests, 1000);
  // only the last 16 durations are kept: 6 of 1 ms, 10 of 500 ms
  assert.equal(byName.get('a')?.p50Ms, 500);
  assert.deepEqual(
    [...byName.values()].map((e) => [e.name, e.state, `${e.replicas.serving}/${e.replicas.total}`]),
    [
      ['a', 'serving', '2/2'],
      ['b', 'degraded', '1/2'],
      ['c', 'down', '0/1'],
      ['d', 'idle', '0/1'],
    ],
  );
});

void test('the /flow page escapes its title and only inlines a plain SVG', () => {
  assert.equal(escapeHtml(`<a href="x">&'`), '&#60;a href=&#34;x&#34;&#62;&#38;&#39;');
  const svg = '<svg xmlns="http://www.w3.org/2000/svg"><g class="node executor" data-name="a"></g></svg>';
  const page = flowPageHtml('<b>t</b>', svg);
  assert.match(page, /<title>&#60;b&#62;t&#60;\/b&#62; · Flow<\/title>/);
  assert.ok(page.includes(svg));
  assert.ok(!page.includes('<b>t</b>'));
  const evil = flowPageHtml('t', '<svg onload="alert(1)"></svg>');
  assert.ok(!evil.includes('alert(1)'));
  assert.match(evil, /No picture of the graph/);
  assert.ok(!/src=|href=|@import|url\(/.test(flowPageHtml('t', undefined)), 'loads nothing from outside');
});
