import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/** Resolves a host name to every address it has (IPv4 and IPv6 literals). */
export type LookupFn = (host: string) => Promise<string[]>;

/** How often a replica name is resolved again by default, in ms. */
export const DEFAULT_RESOLVE_INTERVAL_MS = 5000;

/** `FLOWGATE_RESOLVE_INTERVAL_MS` from the environment when it is a positive number. */
export function resolveIntervalFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const v = Number(env.FLOWGATE_RESOLVE_INTERVAL_MS);
  return Number.isFinite(v) && v > 0 ? v : undefined;
}

/** The least time between two resolutions asked for by failures, in ms. */
const MIN_REFRESH_GAP_MS = 250;

/**
 * The system resolver (`getaddrinfo`, as `dns.lookup` with `all: true`): it reads `/etc/hosts`
 * (every line naming the host) and asks DNS for A and AAAA records, so a Kubernetes headless
 * Service name gives the addresses of all its ready pods.
 */
export const systemLookup: LookupFn = async (host) => {
  const found = await dnsLookup(host, { all: true, verbatim: true });
  return found.map((a) => a.address);
};

/** `host:port` split; IPv6 literals may be written `[::1]:5000`. */
export function splitHostPort(address: string): { host: string; port: string } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(address) ?? /^([^:]*):(\d+)$/.exec(address);
  if (!m) return { host: address, port: '' };
  return { host: m[1]!, port: m[2]! };
}

/** `ip:port`, bracketing IPv6 literals. */
export function joinHostPort(host: string, port: string): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * True for addresses used exactly as given, never resolved by flowgate: IP literals, `localhost`
 * (and `*.localhost`), and anything without a port.
 */
export function isStaticAddress(address: string): boolean {
  const { host, port } = splitHostPort(address);
  if (port === '') return true;
  const h = host.toLowerCase();
  return isIP(h) !== 0 || h === 'localhost' || h.endsWith('.localhost');
}

/** Options of {@link DnsReplicas}. */
export interface DnsReplicasOptions {
  /** Resolve again this often, in ms; default {@link DEFAULT_RESOLVE_INTERVAL_MS}. */
  intervalMs?: number;
  /** The resolver; default {@link systemLookup}. Tests inject their own. */
  lookup?: LookupFn;
  /** Called with the full address list (`ip:port`, sorted) whenever it changes. */
  onChange: (addresses: string[]) => void;
  /** Called when a resolution fails (the previous addresses are kept). */
  onError?: (err: Error) => void;
}

/**
 * Keeps the addresses of one replica name (`encoder.ns.svc.cluster.local:8080`) up to date: every
 * address the name resolves to is one replica. Resolves every `intervalMs`, and sooner when
 * {@link refresh} is called (after a failed connection). A failed or empty resolution keeps the
 * previous addresses: a DNS hiccup must not drop every replica.
 *
 * @example
 * ```ts
 * const dns = new DnsReplicas('encoder.search.svc.cluster.local:8080', { onChange: (a) => console.log(a) });
 * await dns.start();       // ['10.0.0.5:8080', '10.0.1.7:8080']
 * dns.close();
 * ```
 */
export class DnsReplicas {
  readonly host: string;
  private readonly port: string;
  private readonly intervalMs: number;
  private readonly lookup: LookupFn;
  private current: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastRun = 0;
  private closed = false;
  private lastError: Error | undefined;

  constructor(
    readonly address: string,
    private readonly options: DnsReplicasOptions,
  ) {
    const { host, port } = splitHostPort(address);
    this.host = host;
    this.port = port;
    this.intervalMs = Math.max(100, options.intervalMs ?? DEFAULT_RESOLVE_INTERVAL_MS);
    this.lookup = options.lookup ?? systemLookup;
  }

  /** The addresses last resolved (`ip:port`, sorted); empty before the first success. */
  get addresses(): string[] {
    return this.current;
  }

  /** Why the last resolution failed, if it did. */
  get error(): Error | undefined {
    return this.lastError;
  }

  /** Resolves once, then every `intervalMs`; resolves to the first addresses (maybe empty). */
  async start(): Promise<string[]> {
    await this.resolveNow();
    this.schedule();
    return this.current;
  }

  /**
   * Resolves again soon (at most one resolution in flight, and not more often than every 250 ms);
   * resolves when that resolution is done.
   */
  refresh(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.running) return this.running;
    const wait = this.lastRun + MIN_REFRESH_GAP_MS - Date.now();
    if (wait <= 0) return this.resolveNow();
    this.running = new Promise<void>((r) => setTimeout(r, wait)).then(() => {
      this.running = undefined;
      return this.resolveNow();
    });
    return this.running;
  }

  private schedule(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      void this.resolveNow().finally(() => this.schedule());
    }, this.intervalMs);
    this.timer.unref();
  }

  private resolveNow(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.resolveOnce().finally(() => {
      this.running = undefined;
      this.lastRun = Date.now();
    });
    return this.running;
  }

  private async resolveOnce(): Promise<void> {
    let found: string[];
    try {
      found = await this.lookup(this.host);
    } catch (err) {
      this.lastError = err instanceof Error ? err : new Error(String(err));
      this.options.onError?.(this.lastError);
      return;
    }
    if (this.closed) return;
    if (found.length === 0) {
      this.lastError = new Error(`${this.host} resolved to no address`);
      this.options.onError?.(this.lastError);
      return;
    }
    this.lastError = undefined;
    const next = [...new Set(found.map((ip) => joinHostPort(ip, this.port)))].sort();
    if (next.length === this.current.length && next.every((a, i) => a === this.current[i])) return;
    this.current = next;
    this.options.onChange(next);
  }

  /** Stops resolving. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }
}
