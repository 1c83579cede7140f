import type { FastifyInstance } from 'fastify';
// Brings in @fastify/swagger's schema fields (summary, tags, hide) for route options.
import type {} from '@fastify/swagger';
import { environmentInfo } from '../../runtime/info.js';
import { statusToJson } from './request-json.js';
import { dryRun } from '../../gateway/dry-run.js';
import type { GatewayStreamer } from '../../gateway/streamer.js';

/** Options of {@link registerInfoRoutes}. */
export interface InfoRoutesOptions {
  streamer: GatewayStreamer;
  /** Leave out `/status` and `/dry_run` (the original's `no_debug_endpoints`). */
  noDebugEndpoints?: boolean;
}

/**
 * The routes every HTTP-family Gateway serves, as the original does: `GET /` (health, `{}`),
 * `GET /status` (`{"jina": {...}, "envs": {...}}`) and `GET /dry_run` (a status object with a
 * numeric `code`). A user's own `GET /` is kept (with a warning) when it was registered first.
 *
 * @example
 * ```ts
 * const app = Fastify();
 * registerInfoRoutes(app, { streamer });
 * ```
 */
export function registerInfoRoutes(app: FastifyInstance, options: InfoRoutesOptions): void {
  if (app.hasRoute({ method: 'GET', url: '/' })) {
    app.log.warn('the app already serves GET /: keeping it as the health check');
  } else {
    app.get('/', { schema: { hide: true } }, async () => ({}));
  }
  if (options.noDebugEndpoints) return;
  app.get(
    '/status',
    { schema: { summary: 'Versions and environment of the Gateway', tags: ['Debug'] } },
    async () => {
      const info = environmentInfo();
      return { jina: { ...info.jina }, envs: { ...info.envs } };
    },
  );
  app.get(
    '/dry_run',
    { schema: { summary: 'Run an empty request through the whole Flow', tags: ['Debug'] } },
    async () => statusToJson(await dryRun(options.streamer)),
  );
}
