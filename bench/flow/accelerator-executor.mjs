/**
 * The batching benchmark's Executor (bench/batching.ts): a simulated accelerator whose every call
 * costs a fixed 2 ms plus 20 us per document, busy-waiting (the CPU is held, as a model call holds
 * the device). Plain JavaScript like echo-executor.mjs, decorators applied the way compiled code
 * applies them.
 * Both serve every endpoint (the load generators post to `/`).
 */
const { Executor, requests, dynamicBatching } = await import(
  process.env.FLOWGATE_BENCH_API === 'src' ? '../../src/index.ts' : '../../dist/index.js'
);

/** Per call, ms. */
const FIXED_MS = 2;
/** Per document, ms. */
const PER_DOC_MS = 0.02;

function busyWait(ms) {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

export class Accelerator extends Executor {
  run({ docs }) {
    busyWait(FIXED_MS + PER_DOC_MS * docs.length);
  }
}
requests()(Accelerator.prototype.run, { kind: 'method', static: false, name: 'run' });

export class BatchedAccelerator extends Accelerator {
  run(args) {
    return super.run(args);
  }
}
const ctx = { kind: 'method', static: false, name: 'run' };
dynamicBatching({ preferredBatchSize: 32, timeout: 5 })(BatchedAccelerator.prototype.run, ctx);
requests()(BatchedAccelerator.prototype.run, ctx);
