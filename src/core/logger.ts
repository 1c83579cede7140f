import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import type { PinoPretty } from 'pino-pretty';

/** The logging interface every layer uses; {@link createLogger} supplies a pino logger behind it. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** The levels `FLOWGATE_LOG_LEVEL` / `--log-level` accept, most verbose first. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The environment variable holding the log level (inherited by a Flow's processes). */
export const LOG_LEVEL_ENV = 'FLOWGATE_LOG_LEVEL';
/** The environment variable choosing `json` or `pretty` output; default pretty on a TTY. */
export const LOG_FORMAT_ENV = 'FLOWGATE_LOG_FORMAT';

/** Options of {@link createLogger}; the defaults come from the environment. */
export interface LoggerOptions {
  /** Default `FLOWGATE_LOG_LEVEL`, else `info`. */
  level?: LogLevel;
  /** Where lines go; default stderr, written synchronously (no line is lost before an exit). */
  destination?: DestinationStream;
  /** Human-readable lines (pino-pretty); default `FLOWGATE_LOG_FORMAT`, else whether stderr is a TTY. */
  pretty?: boolean;
}

/** The level named by `value` (case-insensitive), or undefined when it names none. */
export function parseLogLevel(value: string | undefined): LogLevel | undefined {
  const v = value?.trim().toLowerCase();
  return (LOG_LEVELS as readonly string[]).includes(v ?? '') ? (v as LogLevel) : undefined;
}

/** The process's loggers share one pino instance writing to stderr (see {@link createLogger}). */
let shared: PinoLogger | undefined;

function build(options: LoggerOptions): PinoLogger {
  const level = options.level ?? parseLogLevel(process.env[LOG_LEVEL_ENV]) ?? 'info';
  const format = process.env[LOG_FORMAT_ENV]?.toLowerCase();
  const pretty = options.pretty ?? (format ? format === 'pretty' : process.stderr.isTTY === true);
  const destination =
    options.destination ?? (pretty ? prettyStderr() : pino.destination({ dest: 2, sync: true }));
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/** pino-pretty as a synchronous stream on stderr, loaded only when used. */
function prettyStderr(): DestinationStream {
  const require = createRequire(import.meta.url);
  const pretty = require('pino-pretty') as typeof PinoPretty;
  return pretty({ destination: 2, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
}

/**
 * A structured logger: one JSON line per event on stderr (`level`, `time`, `pid`, `name`, `msg`
 * and the given fields), or pino-pretty's lines when stderr is a TTY (`FLOWGATE_LOG_FORMAT=json`
 * or `pretty` forces either). Events below `FLOWGATE_LOG_LEVEL` (default `info`) are dropped before
 * any formatting. Lines are written synchronously, so none is lost when the process exits.
 *
 * @example
 * ```ts
 * const log = createLogger('gateway');
 * log.info('started', { ports: [12345] });
 * // {"level":"info","time":"2026-11-22T03:00:00.000Z","pid":4242,"name":"gateway","msg":"started","ports":[12345]}
 * ```
 */
export function createLogger(name: string, options: LoggerOptions = {}): Logger {
  const custom =
    options.destination !== undefined || options.level !== undefined || options.pretty !== undefined;
  const base = custom ? build(options) : (shared ??= build({}));
  const log = base.child({ name });
  return {
    debug: (msg, fields) => (fields ? log.debug(fields, msg) : log.debug(msg)),
    info: (msg, fields) => (fields ? log.info(fields, msg) : log.info(msg)),
    warn: (msg, fields) => (fields ? log.warn(fields, msg) : log.warn(msg)),
    error: (msg, fields) => (fields ? log.error(fields, msg) : log.error(msg)),
  };
}

/** The logger of one component, named after it; the same as {@link createLogger}. */
export function consoleLogger(name: string): Logger {
  return createLogger(name);
}

/**
 * Makes the processes this one starts log like it: pretty when this process's stderr is a TTY
 * (their stderr is a pipe to it), unless `FLOWGATE_LOG_FORMAT` is already set.
 */
export function shareLogFormat(): void {
  if (process.env[LOG_FORMAT_ENV] === undefined && process.stderr.isTTY)
    process.env[LOG_FORMAT_ENV] = 'pretty';
}
