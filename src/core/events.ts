/** What {@link firstEvent} listens on: any Node EventEmitter (a stream, a gRPC call, a response). */
export interface Listenable {
  once(event: string, listener: () => void): unknown;
  off(event: string, listener: () => void): unknown;
}

/**
 * Resolves on the first of `events` that `emitter` emits, and removes its listeners from all of
 * them. The writers of every stream use it to wait for `drain` or for the other side going away.
 *
 * @example
 * ```ts
 * if (!call.write(item)) await firstEvent(call, 'drain', 'cancelled');
 * ```
 */
export function firstEvent(emitter: Listenable, ...events: string[]): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      for (const e of events) emitter.off(e, done);
      resolve();
    };
    for (const e of events) emitter.once(e, done);
  });
}
