import { z } from 'zod';

/**
 * One schema per component (Executor, Gateway, Flow). Each gives the TypeScript type of its YAML
 * form, the YAML validation, the CLI flags of `flowgate gateway` and the option table in the docs.
 * Keys are camelCase; snake_case is accepted on input (see `normalizeKeys`).
 */

const stringMap = z.record(z.string(), z.unknown());
const oneOrMany = <T extends z.ZodType>(t: T) => z.union([t, z.array(t)]);
const port = z.number().int().min(0).max(65535);
const polling = z.enum(['ANY', 'ALL']);

/** Metrics and tracing, the same keys on a Gateway and an Executor (see docs/observability.md). */
const observability = {
  monitoring: z.boolean().describe('serve Prometheus metrics on portMonitoring'),
  portMonitoring: port.describe('port of the metrics (/ and /metrics); 0 or none = a free port'),
  tracing: z.boolean().describe('export OpenTelemetry spans over OTLP/HTTP'),
  tracesExporterHost: z.string().describe('host of the OTLP/HTTP receiver (default 127.0.0.1)'),
  tracesExporterPort: port.describe('port of the OTLP/HTTP receiver (default 4318)'),
};

/** An Executor in a Flow: the options of `flow.add()` that YAML can express. */
export const executorSchema = z
  .object({
    uses: z.string().describe('module (`exec.ts:Class`), Executor YAML file, or `docker://image`'),
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'letters, digits, _ and - only')
      .describe('unique name in the Flow'),
    needs: oneOrMany(z.string()).describe("upstream Executors; 'gateway' = straight from the client"),
    usesWith: stringMap.describe('constructor arguments of the Executor'),
    metas: stringMap.describe('extra metas of the Executor'),
    modules: oneOrMany(z.string()).describe('modules to import before resolving `uses` as a class name'),
    env: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
      .describe('environment variables of its processes'),
    replicas: z.number().int().min(1).describe('processes serving this Executor'),
    shards: z.number().int().min(1).describe('shards behind a head'),
    polling: z.union([polling, z.record(z.string(), polling)]).describe("'ANY', 'ALL', or per endpoint"),
    usesBefore: z.string().describe('an Executor run by the head before the shards'),
    usesAfter: z.string().describe('an Executor run by the head after the shards'),
    when: stringMap.describe('a document filter, e.g. { tags__x: { $gt: 1 } }'),
    floating: z.boolean().describe('the response does not wait for it'),
    noReduce: z.boolean().describe('hand docsMatrix/docsMap to the Executor instead of merging'),
    external: z.boolean().describe('already running at host:port'),
    host: oneOrMany(z.string()).describe('where an external Executor runs (a list = replicas)'),
    port: oneOrMany(port).describe('its port(s)'),
    timeoutSend: z.number().int().min(0).describe('per-call deadline from the Gateway, ms'),
    retries: z.number().int().min(-1).describe('attempts on other replicas after a failure'),
    tls: z.boolean().describe('TLS between the Gateway and this Executor'),
    restartPolicy: z
      .enum(['on-failure', 'always', 'never'])
      .describe('restart a process that exits on its own: on-failure (default), always, never'),
    maxRestarts: z.number().int().min(0).describe('restarts in a row before giving up (default 10)'),
    usesDynamicBatching: z
      .record(z.string(), stringMap)
      .describe('endpoint -> { preferredBatchSize, timeout }: dynamic batching, over the decorator'),
    ...observability,
  })
  .partial()
  .strict();

export type ExecutorSpec = z.infer<typeof executorSchema>;

export const protocolSchema = z.enum(['grpc', 'http', 'websocket', 'graphql']);

const exposedEndpoint = z
  .object({
    methods: z.array(z.string()),
    path: z.string(),
    summary: z.string(),
    description: z.string(),
  })
  .partial()
  .strict();

/** The Gateway: `configGateway()` options, the `gateway:` section, `flowgate gateway` flags. */
export const gatewaySchema = z
  .object({
    protocol: oneOrMany(protocolSchema).describe('grpc, http, websocket, graphql (a list serves several)'),
    port: oneOrMany(port).describe('one port per protocol; 0 or none = a free port'),
    host: z.string().describe('address to bind'),
    uses: z.string().describe('a custom Gateway: `gw.ts:Class`, a Gateway YAML file, or `docker://image`'),
    usesWith: stringMap.describe('constructor arguments of the custom Gateway'),
    modules: oneOrMany(z.string()).describe('modules that define the custom Gateway'),
    timeoutSend: z.number().int().min(0).describe('per-call deadline to each Executor, ms'),
    retries: z.number().int().min(-1).describe('attempts on other replicas after a failure'),
    prefetch: z.number().int().min(0).describe('requests in flight per client stream; 0 = unlimited'),
    compression: z
      .enum(['none', 'gzip', 'deflate'])
      .describe('gRPC compression between Gateway and Executors'),
    cors: z.boolean().describe('HTTP: allow any origin'),
    noDebugEndpoints: z.boolean().describe('HTTP: no /post, /status, /dry_run'),
    noCrudEndpoints: z.boolean().describe('HTTP: no /index, /search, /update, /delete'),
    exposeEndpoints: z
      .record(z.string(), exposedEndpoint)
      .describe('HTTP: endpoint -> { methods, path, summary }'),
    exposeGraphqlEndpoint: z.boolean().describe('HTTP: also serve /graphql'),
    title: z.string().describe('HTTP: OpenAPI title'),
    description: z.string().describe('HTTP: OpenAPI description'),
    maxMessageBytes: z.number().int().min(1).describe('largest request or response, bytes'),
    slowClientTimeout: z
      .number()
      .int()
      .min(0)
      .describe(
        'ms a client may take to send one HTTP request, or leave WebSocket responses unread, before it is cut off; 0 = no limit (default 60000)',
      ),
    sslCertfile: z.string().describe('PEM certificate: TLS on every protocol (needs sslKeyfile)'),
    sslKeyfile: z.string().describe('PEM private key of sslCertfile'),
    authToken: z.string().min(1).describe('shared secret: requests need Authorization: Bearer <token>'),
    authenticate: z.string().describe('an authentication hook: `auth.ts:functionName`'),
    forwardMetadata: oneOrMany(z.string()).describe('request headers / gRPC metadata handed to Executors'),
    ...observability,
  })
  .partial()
  .strict();

export type GatewaySpec = z.infer<typeof gatewaySchema>;

/** The Flow's own options (`with:` in Flow YAML; gateway options are accepted there too). */
export const flowOptionsSchema = z
  .object({
    name: z.string().describe('the Flow name (the Kubernetes namespace by default)'),
    timeoutReady: z.number().int().describe('ms to wait for each part at start; -1 = forever'),
  })
  .partial()
  .strict();

export type FlowOptionsSpec = z.infer<typeof flowOptionsSchema>;

/** A whole Flow as YAML describes it, once validated and normalised. */
export interface FlowSpec {
  jtype: 'Flow';
  version?: string;
  with: FlowOptionsSpec;
  gateway: GatewaySpec;
  executors: ExecutorSpec[];
}

/** Alternative spellings of keys, besides snake_case (which is always accepted). */
export const keyAliases: Record<string, string> = {
  with: 'usesWith',
  uses_with: 'usesWith',
  uses_metas: 'metas',
  py_modules: 'modules',
  protocols: 'protocol',
  ports: 'port',
  ports_expose: 'port',
};
