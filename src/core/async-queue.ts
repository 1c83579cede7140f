/**
 * An unbounded push/pull queue that is also an async iterable: producers `push()` and `end()` (or
 * `fail()`), one consumer iterates.
 *
 * @example
 * ```ts
 * const q = new AsyncQueue<number>();
 * q.push(1); q.end();
 * for await (const n of q) console.log(n);
 * ```
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private head = 0;
  private waiting: ((r: IteratorResult<T>) => void) | undefined;
  private waitingReject: ((e: Error) => void) | undefined;
  private done = false;
  private error: Error | undefined;
  private failed = false;

  push(item: T): void {
    if (this.done) return;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = this.waitingReject = undefined;
      w({ value: item, done: false });
    } else this.items.push(item);
  }

  end(): void {
    this.done = true;
    if (this.waiting && this.size === 0) {
      const w = this.waiting;
      this.waiting = this.waitingReject = undefined;
      w({ value: undefined, done: true });
    }
  }

  fail(err: unknown): void {
    if (this.done) return;
    this.failed = true;
    this.error = err instanceof Error ? err : new Error(String(err));
    this.done = true;
    if (this.waitingReject) {
      const r = this.waitingReject;
      this.waiting = this.waitingReject = undefined;
      r(this.error);
    }
  }

  get size(): number {
    return this.items.length - this.head;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.size > 0) {
      const value = this.items[this.head]!;
      this.items[this.head++] = undefined as T;
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items.splice(0, this.head);
        this.head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.failed) return Promise.reject(this.error ?? new Error('stream failed'));
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.waitingReject = reject;
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return { next: () => this.next() };
  }
}
