/** Options of {@link BatchQueue}: see `DynamicBatchingOptions`. */
export interface BatchQueueOptions {
  preferredBatchSize: number;
  /** ms the oldest queued entry of a group waits before its group runs anyway. */
  timeout: number;
  maxConcurrentBatches: number;
  /** Items queued (not yet running) at most, over every group; beyond it, {@link BatchQueue.enqueue} waits. */
  maxQueuedDocs: number;
}

/**
 * Runs one batch: `items` gathered from the entries whose contexts are `contexts` (one per entry
 * with items in the batch, oldest first). Resolves to the batch's items after the run, as many as
 * it got and in the same order (item i belongs to whoever queued input item i).
 */
export type RunBatch<T, C> = (items: T[], contexts: C[]) => Promise<T[]>;

/** What one entry gets back: its own items after the run, in its order, and how it was batched. */
export interface BatchOutcome<T> {
  items: T[];
  /** ms from being queued to its first batch starting. */
  waitMs: number;
  /** Items in the (first) batch this entry ran in. */
  batchSize: number;
}

interface Entry<T, C> {
  group: Group<T, C>;
  items: T[];
  ctx: C;
  arrived: number;
  /** Items handed to batches so far. */
  taken: number;
  /** Items whose batch finished. */
  done: number;
  /** Output slices by piece number. */
  outputs: T[][];
  pieces: number;
  waitMs: number;
  batchSize: number;
  failed: boolean;
  resolve: (o: BatchOutcome<T>) => void;
  reject: (err: unknown) => void;
}

interface Group<T, C> {
  key: string;
  entries: Entry<T, C>[];
  queued: number;
  /** The oldest entry has waited `timeout`. */
  due: boolean;
  timer: NodeJS.Timeout | undefined;
}

interface Piece<T, C> {
  entry: Entry<T, C>;
  index: number;
  count: number;
}

/**
 * The queue behind one batched endpoint. Entries are queued per group key (the request
 * parameters): a batch only ever holds items of one group. A group runs when it holds
 * `preferredBatchSize` items or its oldest entry has waited `timeout` ms, at most
 * `maxConcurrentBatches` batches at a time over all groups (the oldest ready group first). An entry
 * larger than the room left in a batch is split over several batches and rejoined in order. A
 * failed batch rejects every entry in it (their pieces still queued are dropped); later batches
 * run. Admission is bounded: see {@link enqueue}.
 *
 * @example
 * ```ts
 * const q = new BatchQueue<number, null>(
 *   { preferredBatchSize: 4, timeout: 10, maxConcurrentBatches: 1, maxQueuedDocs: 16 },
 *   async (items) => items.map((x) => x * 2),
 * );
 * (await q.enqueue('', () => ({ items: [1, 2], ctx: null }))).items; // [2, 4]
 * ```
 */
export class BatchQueue<T, C> {
  private readonly groups = new Map<string, Group<T, C>>();
  private running = 0;
  private queuedItems = 0;
  /** Entries admitted but not yet queued (their items still loading): count one item each. */
  private admitting = 0;
  private readonly waiters: (() => void)[] = [];
  /** ms an oldest entry waits; 0 once draining. */
  private timeout: number;

  constructor(
    private readonly options: BatchQueueOptions,
    private readonly run: RunBatch<T, C>,
  ) {
    this.timeout = options.timeout;
  }

  /**
   * From now on, queued entries run without waiting for their batch to fill (the worker is
   * stopping: nothing should sit out a timeout). Batches still hold at most `preferredBatchSize`.
   */
  drain(): void {
    this.timeout = 0;
    for (const g of this.groups.values()) this.arm(g);
    this.schedule();
  }

  /** Items queued and not yet running, over every group. */
  get queued(): number {
    return this.queuedItems;
  }

  /** Entries waiting to be admitted (the queue was full when they came). */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Batches running now. */
  get active(): number {
    return this.running;
  }

  /**
   * Queues one entry in group `key` and resolves to its outcome. `load` (e.g. decoding the request's
   * documents) is called only once the entry is admitted: while the queue holds `maxQueuedDocs`
   * items, newcomers wait, in arrival order, without loading. An entry is admitted while fewer
   * items are queued than the bound, so the queue exceeds it by at most one entry's size.
   * An entry without items resolves at once (nothing to run).
   */
  async enqueue(key: string, load: () => { items: T[]; ctx: C }): Promise<BatchOutcome<T>> {
    await this.admit();
    let loaded: { items: T[]; ctx: C };
    try {
      loaded = load();
    } finally {
      this.admitting--;
    }
    const { items, ctx } = loaded;
    if (items.length === 0) {
      this.wake();
      return { items: [], waitMs: 0, batchSize: 0 };
    }
    return new Promise<BatchOutcome<T>>((resolve, reject) => {
      let group = this.groups.get(key);
      if (!group) {
        group = { key, entries: [], queued: 0, due: false, timer: undefined };
        this.groups.set(key, group);
      }
      const entry: Entry<T, C> = {
        group,
        items,
        ctx,
        arrived: performance.now(),
        taken: 0,
        done: 0,
        outputs: [],
        pieces: 0,
        waitMs: 0,
        batchSize: 0,
        failed: false,
        resolve,
        reject,
      };
      group.entries.push(entry);
      group.queued += items.length;
      this.queuedItems += items.length;
      if (group.entries.length === 1) this.arm(group);
      this.schedule();
    });
  }

