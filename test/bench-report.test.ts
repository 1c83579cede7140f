/**
 * The benchmark's arithmetic (issue 22): the ratio columns, the targets' verdicts and the CPU
 * profile summary, on made-up cells (no servers: the benchmark itself runs in CI as
 * `npm run bench -- --quick`).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Cell } from '../bench/measure.js';
import { topSelfTime } from '../bench/profile.js';
import { addRatios, evaluateTargets, type TargetInputs } from '../bench/report.js';

const cell = (over: Partial<Cell>): Cell => ({
  group: 'flowgate',
  protocol: 'grpc',
  loadgen: 'external',
  payload: 'text1',
  concurrency: 64,
  status: 'ok',
  ...over,
});

const inputs = (over: Partial<TargetInputs> = {}): TargetInputs => ({
  tp: { cells: [], idleRssMb: {}, startMs: {}, unavailable: {}, memory: [] },
  flow: { startMs: {}, chainP50Ms: {}, addedPerExecutorMs: 0.2, chainCells: [], failures: [] },
  peer: { status: 'ok', concurrency: 64, roundsPerSide: 1 },
  memoryMb: 16,
  ...over,
});

void test('addRatios: CPU x raw from the raw forwarder of the same body; the Client x its Gateway under the load generator', () => {
  const cells = [
    cell({ group: 'raw-forwarder', protocol: 'http', body: 'json', reqPerS: 1000, cpuUsPerReq: 100 }),
    cell({ group: 'raw-forwarder', protocol: 'http', body: 'protobuf', reqPerS: 2000, cpuUsPerReq: 50 }),
    cell({ protocol: 'http', body: 'json', reqPerS: 900, cpuUsPerReq: 120 }),
    cell({ protocol: 'http', body: 'protobuf', reqPerS: 1000, cpuUsPerReq: 100 }),
    cell({ protocol: 'http', body: 'json', loadgen: 'client', reqPerS: 800, cpuUsPerReq: 400 }),
  ];
  addRatios(cells);
  assert.equal(cells[2]!.cpuXRaw, 1.2);
  assert.equal(cells[2]!.vsRaw?.reqPerS, 0.9);
  assert.equal(cells[3]!.cpuXRaw, 2);
  assert.equal(cells[3]!.vsRaw?.reqPerS, 0.5);
  // The Client is judged against the protobuf row (it ran), and has no CPU x raw.
  assert.equal(cells[4]!.vsLoadgen, 0.8);
  assert.equal(cells[4]!.cpuXRaw, undefined);
});

void test('evaluateTargets: every target of issue 22 is listed, with PASS, MISS or n/a and why', () => {
  const cells = [
    cell({ group: 'raw-forwarder', payload: 'tensor1m', reqPerS: 60, mbPerS: 62.5 }),
    cell({ payload: 'tensor1m', reqPerS: 50, mbPerS: 52, vsRaw: { reqPerS: 50 / 60 } }),
    cell({ cpuXRaw: 1.1, vsRaw: { reqPerS: 0.9 }, peakRssMb: 120 }),
    cell({ protocol: 'http', body: 'protobuf', payload: 'tensor1m', status: 'n/a', reason: '415' }),
  ];
  const t = evaluateTargets(
    cells,
    inputs({
      peer: {
        status: 'ok',
        concurrency: 64,
        roundsPerSide: 2,
        flowgate: { name: 'flowgate', rounds: [], reqPerS: 14000, frontCpuUsPerReq: 60 },
        moleculer: { name: 'moleculer', rounds: [], reqPerS: 10000, frontCpuUsPerReq: 70 },
      },
      tp: {
        cells,
        idleRssMb: { 'flowgate:grpc': 85 },
        startMs: {},
        unavailable: {},
        memory: [{ protocol: 'grpc', status: 'ok', requestMb: 16, riseMb: 40 }],
      },
    }),
  );
  const get = (name: string) => {
    const found = t.find((x) => x.name === name);
    assert.ok(found, `no target '${name}' in ${t.map((x) => x.name).join('; ')}`);
    return found;
  };
  assert.equal(get('peer: flowgate HTTP Gateway + Executor req/s x Moleculer').status, 'PASS');
  assert.equal(get('peer: flowgate Gateway CPU us/req x Moleculer gateway').status, 'PASS');
  assert.equal(get('gRPC 1 doc c64: Gateway CPU x raw forwarder').status, 'PASS');
  assert.equal(get('gRPC 1 doc c64: req/s x raw forwarder').status, 'PASS');
  assert.equal(get('gRPC 100 docs c64: Gateway CPU x raw forwarder').status, 'n/a');
  assert.equal(get('gRPC 1 MiB tensor c64 MB/s x raw forwarder').status, 'PASS');
  const mbs = get('gRPC 1 MiB tensor c64 MB/s');
  assert.equal(mbs.status, 'n/a');
  assert.match(mbs.note ?? '', /raw below 250/);
  const pb = get('HTTP (protobuf) 1 MiB tensor c64 MB/s x gRPC Gateway');
  assert.equal(pb.status, 'n/a');
  assert.match(pb.note ?? '', /not available/);
  assert.equal(get('gRPC RSS rise for one 16 MB request').limit, 48);
  assert.equal(get('gRPC RSS rise for one 16 MB request').status, 'PASS');
  assert.equal(get('gRPC Gateway peak RSS, c64, 1-doc requests').status, 'PASS');
  assert.equal(get('gRPC Gateway idle RSS').status, 'MISS');
  const chain = get('added p50 per extra Executor in a chain (c1)');
  assert.equal(chain.limit, 0.25);
  assert.equal(chain.status, 'PASS');
  assert.equal(get('gRPC Client c64 req/s x load generator').status, 'n/a');
});

void test('evaluateTargets: a failed peer section leaves its targets n/a with the reason', () => {
  const t = evaluateTargets(
    [],
    inputs({ peer: { status: 'failed', reason: 'no broker', concurrency: 64, roundsPerSide: 1 } }),
  );
  const peer = t.filter((x) => x.name.startsWith('peer:'));
  assert.equal(peer.length, 2);
  for (const x of peer) {
    assert.equal(x.status, 'n/a');
    assert.match(x.note ?? '', /no broker/);
  }
});

void test('topSelfTime: sums self time per function over the samples, biggest first', () => {
  const frame = (functionName: string, lineNumber: number) => ({
    functionName,
    url: 'file:///app/node_modules/lib/x.js',
    lineNumber,
  });
  const text = topSelfTime(
    {
      nodes: [
        { id: 1, callFrame: frame('a', 9) },
        { id: 2, callFrame: frame('b', 19) },
        { id: 3, callFrame: frame('a', 9) },
      ],
      samples: [1, 2, 3, 2, 2],
      timeDeltas: [1000, 2000, 1000, 2000, 2000],
    },
    2,
  );
  const lines = text.split('\n');
  assert.match(lines[0]!, /total sampled 8 ms/);
  assert.match(lines[1]!, /6\.0 ms\s+75\.0%\s+b lib\/x\.js:20/);
  assert.match(lines[2]!, /2\.0 ms\s+25\.0%\s+a lib\/x\.js:10/);
  assert.equal(lines.length, 3);
});
