import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayStreamer } from '../../gateway/streamer.js';

/** Options of {@link registerGraphqlRoutes}. */
export interface GraphqlRoutesOptions {
  streamer: GatewayStreamer;
}

/**
 * A GraphiQL page for browsers. GraphiQL is not bundled with flowgate: the page loads it from the
 * jsDelivr CDN, so it needs internet access; `POST /graphql` itself works offline.
 */
const GRAPHIQL_HTML = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <title>GraphiQL - flowgate</title>
  <!-- GraphiQL is loaded from the jsDelivr CDN: this page needs internet access.
       The endpoint itself (POST /graphql) works offline. -->
  <link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/graphiql@3/graphiql.min.css" />
  <style>body { margin: 0; height: 100vh; } #graphiql { height: 100vh; }</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL from cdn.jsdelivr.net (needs internet access)...
    Without it, send queries with <code>POST /graphql</code>,
    body <code>{"query": "{ docs(data: [{text: \\"hi\\"}]) { id text } }"}</code>.</div>
  <script crossorigin src="https://cdn.jsdelivr.net/npm/react@18/umd/react.production.min.js"></script>
  <script crossorigin src="https://cdn.jsdelivr.net/npm/react-dom@18/umd/react-dom.production.min.js"></script>
  <script crossorigin src="https://cdn.jsdelivr.net/npm/graphiql@3/graphiql.min.js"></script>
  <script>
    const fetcher = GraphiQL.createFetcher({ url: window.location.pathname });
    ReactDOM.createRoot(document.getElementById('graphiql')).render(
      React.createElement(GraphiQL, {
        fetcher,
        defaultQuery: 'mutation {\\n  docs(data: [{text: "hello"}], execEndpoint: "/") {\\n    id\\n    text\\n  }\\n}\\n',
      }),
    );
  </script>
</body>
</html>
`;

/**
 * `/graphql` as the original serves it (`expose_graphql_endpoint`): GraphQL over HTTP with
 * graphql-http (`POST` for queries and mutations, `GET ?query=` for queries), and a GraphiQL page
 * for a browser's plain `GET /graphql`.
 *
 * @example
 * ```ts
 * registerGraphqlRoutes(app, { streamer });
 * ```
 */
export function registerGraphqlRoutes(app: FastifyInstance, options: GraphqlRoutesOptions): void {
  // graphql and graphql-http load with the first GraphQL request, not with flowgate
  let graphql: Promise<(req: FastifyRequest, reply: FastifyReply) => unknown> | undefined;
  const load = async () => {
    const [{ createHandler }, { createGraphqlSchema }] = await Promise.all([
      import('graphql-http/lib/use/fastify'),
      import('./server-schema.js'),
    ]);
    const h = createHandler({
      schema: createGraphqlSchema(options.streamer),
      context: (req) => ({ headers: req.raw.forwardedHeaders }),
    });
    return (req: FastifyRequest, reply: FastifyReply) => h.call(app, req, reply);
  };
  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | void> => {
    const query = request.query as Record<string, unknown> | undefined;
    const wantsPage =
      request.method === 'GET' &&
      query?.query === undefined &&
      (request.headers.accept ?? '').includes('text/html');
    if (wantsPage) return reply.type('text/html; charset=utf-8').send(GRAPHIQL_HTML);
    graphql ??= load();
    const handle = await graphql;
    await handle(request, reply);
    return reply;
  };
  const summary = 'GraphQL: query or mutation `docs(data, execEndpoint, targetExecutor, parameters)`';
  app.post(
    '/graphql',
    {
      schema: {
        summary,
        tags: ['GraphQL'],
        body: {
          type: 'object',
          properties: {
            query: { type: 'string' },
            variables: { type: ['object', 'null'], additionalProperties: true },
            operationName: { type: ['string', 'null'] },
          },
          examples: [{ query: 'mutation { docs(data: [{text: "hello"}], execEndpoint: "/") { id text } }' }],
        },
      },
    },
    handler,
  );
  app.get(
    '/graphql',
    {
      schema: {
        summary,
        description: 'A query in `?query=`. A browser GET without `query` gets a GraphiQL page (from a CDN).',
        tags: ['GraphQL'],
        querystring: {
          type: 'object',
          properties: {
            query: { type: 'string' },
            variables: { type: 'string' },
            operationName: { type: 'string' },
          },
        },
      },
    },
    handler,
  );
}
