/** Where a progress line is drawn: a TTY-like stream (stderr by default). */
export interface ProgressStream {
  write(chunk: string): boolean;
  isTTY?: boolean;
  columns?: number;
}

/** What {@link ProgressBar} shows. */
export interface ProgressOptions {
  /** The endpoint, shown first. */
  label: string;
  /** Documents to send, when known (an array was posted): draws a bar with a percentage. */
  total?: number;
  stream?: ProgressStream;
  /** Redraws per second at most; default 10. */
  fps?: number;
  /** Show nothing until this many ms have passed (short posts stay quiet); default 0. */
  delayMs?: number;
}

const WIDTH = 24;

/**
 * A one-line progress display for `Client.post`: documents sent and received, requests per second,
 * errors, and a bar when the total is known. Redraws in place (`\r`) at most `fps` times a second
 * and ends with a newline.
 *
 * @example
 * ```ts
 * const bar = new ProgressBar({ label: '/index', total: 10_000 });
 * bar.sent(100); bar.received(100, true);
 * bar.done();
 * // /index [████████████████████████] 100% 10,000/10,000 docs · 412 req/s · 0 errors · 24.3 s
 * ```
 */
export class ProgressBar {
  private docsSent = 0;
  private docsReceived = 0;
  private requests = 0;
  private errors = 0;
  private readonly started = Date.now();
  private lastDraw = 0;
  private drawn = false;
  private readonly stream: ProgressStream;
  private readonly minInterval: number;

  constructor(private readonly options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.minInterval = 1000 / (options.fps ?? 10);
  }

  /** `n` documents went out in one request. */
  sent(n: number): void {
    this.docsSent += n;
    this.draw();
  }

  /** A response with `n` documents came back (`ok` false: an Executor error). */
  received(n: number, ok: boolean): void {
    this.docsReceived += n;
    this.requests++;
    if (!ok) this.errors++;
    this.draw();
  }

  /** The line as it stands. */
  line(): string {
    const seconds = (Date.now() - this.started) / 1000;
    const rate = seconds > 0 ? this.requests / seconds : 0;
    const n = (x: number) => x.toLocaleString('en-US');
    const total = this.options.total;
    const parts: string[] = [this.options.label];
    if (total !== undefined && total > 0) {
      const frac = Math.min(1, this.docsReceived / total);
      const full = Math.round(frac * WIDTH);
      parts.push(
        `[${'\u2588'.repeat(full)}${'\u2591'.repeat(WIDTH - full)}] ${Math.floor(frac * 100)}%`,
        `${n(this.docsReceived)}/${n(total)} docs`,
      );
    } else parts.push(`${n(this.docsSent)} docs sent, ${n(this.docsReceived)} received`);
    const tail = `${Math.round(rate)} req/s \u00b7 ${n(this.errors)} error${this.errors === 1 ? '' : 's'} \u00b7 ${seconds.toFixed(1)} s`;
    return `${parts.join(' ')} \u00b7 ${tail}`;
  }

  private draw(force = false): void {
    const now = Date.now();
    if (
      !force &&
      (now - this.lastDraw < this.minInterval || now - this.started < (this.options.delayMs ?? 0))
    )
      return;
    this.lastDraw = now;
    this.drawn = true;
    const width = this.stream.columns ?? 120;
    this.stream.write(`\r${this.line().slice(0, width - 1)}\u001b[K`);
  }

  /** Draws the final line (if anything was drawn, or `always`) and moves to the next line. */
  done(always = false): void {
    if (!this.drawn && !always) return;
    this.draw(true);
    this.stream.write('\n');
  }
}
