/**
 * Many posts on one connection: the Client's WebSocket and its gRPC `Call` stream carry the requests
 * of every concurrent `post()` at once, and each response goes back to the post that sent its
 * request id. A {@link ClientMux} is one such connection's bookkeeping; the protocol part (the
 * socket, the stream) is a {@link MuxLink}.
 */
import { AsyncQueue } from '../../core/async-queue.js';
import { Code, FlowgateError } from '../../core/errors.js';
import { inFlightLimit } from '../../core/in-flight.js';
import type { DataRequest } from '../../proto/request.js';
import type { TransportCallOptions } from './client-transport.js';

/** The protocol side of a {@link ClientMux}: how requests leave, and what holds the process. */
export interface MuxLink {
  /** Sends one request; returns a promise when the send buffer is full (go on once it resolves). */
  send(req: DataRequest): Promise<void> | undefined;
  /** Ends the connection (the posts on it have been failed or are done). */
  close(): void;
  /** `true` when the first post starts, `false` when the last one ends (e.g. ref / unref a socket). */
  busy?(busy: boolean): void;
}

/**
 * Requests already in memory (what `post()` builds from an array): sent at once, without the
 * asynchronous read of an `AsyncIterable`. Any transport may still iterate it asynchronously.
 *
 * @example
 * ```ts
 * transport.stream(new RequestList([req]), {});
 * ```
 */
export class RequestList implements AsyncIterable<DataRequest> {
  constructor(readonly items: readonly DataRequest[]) {}

  async *[Symbol.asyncIterator](): AsyncIterator<DataRequest> {
    yield* this.items;
  }
}

/** What waits for answers on a mux: a post of many requests, or one request. */
interface Waiter {
  receive(res: DataRequest): void;
  fail(err: unknown): void;
}

/** One request waiting for its answer (see {@link ClientMux.request}). */
class OneRequest implements Waiter {
  resolve!: (res: DataRequest) => void;
  reject!: (err: unknown) => void;
  readonly answer = new Promise<DataRequest>((resolve, reject) => {
    this.resolve = resolve;
    this.reject = reject;
  });

  receive(res: DataRequest): void {
    this.resolve(res);
  }

  fail(err: unknown): void {
    this.reject(err);
  }
}

/** One post on a mux: its responses, its window, its order. */
class MuxPost implements Waiter {
  readonly out = new AsyncQueue<DataRequest>();
  /** Requests sent and not answered. */
  inFlight = 0;
  /** All requests are sent. */
  inputDone = false;
  /** The caller stopped (done, failed, returned early): late answers are dropped. */
  finished = false;
  /** Send order of each request id, and answers held back, with `resultsInOrder`. */
  readonly order: Map<string, number> | undefined;
  private readonly held = new Map<number, DataRequest>();
  private nextOut = 0;
  sent = 0;
  /** The writer waiting for a free place in the window. */
  wake: (() => void) | undefined;

  constructor(inOrder: boolean | undefined) {
    this.order = inOrder ? new Map() : undefined;
  }

  receive(res: DataRequest): void {
    this.inFlight--;
    if (!this.order) this.out.push(res);
    else {
      this.held.set(this.order.get(res.requestId)!, res);
      this.order.delete(res.requestId);
      while (this.held.has(this.nextOut)) {
        this.out.push(this.held.get(this.nextOut)!);
        this.held.delete(this.nextOut++);
      }
    }
    this.wakeWriter();
    this.endIfDone();
  }

  endIfDone(): void {
    if (this.inputDone && this.inFlight === 0) this.out.end();
  }

  wakeWriter(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  fail(err: unknown): void {
    this.out.fail(err);
    this.wakeWriter();
  }
}

/**
 * The bookkeeping of one connection shared by concurrent posts: request id -> post, each post's
 * in-flight window (`prefetch`), order (`resultsInOrder`) and deadline (`timeoutMs`, on the client
 * side). The connection failing fails every post on it with that error; answers to a post that
 * stopped early are dropped. A failed mux stays failed: the transport opens a new one.
 *
 * @example
 * ```ts
 * const mux = new ClientMux('the socket to ws://127.0.0.1:1234/', ready);
 * mux.attach(link);                        // socket.on('message', (f) => mux.deliver(decode(f)))
 * for await (const res of mux.stream(requests, {})) console.log(res.requestId);
 * ```
 */
export class ClientMux {
  private readonly waiting = new Map<string, Waiter>();
  private readonly dropped = new Set<string>();
  private readonly active = new Set<Waiter>();
  private isOpen = false;
  private draining = false;
  private link: MuxLink | undefined;
  private failure: Error | undefined;
  /** `ready`, or the mux's failure if that comes first. */
  private readonly opened: Promise<void>;
  private rejectOpened: ((err: Error) => void) | undefined;

