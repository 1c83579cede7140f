/**
 * The part of an `AbortSignal` the Gateway's call path reads, and a lighter signal for the hot
 * path: a DOM `AbortController` costs an `EventTarget` per request, and each listener on it goes
 * through the DOM event machinery; {@link LightAbort} is a flag and a set of callbacks.
 */

/** What the Gateway's call path needs of a signal; every `AbortSignal` is one. */
export interface AbortLike {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * A cancellation flag with listeners, for one request (or one stream) of a server: abort it when
 * the client goes away; the calls it was given drop their work.
 *
 * @example
 * ```ts
 * const cancel = new LightAbort();
 * call.on('cancelled', () => cancel.abort());
 * await streamer.process(request, { signal: cancel });
 * ```
 */
export class LightAbort implements AbortLike {
  aborted = false;
  private listeners: Set<() => void> | undefined;

  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.aborted) return;
    (this.listeners ??= new Set()).add(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    this.listeners?.delete(listener);
  }

  /** Sets `aborted` and calls every listener once (later aborts do nothing). */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners) for (const l of listeners) l();
  }

  /**
   * A light signal that aborts when `signal` does: one listener on `signal` for a whole stream,
   * instead of one per request. `detach()` removes it.
   */
  static follow(signal: AbortLike | undefined): { light: LightAbort; detach: () => void } {
    const light = new LightAbort();
    if (!signal) return { light, detach: () => undefined };
    if (signal.aborted) {
      light.abort();
      return { light, detach: () => undefined };
    }
    const onAbort = () => light.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    return { light, detach: () => signal.removeEventListener('abort', onAbort) };
  }
}
