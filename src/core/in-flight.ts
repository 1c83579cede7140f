/**
 * The one "limit in flight, restore order" loop: the Client's HTTP transport, the Gateway's
 * streamer and the Executor map (`this.executor['name'].post`) all map their requests through
 * {@link mapInFlight}, with the one default {@link DEFAULT_PREFETCH} (the original's `prefetch`).
 */
import { setMaxListeners } from 'node:events';

/**
 * Requests in flight at once when no `prefetch` is given: 1000, as the original Gateway and Client
 * (`prefetch=1000`, where `0` means unlimited).
 */
export const DEFAULT_PREFETCH = 1000;

/**
 * The in-flight limit a `prefetch` value means: `undefined` -> {@link DEFAULT_PREFETCH}, `0` (or
 * less) -> unlimited (`Infinity`), `n` -> `n`.
 *
 * @example
 * ```ts
 * inFlightLimit(undefined); // 1000
 * inFlightLimit(0); // Infinity
 * ```
 */
export function inFlightLimit(prefetch: number | undefined, fallback = DEFAULT_PREFETCH): number {
  const n = prefetch ?? fallback;
  return n > 0 ? n : Infinity;
}

/** Options of {@link mapInFlight}. */
export interface InFlightOptions {
  /** At most this many calls of `fn` unsettled at once (see {@link inFlightLimit}); default 1000. */
  limit?: number;
  /** Yield results in source order instead of completion order. */
  ordered?: boolean;
  /** Stops the loop: the calls in flight are cancelled and the iteration throws `abortError()`. */
  signal?: AbortSignal;
  /** What an aborted `signal` throws; default `signal.reason`. */
  abortError?: () => unknown;
}

/**
 * Maps `source` through the async `fn`, at most `limit` calls in flight: while at the limit the
 * source is not read (back-pressure), so a fast producer cannot fill memory. Results are yielded as
 * they complete, or in source order with `ordered`. The first failure of `fn` or of the source ends
 * the iteration with that error; it, a consumer that stops early and an aborted `signal` all abort
 * the signal every call of `fn` got (cancelling what is still in flight) and close the source.
 *
 * @example
 * ```ts
 * for await (const res of mapInFlight(requests, (req, _i, signal) => send(req, signal), { limit: 16, ordered: true })) {
 *   console.log(res);
 * }
 * ```
 */
export async function* mapInFlight<T, R>(
  source: AsyncIterable<T> | Iterable<T>,
  fn: (item: T, index: number, signal: AbortSignal) => Promise<R>,
  options: InFlightOptions = {},
): AsyncGenerator<R> {
  const limit = options.limit === undefined ? DEFAULT_PREFETCH : options.limit > 0 ? options.limit : Infinity;
  const it =
    Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : toAsync(source[Symbol.iterator]());
  const abort = new AbortController();
  // Every call in flight may listen to it: up to `limit` listeners, not a leak.
  setMaxListeners(0, abort.signal);
  let failure: { err: unknown } | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const onAbort = () => {
    failure ??= { err: options.abortError ? options.abortError() : options.signal?.reason };
    abort.abort();
    notify();
  };
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });

  const ready = new Map<number, R>(); // ordered: completed results by index
  const completed: R[] = []; // unordered: completed results, oldest first
  let head = 0; // next result of `completed` to yield
  let seq = 0;
  let nextOut = 0;
  let inFlight = 0;
  let sourceDone = false;
  let pulling = false;

  const launch = (item: T) => {
    const idx = seq++;
    inFlight++;
    let p: Promise<R>;
    try {
      p = fn(item, idx, abort.signal);
    } catch (err) {
      p = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    // One reaction per call (a `.finally` would add a second promise per call).
    p.then(
      (v) => {
        if (options.ordered) ready.set(idx, v);
        else completed.push(v);
        inFlight--;
        notify();
      },
      (err: unknown) => {
        failure ??= { err };
        abort.abort();
        inFlight--;
        notify();
      },
    );
  };
  const pull = () => {
    pulling = true;
    it.next().then(
      (r) => {
        pulling = false;
        if (r.done) sourceDone = true;
        else if (!abort.signal.aborted) launch(r.value);
        notify();
      },
      (err: unknown) => {
        pulling = false;
        sourceDone = true;
        failure ??= { err };
        abort.abort();
        notify();
      },
    );
  };

  try {
    for (;;) {
      if (failure) throw failure.err;
      if (options.ordered) {
        if (ready.has(nextOut)) {
          const v = ready.get(nextOut)!;
          ready.delete(nextOut++);
          yield v;
          continue;
        }
      } else if (head < completed.length) {
        const v = completed[head]!;
        completed[head++] = undefined as R; // let it be collected
        if (head > 1024 && head * 2 > completed.length) {
          completed.splice(0, head);
          head = 0;
        }
        yield v;
        continue;
      }
      if (sourceDone && !pulling && inFlight === 0) return;
      if (!sourceDone && !pulling && inFlight < limit) pull();
      // Every change above is made by a callback, which runs after this line: no wake-up is lost.
      await new Promise<void>((r) => (wake = r));
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    abort.abort();
    if (!sourceDone) {
      const closed = it.return?.();
      // A source still producing its next item would hold this up: do not wait for it then.
      if (pulling) void closed?.catch(() => undefined);
      else await closed?.catch(() => undefined);
    }
  }
}

function toAsync<T>(it: Iterator<T>): AsyncIterator<T> {
  return {
    next: () => {
      try {
        return Promise.resolve(it.next());
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    },
    return: () => Promise.resolve(it.return?.() ?? { value: undefined, done: true as const }),
  };
}