  /**
   * @param what names the connection in errors (`the stream to ws://...`).
   * @param ready resolves once the connection is open; rejecting fails the mux.
   */
  constructor(
    readonly what: string,
    ready: Promise<void>,
  ) {
    this.opened = new Promise<void>((resolve, reject) => {
      this.rejectOpened = reject;
      ready.then(
        () => {
          this.isOpen = true;
          resolve();
        },
        (err: unknown) => this.fail(err),
      );
    });
    this.opened.catch(() => undefined);
  }

  /** Sets the protocol side (once the socket or stream exists). */
  attach(link: MuxLink): void {
    this.link = link;
  }

  /** True once the connection failed or was closed: new posts need a new mux. */
  get failed(): boolean {
    return this.failure !== undefined || this.draining;
  }

  /** Posts in progress on this connection. */
  get posts(): number {
    return this.active.size;
  }

  /** Requests sent and not yet answered, over every post. */
  get unanswered(): number {
    return this.waiting.size;
  }

  /**
   * Closes the connection: posts still on it fail with `reason` (default: CANCELLED, the
   * connection was closed); new posts need a new mux.
   */
  close(reason?: Error): void {
    this.fail(reason ?? new FlowgateError(Code.Cancelled, `${this.what} was closed`));
  }

  /**
   * Takes no new post; once the posts on it are done, closes the connection (as `close()`).
   * The posts in flight finish normally.
   */
  drain(): void {
    this.draining = true;
    if (this.active.size === 0) this.close();
  }

  /** A response from the connection: goes to the post that sent its request id. */
  deliver(res: DataRequest): void {
    const post = this.waiting.get(res.requestId);
    if (post === undefined) {
      if (this.dropped.delete(res.requestId)) return;
      this.fail(unexpectedResponse(res));
      return;
    }
    this.waiting.delete(res.requestId);
    post.receive(res);
  }

  /** The connection failed (or was closed): every post on it fails with `err`; the link is closed. */
  fail(err: unknown): void {
    if (this.failure) return;
    this.failure = err instanceof Error ? err : new Error(String(err));
    this.rejectOpened?.(this.failure);
    for (const post of this.active) post.fail(this.failure);
    this.link?.close(); // before the map is cleared: the link may look at `unanswered`
    this.waiting.clear();
    this.dropped.clear();
  }

  /**
   * Sends `requests` (at most `prefetch` unanswered) and yields their responses, in completion
   * order or, with `resultsInOrder`, in send order. Rejects with the connection's error, or
   * DEADLINE_EXCEEDED after `timeoutMs`.
   */
  async *stream(
    requests: AsyncIterable<DataRequest>,
    options: TransportCallOptions,
  ): AsyncGenerator<DataRequest> {
    this.throwIfFailed();
    const post = new MuxPost(options.resultsInOrder);
    this.active.add(post);
    if (this.active.size === 1) this.link?.busy?.(true);
    let expire: ((err: Error) => void) | undefined;
    const timer = this.deadline(options, (err) => {
      post.fail(err);
      expire?.(err);
    });
    try {
      // A deadline ends the wait for the connection too.
      if (timer === undefined) await this.opened;
      else await Promise.race([this.opened, new Promise<never>((_, reject) => (expire = reject))]);
      if (this.failure) throw this.failure; // e.g. close() while the socket was opening
      const limit = inFlightLimit(options.prefetch);
      if (requests instanceof RequestList && requests.items.length <= limit)
        this.sendAll(post, requests.items);
      // Not awaited: a caller that stops early must not wait for a slow input source.
      else void this.write(post, requests, limit);
      for (;;) {
        const r = await post.out.next();
        if (r.done) return;
        yield r.value;
      }
    } finally {
      clearTimeout(timer);
      this.finish(post);
    }
  }