  private admit(): Promise<void> {
    if (this.waiters.length === 0 && this.queuedItems + this.admitting < this.options.maxQueuedDocs) {
      this.admitting++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) =>
      this.waiters.push(() => {
        this.admitting++;
        resolve();
      }),
    );
  }

  /** Admits waiting entries while there is room. */
  private wake(): void {
    while (this.waiters.length > 0 && this.queuedItems + this.admitting < this.options.maxQueuedDocs)
      this.waiters.shift()!();
  }

  /** Starts the timer of a group's oldest entry (or marks it due when its time is already up). */
  private arm(group: Group<T, C>): void {
    clearTimeout(group.timer);
    group.timer = undefined;
    group.due = false;
    const oldest = group.entries[0];
    if (!oldest) return;
    const left = oldest.arrived + this.timeout - performance.now();
    if (left <= 0) {
      group.due = true;
      return;
    }
    group.timer = setTimeout(() => {
      group.timer = undefined;
      group.due = true;
      this.schedule();
    }, left);
  }

  /** Runs ready groups while batch slots are free, the group with the oldest entry first. */
  private schedule(): void {
    while (this.running < this.options.maxConcurrentBatches) {
      let next: Group<T, C> | undefined;
      for (const g of this.groups.values()) {
        if (g.queued === 0 || !(g.due || g.queued >= this.options.preferredBatchSize)) continue;
        if (!next || g.entries[0]!.arrived < next.entries[0]!.arrived) next = g;
      }
      if (!next) return;
      this.start(next);
    }
  }

  private start(group: Group<T, C>): void {
    const size = this.options.preferredBatchSize;
    const pieces: Piece<T, C>[] = [];
    const items: T[] = [];
    const now = performance.now();
    while (items.length < size && group.entries.length > 0) {
      const entry = group.entries[0]!;
      const count = Math.min(entry.items.length - entry.taken, size - items.length);
      if (entry.pieces === 0) entry.waitMs = now - entry.arrived;
      pieces.push({ entry, index: entry.pieces++, count });
      for (let i = 0; i < count; i++) items.push(entry.items[entry.taken + i]!);
      entry.taken += count;
      if (entry.taken === entry.items.length) group.entries.shift();
    }
    for (const p of pieces) if (p.entry.batchSize === 0) p.entry.batchSize = items.length;
    group.queued -= items.length;
    this.queuedItems -= items.length;
    if (group.entries.length === 0) this.drop(group);
    else this.arm(group);
    this.wake();
    this.running++;
    const contexts = [...new Set(pieces.map((p) => p.entry))].map((e) => e.ctx);
    // a synchronous throw of `run` fails the batch like a rejection
    new Promise<T[]>((resolve) => resolve(this.run(items, contexts)))
      .then((out) => {
        if (!Array.isArray(out) || out.length !== items.length)
          throw new Error(
            `a batched method must leave or return as many documents as it got: got ${items.length}, returned ${Array.isArray(out) ? out.length : typeof out}`,
          );
        let offset = 0;
        for (const p of pieces) {
          const e = p.entry;
          e.outputs[p.index] = out.slice(offset, offset + p.count);
          offset += p.count;
          e.done += p.count;
          if (e.done === e.items.length && !e.failed)
            e.resolve({ items: e.outputs.flat(), waitMs: e.waitMs, batchSize: e.batchSize });
        }
      })
      .catch((err: unknown) => {
        for (const p of pieces) this.fail(p.entry, err);
      })
      .finally(() => {
        this.running--;
        this.schedule();
      });
  }

  /** Rejects an entry and drops its pieces still queued. */
  private fail(entry: Entry<T, C>, err: unknown): void {
    if (entry.failed) return;
    entry.failed = true;
    entry.reject(err);
    const left = entry.items.length - entry.taken;
    if (left === 0) return;
    entry.taken = entry.items.length;
    const g = entry.group;
    const i = g.entries.indexOf(entry);
    if (i >= 0) {
      g.entries.splice(i, 1);
      g.queued -= left;
      this.queuedItems -= left;
      if (g.entries.length === 0) this.drop(g);
      else if (i === 0) this.arm(g);
    }
    this.wake();
  }

  private drop(group: Group<T, C>): void {
    clearTimeout(group.timer);
    group.timer = undefined;
    if (this.groups.get(group.key) === group) this.groups.delete(group.key);
  }
}
