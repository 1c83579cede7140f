/** The parent's side of the Node load generator worker (bench/load/worker.ts). */
import type { ChildProcess } from 'node:child_process';
import { benchFile, startChild, type BenchChild } from '../child.js';
import type { ProcWatch, ProcWindow } from '../proc.js';
import type { LoadResult } from './stats.js';
import type { LoadJob, WorkerMessage } from './worker.js';

/** How one load run ended. */
export type LoadOutcome =
  | { status: 'ok'; result: LoadResult; server: ProcWindow }
  | { status: 'n/a'; reason: string }
  | { status: 'failed'; message: string };

/** One long-lived load generator process that runs jobs one after another. */
export class NodeLoad {
  private constructor(private readonly child: BenchChild) {}

  static async start(): Promise<NodeLoad> {
    return new NodeLoad(await startChild(benchFile('./load/worker.ts')));
  }

  get pid(): number {
    return this.child.pid;
  }

  /** Runs `job`; `watch` (the server's CPU/memory) is started and stopped at the window's edges. */
  run(job: LoadJob, watch?: ProcWatch): Promise<LoadOutcome> {
    const proc: ChildProcess = this.child.process;
    return new Promise((resolve) => {
      const onExit = () => done({ status: 'failed', message: 'the load generator process died' });
      const onMessage = (m: WorkerMessage) => {
        if (m.type === 'window') {
          if (m.edge === 'start') watch?.start();
          else window = watch?.stop();
        } else if (m.type === 'result') {
          done({
            status: 'ok',
            result: m.result,
            server: window ?? { cpuMs: undefined, peakRssMb: undefined },
          });
        } else if (m.type === 'unavailable') done({ status: 'n/a', reason: m.reason });
        else if (m.type === 'failed') done({ status: 'failed', message: m.message });
      };
      let window: ProcWindow | undefined;
      const done = (o: LoadOutcome) => {
        proc.off('message', onMessage);
        proc.off('exit', onExit);
        resolve(o);
      };
      proc.on('message', onMessage);
      proc.once('exit', onExit);
      proc.send({ type: 'run', job });
    });
  }

  stop(): Promise<void> {
    return this.child.stop();
  }
}
