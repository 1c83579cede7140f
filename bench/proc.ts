/**
 * What the benchmark reads about a server process from /proc (Linux only; elsewhere every figure
 * is `undefined`): CPU time, resident memory and its peak.
 */
import { readFileSync, writeFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on every Linux architecture in use). */
const TICKS_PER_S = 100;

/** CPU time (user + system) of `pid` in ms, or undefined when it cannot be read. */
export function cpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1000) / TICKS_PER_S;
  } catch {
    return undefined;
  }
}

function statusKb(pid: number, key: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Resident memory of `pid` now, MB. */
export function rssMb(pid: number): number | undefined {
  const kb = statusKb(pid, 'VmRSS');
  return kb === undefined ? undefined : kb / 1024;
}

/** Peak resident memory of `pid` since it started or since {@link resetPeakRss}, MB. */
export function peakRssMb(pid: number): number | undefined {
  const kb = statusKb(pid, 'VmHWM');
  return kb === undefined ? undefined : kb / 1024;
}

/** Resets the peak RSS of `pid` to its current RSS (`clear_refs` 5); false when not allowed. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** The figures of one measured window of a server process. */
export interface ProcWindow {
  cpuMs: number | undefined;
  peakRssMb: number | undefined;
}

/**
 * Watches `pid` over a window: CPU time used and peak RSS. The peak comes from VmHWM after a reset
 * when the kernel allows it, else from sampling VmRSS every 50 ms.
 */
export class ProcWatch {
  private cpu0: number | undefined;
  private sampled = 0;
  private timer: NodeJS.Timeout | undefined;
  private hwmReset = false;

  constructor(private readonly pid: number | undefined) {}

  start(): void {
    if (this.pid === undefined) return;
    const pid = this.pid;
    this.hwmReset = resetPeakRss(pid);
    this.sampled = rssMb(pid) ?? 0;
    this.cpu0 = cpuMs(pid);
    if (!this.hwmReset) {
      this.timer = setInterval(() => (this.sampled = Math.max(this.sampled, rssMb(pid) ?? 0)), 50);
    }
  }

  stop(): ProcWindow {
    clearInterval(this.timer);
    if (this.pid === undefined || this.cpu0 === undefined) return { cpuMs: undefined, peakRssMb: undefined };
    const cpu1 = cpuMs(this.pid);
    const peak = this.hwmReset ? peakRssMb(this.pid) : Math.max(this.sampled, rssMb(this.pid) ?? 0);
    return { cpuMs: cpu1 === undefined ? undefined : cpu1 - this.cpu0, peakRssMb: peak };
  }
}

/**
 * CPU microseconds (user + system of this process) per call of `f`, calling it in doubling batches
 * until about `budgetMs` of CPU is spent: for micro-benchmarks of one function.
 */
export function usPerCall(f: () => unknown, budgetMs: number): number {
  let n = 0;
  let batch = 1;
  let spent = 0;
  const t0 = process.cpuUsage();
  while (spent < budgetMs * 1000) {
    for (let i = 0; i < batch; i++) f();
    n += batch;
    const d = process.cpuUsage(t0);
    spent = d.user + d.system;
    if (spent < 20_000) batch *= 2;
  }
  return spent / n;
}
