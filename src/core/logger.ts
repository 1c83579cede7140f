/** The logging interface every layer uses; the runtime supplies a pino logger behind it. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const levels = ['debug', 'info', 'warn', 'error'] as const;
type Level = (typeof levels)[number];

function threshold(): number {
  const env = (process.env.FLOWGATE_LOG_LEVEL ?? 'info').toLowerCase();
  const i = levels.indexOf(env as Level);
  return i < 0 ? 1 : i;
}

/**
 * A minimal structured logger writing one line per event to stderr, filtered by
 * `FLOWGATE_LOG_LEVEL` (debug, info, warn, error).
 *
 * @example
 * ```ts
 * const log = consoleLogger('gateway');
 * log.info('listening', { port: 12345 });
 * ```
 */
export function consoleLogger(name: string): Logger {
  const min = threshold();
  const write = (level: Level, msg: string, fields?: Record<string, unknown>) => {
    if (levels.indexOf(level) < min) return;
    const extra = fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
    process.stderr.write(
      `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${name}: ${msg}${extra}\n`,
    );
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}
