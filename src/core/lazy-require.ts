import { createRequire } from 'node:module';

/**
 * A CommonJS package loaded on first use rather than at import: for libraries that only some
 * processes need (every Executor imports `flowgate`; only a Client that speaks HTTP needs undici).
 * `from` is the importing module's `import.meta.url`, for resolution.
 *
 * @example
 * ```ts
 * const loadWs = lazyRequire<typeof WebSocket>(import.meta.url, 'ws');
 * const ws = new (loadWs())(url);
 * ```
 */
export function lazyRequire<T>(from: string, id: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= createRequire(from)(id) as T);
}
