import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import type * as grpc from '@grpc/grpc-js';
import { Document, DocumentArray, Flow, encodeDocs } from '../src/index.js';
import { DataRequest } from '../src/proto/request.js';
import { createJinaClient, duplex } from '../src/transport/grpc/link.js';
import { JinaRPCService } from '../src/transport/grpc/codec.js';
import { Trickle } from './fixtures/topology-replicas.js';

const DOCS = 100_000;
/** 16 KB per document, so that what the Gateway holds shows clearly in its RSS. */
const TEXT = 'x'.repeat(16_000);
const BOUND_MB = 100;

/** The resident memory of a process, in MB (Linux: VmRSS in /proc/<pid>/status). */
async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1]);
  assert.ok(Number.isFinite(kb), `no VmRSS for pid ${pid}`);
  return kb / 1024;
}

/** `JinaRPC/Call` with requests already encoded: the client spends no time encoding. */
const RawCall: grpc.MethodDefinition<Buffer, Buffer> = {
  ...JinaRPCService.Call,
  requestSerialize: (b: Buffer) => b,
  requestDeserialize: (b: Buffer) => b,
  responseSerialize: (b: Buffer) => b,
  responseDeserialize: (b: Buffer) => b,
};

interface Pushed {
  written: number;
  answered: number;
  /** The Gateway's RSS growth over its baseline, at most, in MB. */
  growth: number;
}

/**
 * A client that writes 100,000 one-doc requests to the Gateway as fast as gRPC flow control lets
 * it. The Gateway's RSS is sampled every 100 ms; its baseline is taken `settleMs` into the push (once
 * the Gateway's heap has grown to its working size under this load), and the growth is the largest
 * sample above it. The call is dropped after `maxMs`, or as soon as the growth reaches `stopAboveMb`.
 */
async function push(
  port: number,
  gatewayPid: number,
  options: { settleMs: number; maxMs: number; stopAboveMb?: number },
): Promise<Pushed> {
  const request = Buffer.from(
    DataRequest.create({
      endpoint: '/',
      docsBytes: encodeDocs(new DocumentArray([new Document({ id: 'd', text: TEXT })])),
    }).encode(),
  );
  const out: Pushed = { written: 0, answered: 0, growth: 0 };
  const raw = createJinaClient(`127.0.0.1:${port}`);
  const call = duplex(raw, RawCall);
  let dropped = false;
  const drop = () => {
    if (dropped) return;
    dropped = true;
    call.cancel();
  };
  const ended = new Promise<void>((r) => call.on('status', () => r()));
  call.on('data', () => out.answered++);
  call.on('error', () => undefined);
  const started = Date.now();
  let baseline: number | undefined;
  const timer = setTimeout(drop, options.maxMs);
  const sampler = setInterval(() => {
    rssMb(gatewayPid).then(
      (mb) => {
        if (Date.now() - started < options.settleMs) return;
        baseline ??= mb;
        out.growth = Math.max(out.growth, mb - baseline);
        if (options.stopAboveMb !== undefined && out.growth >= options.stopAboveMb) drop();
      },
      () => undefined,
    );
  }, 100);
  const writable = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        call.off('drain', done);
        call.off('status', done);
        resolve();
      };
      call.on('drain', done);
      call.on('status', done);
    });
  try {
    for (let i = 0; i < DOCS && !dropped; i++) {
      out.written++;
      if (!call.write(request)) await writable();
    }
    if (!dropped) call.end();
    await ended;
  } finally {
    clearTimeout(timer);
    clearInterval(sampler);
    raw.close();
  }
  assert.ok(baseline !== undefined, 'the push ended before the Gateway settled');
  return out;
}

/** A Flow whose one Executor handles a request per millisecond, one at a time: a slow consumer. */
async function withSlowFlow<T>(prefetch: number, body: (flow: Flow) => Promise<T>): Promise<T> {
  const flow = new Flow().configGateway({ prefetch }).add({ name: 'trickle', uses: Trickle });
  await flow.start();
  try {
    return await body(flow);
  } finally {
    // The slow Executor still holds whatever reached it: stop it at once.
    process.kill(flow.pids[0]!, 'SIGKILL');
    await flow.close();
  }
}

void describe('prefetch keeps the Gateway memory flat while a client pushes 100,000 docs into a slow Executor', () => {
  void test(`prefetch 100: the Gateway grows by less than ${BOUND_MB} MB`, async () => {
    const pushed = await withSlowFlow(100, (flow) =>
      push(flow.port, flow.pids.at(-1)!, { settleMs: 2000, maxMs: 8000 }),
    );
    console.log(
      `prefetch 100: Gateway RSS +${pushed.growth.toFixed(1)} MB; ${pushed.written} written, ${pushed.answered} answered`,
    );
    assert.ok(pushed.answered > 1000, 'the Flow kept working');
    assert.ok(pushed.written > pushed.answered, 'the client was ahead of the Flow');
    assert.ok(pushed.growth < BOUND_MB, `the Gateway grew by ${pushed.growth.toFixed(1)} MB`);
  });

  void test('prefetch 0 (unlimited): the same client grows the Gateway past the bound, so the check can fail', async () => {
    const pushed = await withSlowFlow(0, (flow) =>
      push(flow.port, flow.pids.at(-1)!, { settleMs: 2000, maxMs: 16_000, stopAboveMb: BOUND_MB + 50 }),
    );
    console.log(
      `prefetch 0: Gateway RSS +${pushed.growth.toFixed(1)} MB; ${pushed.written} written, ${pushed.answered} answered`,
    );
    assert.ok(pushed.growth >= BOUND_MB, `the Gateway grew by only ${pushed.growth.toFixed(1)} MB`);
  });
});
