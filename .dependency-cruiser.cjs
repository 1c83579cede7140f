/**
 * The layering of src/ (see docs/decisions.md, "Layout: one folder per protocol"). Layers only
 * import downward; nothing imports cli/; no cycles.
 *
 * Folders are layers, with one refinement: a protocol folder `src/transport/<protocol>/` holds two
 * levels. Its Gateway side (`server.ts` and its helpers `server-*.ts`) extends the neutral Gateway
 * base and uses the streamer, so it sits ABOVE gateway/; everything else in it (codec, status,
 * headers, frames, the gRPC link, the Client-side `client.ts`) is wire level and sits BELOW
 * runtime/ and gateway/, which reach the Executors through transport/grpc/.
 */
const SERVER_FILE = '^src/transport/[a-z]+/server[a-z-]*\\.ts$';
const PROTOCOLS = ['grpc', 'http', 'websocket', 'graphql'];

/** Bottom to top: [name, path regex, pathNot regex]. */
const layers = [
  ['core', '^src/core/'],
  ['proto', '^src/proto/'],
  ['document', '^src/document/'],
  ['executor', '^src/executor/'],
  ['transport-wire', '^src/transport/', SERVER_FILE],
  ['runtime', '^src/runtime/'],
  ['gateway', '^src/gateway/'],
  ['transport-server', SERVER_FILE],
  ['serve', '^src/serve/'],
  ['client', '^src/client/'],
  ['config', '^src/config/'],
  ['orchestrate', '^src/orchestrate/'],
  ['cli', '^src/cli/'],
];

const forbidden = [
  // Document and DocumentArray refer to each other by nature (chunks, matches): the one allowed cycle.
  {
    name: 'no-circular',
    severity: 'error',
    from: { pathNot: '^src/document/document(-array)?\\.ts$' },
    to: { circular: true },
  },
  {
    name: 'nothing-imports-cli',
    severity: 'error',
    from: { pathNot: '^src/cli/' },
    to: { path: '^src/cli/' },
  },
  {
    name: 'gateway-core-speaks-no-web-protocol',
    comment:
      'src/gateway/ is the protocol-neutral core: no Fastify, ws or GraphQL, and none of the HTTP, WebSocket or GraphQL transports (its one protocol is the gRPC link to the Executors).',
    severity: 'error',
    from: { path: '^src/gateway/' },
    to: {
      path: [
        '(^|/)node_modules/(@types/)?(fastify|ws|graphql|graphql-http|@fastify/[^/]+)/',
        '^src/transport/(http|websocket|graphql|shared)/',
      ],
    },
  },
  {
    name: 'client-imports-no-server',
    comment: 'The Client depends on no Gateway code: what both need lives below (proto/, transport/).',
    severity: 'error',
    from: { path: '^src/client/' },
    to: { path: ['^src/(gateway|serve|runtime)/', SERVER_FILE] },
  },
  {
    name: 'shared-transport-is-neutral',
    comment:
      'transport/shared/ is what the protocols share: it imports no protocol folder, except the one HTTP status mapping (http/status.ts), which the Fastify app every HTTP-carried server (HTTP, WebSocket, GraphQL) stands on answers with.',
    severity: 'error',
    from: { path: '^src/transport/shared/' },
    to: { path: `^src/transport/(${PROTOCOLS.join('|')})/`, pathNot: '^src/transport/http/status\\.ts$' },
  },
];

// No protocol folder imports another protocol folder: only transport/shared/ and the layers below.
for (const p of PROTOCOLS) {
  forbidden.push({
    name: `${p}-imports-no-other-protocol`,
    severity: 'error',
    from: { path: `^src/transport/${p}/` },
    to: { path: `^src/transport/(${PROTOCOLS.filter((o) => o !== p).join('|')})/` },
  });
}

layers.forEach(([layer, path, pathNot], i) => {
  const higher = layers.slice(i + 1).filter(([l]) => l !== 'cli');
  if (higher.length === 0) return;
  forbidden.push({
    name: `${layer}-imports-only-downward`,
    severity: 'error',
    from: pathNot ? { path, pathNot } : { path },
    to: { path: higher.map(([, p]) => p) },
  });
});

module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^src/proto/gen/|\\.test\\.ts$)' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