  /**
   * One request, one answer: what {@link stream} does for a post of one request, without its
   * queue and generator. Rejects with the connection's error, or DEADLINE_EXCEEDED after
   * `timeoutMs`.
   */
  async request(req: DataRequest, options: TransportCallOptions): Promise<DataRequest> {
    this.throwIfFailed();
    const one = new OneRequest();
    this.active.add(one);
    if (this.active.size === 1) this.link?.busy?.(true);
    const timer = this.deadline(options, (err) => one.fail(err));
    const id = req.requestId;
    try {
      if (!this.isOpen) await Promise.race([this.opened, one.answer]);
      if (this.failure) throw this.failure; // admitted: a drain lets it finish
      this.claim(id, one);
      // One request in flight per caller: the answer is the wait, not the send buffer.
      this.link!.send(req)?.catch(() => undefined);
      return await one.answer;
    } finally {
      clearTimeout(timer);
      if (this.waiting.get(id) === one) {
        this.waiting.delete(id);
        if (!this.failure) this.dropped.add(id);
      }
      this.active.delete(one);
      this.idleCheck();
    }
  }

  /** After `options.timeoutMs` (when > 0), `expire` gets DEADLINE_EXCEEDED; the timer to clear. */
  private deadline(
    options: TransportCallOptions,
    expire: (err: FlowgateError) => void,
  ): ReturnType<typeof setTimeout> | undefined {
    const ms = options.timeoutMs;
    if (!ms || ms <= 0) return undefined;
    return setTimeout(
      () => expire(new FlowgateError(Code.DeadlineExceeded, `${this.what} timed out after ${ms} ms`)),
      ms,
    );
  }

  /** Routes the answer to request `id` to `waiter`; an id already waiting (or dropped) is refused. */
  private claim(id: string, waiter: Waiter): void {
    if (this.waiting.has(id) || this.dropped.has(id))
      throw new FlowgateError(Code.InvalidArgument, `request id '${id}' is already waiting for an answer`);
    this.waiting.set(id, waiter);
  }

  /** The last post is done: the link may rest (or, draining, close). */
  private idleCheck(): void {
    if (this.active.size > 0 || this.failure) return;
    if (this.draining) this.close();
    else this.link?.busy?.(false);
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
    if (this.draining) throw new FlowgateError(Code.Cancelled, `${this.what} is closing`);
  }

  /** Sends requests that fit in the window, all at once. */
  private sendAll(post: MuxPost, items: readonly DataRequest[]): void {
    try {
      for (const req of items) void this.sendOne(post, req);
      post.inputDone = true;
      post.endIfDone();
    } catch (err) {
      post.fail(err);
    }
  }

  private async write(post: MuxPost, requests: AsyncIterable<DataRequest>, limit: number): Promise<void> {
    try {
      for await (const req of requests) {
        while (post.inFlight >= limit && !post.finished && !this.failure)
          await new Promise<void>((r) => (post.wake = r));
        if (post.finished || this.failure) return;
        const full = this.sendOne(post, req);
        if (full) await full;
      }
      post.inputDone = true;
      post.endIfDone();
    } catch (err) {
      post.fail(err);
    }
  }

  private sendOne(post: MuxPost, req: DataRequest): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    const id = req.requestId;
    this.claim(id, post);
    post.inFlight++;
    post.order?.set(id, post.sent++);
    return this.link!.send(req);
  }

  /** The post is over: answers still to come for it are dropped when they arrive. */
  private finish(post: MuxPost): void {
    post.finished = true;
    post.wakeWriter();
    if (post.inFlight > 0 && !this.failure) {
      for (const [id, p] of this.waiting) {
        if (p !== post) continue;
        this.waiting.delete(id);
        this.dropped.add(id);
      }
    }
    this.active.delete(post);
    this.idleCheck();
  }
}

/** The error for a response that answers no request on this connection. */
function unexpectedResponse(res: DataRequest): FlowgateError {
  const ex = res.status?.exception;
  if (res.isError && ex?.name === 'InvalidArgument')
    return new FlowgateError(
      Code.InvalidArgument,
      `the Gateway rejected a frame: ${ex.args?.[0] ?? res.status?.description ?? ''}`,
    );
  return new FlowgateError(
    Code.Internal,
    `the Gateway answered request id '${res.requestId}', which is not waiting for an answer`,
  );
}
