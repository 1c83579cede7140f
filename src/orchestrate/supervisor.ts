import { consoleLogger } from '../core/logger.js';
import type { RunningChild } from './child-process.js';

/**
 * What a Flow does when an Executor process exits on its own: `'on-failure'` (the default) starts
 * it again after a non-zero exit code or a signal, `'always'` after any exit, `'never'` leaves it
 * down (its requests then fail with UNAVAILABLE naming the Executor).
 */
export type RestartPolicy = 'on-failure' | 'always' | 'never';

/** Options of {@link supervise}. */
export interface SuperviseOptions {
  policy?: RestartPolicy;
  /** Restarts in a row (without a stable minute in between) before giving up; default 10. */
  maxRestarts?: number;
  /** First back-off delay; doubles on each restart in a row, up to 30 s. Default 500 ms. */
  backoffMs?: number;
  /** Starts the process again (on the same port, so that the Gateway's address stays valid). */
  respawn: () => Promise<RunningChild>;
  /** Called with the new process once it is ready. */
  onRestart: (child: RunningChild) => void;
  /** True once the Flow is closing: exits are then expected. */
  closing: () => boolean;
}

const STABLE_MS = 60_000;
const MAX_BACKOFF_MS = 30_000;

/**
 * Watches an Executor process and restarts it with exponential back-off when it exits on its own
 * (a crash, `process.exit`, an uncaught exception, SIGKILL), according to the restart policy. The
 * count of restarts in a row resets once a process has run for a minute.
 *
 * @example
 * ```ts
 * supervise(child, { respawn: () => spawnRuntime(...), onRestart: (c) => children.push(c), closing: () => false });
 * ```
 */
export function supervise(child: RunningChild, options: SuperviseOptions): void {
  const policy = options.policy ?? 'on-failure';
  if (policy === 'never') return;
  const log = consoleLogger('flow');
  const maxRestarts = options.maxRestarts ?? 10;
  const firstDelay = options.backoffMs ?? 500;
  let inARow = 0;
  /** Schedules the next attempt; a failed attempt counts as one more restart in a row. */
  const restart = (name: string, why: string, tail: () => string) => {
    if (inARow >= maxRestarts) {
      log.error(`${name} ${why} after ${inARow} restarts in a row: giving up`, {
        stderr: tail().trim().split('\n').slice(-5).join('\n'),
      });
      return;
    }
    const delay = Math.min(MAX_BACKOFF_MS, firstDelay * 2 ** inARow);
    inARow++;
    log.warn(`${name} ${why}; restarting in ${delay} ms (restart ${inARow})`);
    const timer = setTimeout(() => {
      if (options.closing()) return;
      options.respawn().then(
        (next) => {
          if (options.closing()) return;
          log.info(`${next.name} restarted on port ${next.ports[0]}`);
          options.onRestart(next);
          watch(next);
        },
        (err: Error) => {
          if (options.closing()) return;
          restart(name, `could not be restarted (${err.message.split('\n')[0]})`, () => '');
        },
      );
    }, delay);
    timer.unref();
  };
  const watch = (c: RunningChild) => {
    const startedAt = Date.now();
    c.process.once('exit', (code, signal) => {
      if (options.closing()) return;
      if (policy === 'on-failure' && code === 0) {
        log.warn(`${c.name} exited cleanly; not restarted (restartPolicy 'on-failure')`);
        return;
      }
      if (Date.now() - startedAt >= STABLE_MS) inARow = 0;
      restart(c.name, `exited (${signal ?? `code ${code}`})`, () => c.stderrTail());
    });
  };
  watch(child);
}
