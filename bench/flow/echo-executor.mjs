/**
 * The benchmark's trivial Executor as a compiled application ships it: plain JavaScript importing
 * the compiled flowgate, so that its process loads no TypeScript loader (tsx costs each process
 * ~0.35 s and ~15 MB). The same Executor as `echo-executor.ts` (used when the benchmark runs
 * flowgate from src/), with the `@requests()` decorator applied the way compiled code applies it.
 */
const { Executor, requests } = await import(
  process.env.FLOWGATE_BENCH_API === 'src' ? '../../src/index.ts' : '../../dist/index.js'
);

export class EchoExecutor extends Executor {
  echo({ docs }) {
    return docs;
  }
}
requests()(EchoExecutor.prototype.echo, { kind: 'method', static: false, name: 'echo' });
