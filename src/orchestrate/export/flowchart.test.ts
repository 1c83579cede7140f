import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFlowSpec } from '../../config/load.js';
import { renderFlowchart } from './flowchart.js';

const FLOW = [
  'jtype: Flow',
  'with: { name: demo }',
  'gateway: { protocol: [grpc, http], port: [1, 2] }',
  'executors:',
  '  - { name: enc, uses: /abs/path/enc.ts:Enc, replicas: 3 }',
  '  - { name: idx, uses: idx.ts, shards: 2, replicas: 2 }',
  '  - { name: log, uses: docker://me/log, needs: enc, floating: true }',
  '  - { name: after_log, uses: a.ts, needs: log }',
  '  - { name: rank, uses: r.ts, needs: idx, when: { text: { $regex: "<b>&" } } }',
  '  - { name: ext, external: true, host: h, port: 9, needs: [enc] }',
  '  - { name: join, needs: [rank, ext] }',
].join('\n');

function boxes(svg: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of svg.matchAll(/<g class="node ([a-z]+)" data-name="([^"]+)">([\s\S]*?)<\/g>/g))
    out.set(out.has(m[2]!) ? `${m[2]}#2` : m[2]!, `${m[1]} ${m[3]}`);
  return out;
}

function edges(svg: string): string[] {
  return [...svg.matchAll(/<path class="edge" data-from="([^"]+)" data-to="([^"]+)"[^>]*>/g)].map(
    (m) => `${m[1]}->${m[2]}${m[0].includes('stroke-dasharray') ? ' dashed' : ''}`,
  );
}

void test('a box per Executor and the Gateway at both ends; edges for needs', () => {
  const svg = renderFlowchart(parseFlowSpec(FLOW));
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="\d+" height="\d+"/);
  assert.match(svg, /<\/svg>\n$/);
  const b = boxes(svg);
  assert.deepEqual(
    [...b.keys()],
    ['gateway', 'enc', 'idx', 'log', 'after_log', 'rank', 'ext', 'join', 'gateway#2'],
  );
  assert.match(b.get('gateway')!, /grpc:1, http:2/);
  assert.match(b.get('enc')!, /enc\.ts:Enc<\/text>[\s\S]*>x3</);
  assert.doesNotMatch(b.get('enc')!, /abs\/path/);
  assert.match(b.get('idx')!, /^sharded [\s\S]*2 shards x2/);
  assert.match(b.get('ext')!, /^external [\s\S]*external h:9/);
  assert.match(b.get('join')!, /^merge /);
  assert.deepEqual(edges(svg).sort(), [
    'enc->ext',
    'enc->idx',
    'enc->log dashed',
    'ext->join',
    'gateway->enc',
    'idx->rank',
    'join->:response',
    'log->after_log dashed',
    'rank->join',
  ]);
});

void test('floating Executors (and what only they feed) are dashed; when is a label, escaped', () => {
  const svg = renderFlowchart(parseFlowSpec(FLOW));
  const b = boxes(svg);
  assert.match(b.get('log')!, /stroke-dasharray/);
  assert.match(b.get('log')!, /floating/);
  assert.match(b.get('after_log')!, /stroke-dasharray/);
  assert.doesNotMatch(b.get('rank')!, /stroke-dasharray/);
  assert.match(
    svg,
    /class="edge-label"[^>]*>when \{&#34;text&#34;:\{&#34;\$regex&#34;:&#34;&#60;b&#62;&#38;&#34;\}\}</,
  );
  assert.doesNotMatch(svg.replace(/<[^>]*>/g, ''), /[<>]/);
});

void test('layers follow the depth of each Executor; vertical turns the picture', () => {
  const spec = parseFlowSpec(FLOW);
  const x = (svg: string, name: string) =>
    Number(new RegExp(`data-name="${name}">\\s*<rect x="([\\d.]+)" y="([\\d.]+)"`).exec(svg)![1]);
  const y = (svg: string, name: string) =>
    Number(new RegExp(`data-name="${name}">\\s*<rect x="[\\d.]+" y="([\\d.]+)"`).exec(svg)![1]);
  const h = renderFlowchart(spec);
  assert.ok(x(h, 'gateway') < x(h, 'enc') && x(h, 'enc') < x(h, 'idx') && x(h, 'idx') < x(h, 'rank'));
  assert.ok(x(h, 'rank') < x(h, 'join'));
  const v = renderFlowchart(spec, { vertical: true });
  assert.ok(y(v, 'gateway') < y(v, 'enc') && y(v, 'enc') < y(v, 'idx'));
  const size = (svg: string) => /width="(\d+)" height="(\d+)"/.exec(svg)!.slice(1).map(Number);
  assert.ok(size(h)[0]! > size(h)[1]! && size(v)[1]! > size(v)[0]!);
});

void test('an empty Flow is the Gateway answering itself; a broken graph is rejected', () => {
  assert.deepEqual(edges(renderFlowchart(parseFlowSpec('jtype: Flow\n'))), ['gateway->:response']);
  assert.throws(
    () => renderFlowchart(parseFlowSpec('jtype: Flow\nexecutors:\n  - { name: a, needs: nope }\n')),
    /needs 'nope'/,
  );
});
