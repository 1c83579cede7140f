import { z } from 'zod';

/**
 * One schema per component (Executor, Gateway, Flow). Each is the single source of its YAML
 * validation, of the public option types (`AddOptions`, `GatewayConfigOptions`, `FlowOptions` are
 * inferred from them, see `options.ts`), of the CLI flags (`cli/schema-flags.ts`) and of the option
 * table in the docs. Keys are camelCase; snake_case is accepted on input (see `camelKey`). The
 * JSDoc of each key is what an editor shows on hover; `.describe()` is the one-line CLI help.
 */

const stringMap = z.record(z.string(), z.unknown());
const oneOrMany = <T extends z.ZodType>(t: T) => z.union([t, z.array(t)]);
const port = z.number().int().min(0).max(65535);
const polling = z.enum(['ANY', 'ALL']);
const positive = z.number().int('must be a positive integer').min(1, 'must be a positive integer');

/** Metrics and tracing, the same keys on a Gateway and an Executor (see docs/observability.md). */
export const observabilityShape = {
  /** Serve Prometheus metrics at `http://host:portMonitoring/` (and `/metrics`). */
  monitoring: z.boolean().describe('serve Prometheus metrics on portMonitoring'),
  /**
   * The metrics port; 0 or unset picks a free one. On an Executor: its first process's (the others
   * get free ports, see `flow.monitoringPorts`).
   */
  portMonitoring: port.describe('port of the metrics (/ and /metrics); 0 or none = a free port'),
  /** Export OpenTelemetry spans over OTLP/HTTP to `http://tracesExporterHost:tracesExporterPort/v1/traces`. */
  tracing: z.boolean().describe('export OpenTelemetry spans over OTLP/HTTP'),
  /** Host of the OTLP/HTTP receiver; default 127.0.0.1. */
  tracesExporterHost: z.string().describe('host of the OTLP/HTTP receiver (default 127.0.0.1)'),
  /** Port of the OTLP/HTTP receiver; default 4318. */
  tracesExporterPort: port.describe('port of the OTLP/HTTP receiver (default 4318)'),
};

/** How the Gateway (or a head) calls an Executor: the Gateway-wide value is each Executor's default. */
export const callShape = {
  /**
   * Per-call deadline from the Gateway to an Executor (and from a head to a shard), ms; none by
   * default. A call that runs out fails the request with DEADLINE_EXCEEDED (HTTP 504), naming the
   * Executor and its address. On an Executor, it overrides the Gateway's for that Executor.
   */
  timeoutSend: z.number().int().min(0).describe('per-call deadline to each Executor, ms'),
  /**
   * What is repeated on another replica. Default (-1): only calls that never reached a replica (it
   * could not be connected to), up to max(3, replicas) attempts; a call that may have run (the
   * replica died while working on it, or `timeoutSend` passed) fails the request instead of running
   * twice. `N >= 0`: also repeat up to N such calls that failed with UNAVAILABLE or DEADLINE_EXCEEDED;
   * an Executor may then see a request twice. On an Executor, it overrides the Gateway's.
   */
  retries: z.number().int().min(-1).describe('attempts on other replicas after a failure'),
};

/**
 * An Executor in a Flow: the options of `flow.add()` that YAML can express (`options.ts` adds the
 * code-only values: an Executor class for `uses`). `monitoring`... apply to every process of the
 * Executor, its head included.
 */
export const executorSchema = z
  .object({
    /** A module path (`exec.ts` or `exec.ts:ClassName`), an Executor YAML file, or `docker://image`. */
    uses: z.string().describe('module (`exec.ts:Class`), Executor YAML file, or `docker://image`'),
    /** Unique name in the Flow; default `executor<N>`. */
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'letters, digits, _ and - only')
      .describe('unique name in the Flow'),
    /** Upstream Executors; default: the last non-floating one added. `'gateway'` = from the client. */
    needs: oneOrMany(z.string()).describe("upstream Executors; 'gateway' = straight from the client"),
    /** Constructor arguments of the Executor. */
    usesWith: stringMap.describe('constructor arguments of the Executor'),
    /** Extra `metas` for the Executor. */
    metas: stringMap.describe('extra metas of the Executor'),
    /** Modules to import before resolving `uses` as a class name (`uses: Upper, modules: upper.ts`). */
    modules: oneOrMany(z.string()).describe('modules to import before resolving `uses` as a class name'),
    /** Environment variables of the Executor's processes. */
    env: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
      .describe('environment variables of its processes'),
    /** Number of processes serving this Executor (of each shard, with `shards`); default 1. */
    replicas: positive.describe('processes serving this Executor'),
    /** Split the Executor into this many shards behind a head; default 1 (no head). */
    shards: positive.describe('shards behind a head'),
    /**
     * With shards: send each request to one shard (`'ANY'`, default) or to all (`'ALL'`), or choose
     * per endpoint: `{ '/search': 'ALL', '*': 'ANY' }`. `/search` is ALL and `/index` ANY unless named.
     */
    polling: z.union([polling, z.record(z.string(), polling)]).describe("'ANY', 'ALL', or per endpoint"),
    /** With shards: an Executor every request goes through before the shards. */
    usesBefore: z.string().describe('an Executor run by the head before the shards'),
    /** With shards: an Executor that receives all shards' answers (as `docsMatrix`) and answers. */
    usesAfter: z.string().describe('an Executor run by the head after the shards'),
    /**
     * Only documents matching this filter (docarray v1 query language, e.g.
     * `{ tags__key: { $eq: 5 } }`) reach this Executor and its downstream.
     */
    when: stringMap.describe('a document filter, e.g. { tags__x: { $gt: 1 } }'),
    /** The Executor gets each request, but the response does not wait for it (nor for its downstream). */
    floating: z.boolean().describe('the response does not wait for it'),
    /**
     * At a join: hand the Executor every upstream part (`docsMatrix`, `docsMap`) instead of one request
     * reduced by document id. With shards: concatenate the shards' documents instead of reducing them.
     */
    noReduce: z.boolean().describe('hand docsMatrix/docsMap to the Executor instead of merging'),
    /** Already running at `host:port`: the Flow starts no process for it. */
    external: z.boolean().describe('already running at host:port'),
    /** For an external Executor: where it already runs (a list of hosts = replicas; `'h:p'` allowed). */
    host: oneOrMany(z.string()).describe('where an external Executor runs (a list = replicas)'),
    /** An external Executor's port(s); for a Flow's own single-replica Executor, the port to bind. */
    port: oneOrMany(port).describe('its port(s)'),
    ...callShape,
    /**
     * Reach this (external) Executor over TLS, trusting the system's CAs (and `NODE_EXTRA_CA_CERTS`);
     * it serves TLS with `flowgate executor --ssl-certfile --ssl-keyfile`. Off by default, as in the
     * original; the Flow's own Executors listen on loopback without TLS.
     */
    tls: z.boolean().describe('TLS between the Gateway and this Executor'),
    /**
     * When one of its processes exits on its own: `'on-failure'` (default) restarts it after a crash
     * (non-zero exit, a signal), `'always'` after any exit, `'never'` leaves it down. Restarts back
     * off exponentially (0.5 s doubling to 30 s) on the same port.
     */
    restartPolicy: z
      .enum(['on-failure', 'always', 'never'])
      .describe('restart a process that exits on its own: on-failure (default), always, never'),
    /** Restarts in a row before giving up (the count resets after a minute up); default 10. */
    maxRestarts: z.number().int().min(0).describe('restarts in a row before giving up (default 10)'),
    /**
     * Endpoint -> `{ preferredBatchSize, timeout }`: dynamic batching configured without code, over
     * the `@dynamicBatching` decorator.
     */
    usesDynamicBatching: z
      .record(z.string(), stringMap)
      .describe('endpoint -> { preferredBatchSize, timeout }: dynamic batching, over the decorator'),
    ...observabilityShape,
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

/** The options of Gateway (`GatewayConfigOptions`) that only built-in Gateways read. */
export const BUILTIN_GATEWAY_OPTIONS = [
  'cors',
  'noDebugEndpoints',
  'noCrudEndpoints',
  'exposeEndpoints',
  'exposeGraphqlEndpoint',
  'title',
  'description',
  'maxMessageBytes',
  'sslCertfile',
  'sslKeyfile',
  'authToken',
  'authenticate',
  'forwardMetadata',
  'slowClientTimeout',
] as const;

/**
 * The Gateway: `configGateway()` options, the `gateway:` section, `flowgate gateway` flags
 * (`options.ts` adds the code-only values: a Gateway class, an `authenticate` function).
 */
export const gatewaySchema = z
  .object({
    /** `grpc` (default), `http`, `websocket`, `graphql`; a list serves several, one port each. */
    protocol: oneOrMany(protocolSchema).describe('grpc, http, websocket, graphql (a list serves several)'),
    /** One port per protocol, or one port for several built-in protocols; 0 or none = a free port. */
    port: oneOrMany(port).describe(
      'one port per protocol, or one for all built-in protocols; 0 or none = a free port',
    ),
    /** The address to bind; default 127.0.0.1 in a Flow. */
    host: z.string().describe('address to bind'),
    /**
     * A custom Gateway, served instead of the built-in ones: `'gw.ts:MyGateway'`, a Gateway YAML
     * file, or `docker://image` (from code, also a Gateway class). Give `port` and `protocol`: the
     * Flow health-checks the first port (`GET /` = 200, or gRPC health for `grpc`) before `start()`
     * resolves.
     */
    uses: z.string().describe('a custom Gateway: `gw.ts:Class`, a Gateway YAML file, or `docker://image`'),
    /** Constructor arguments of the custom Gateway (JSON-safe), next to the injected values. */
    usesWith: stringMap.describe('constructor arguments of the custom Gateway'),
    /** Modules that define the custom Gateway (`uses: MyGateway, modules: gw.ts`). */
    modules: oneOrMany(z.string()).describe('modules that define the custom Gateway'),
    ...callShape,
    /**
     * Requests in flight per client stream at most; the Gateway stops reading the client while at the
     * limit, so its memory stays bounded. Default 1000; 0 = unlimited. A client may lower it per call.
     */
    prefetch: z.number().int().min(0).describe('requests in flight per client stream; 0 = unlimited'),
    /** gRPC compression between the Gateway and the Executors: `none`, `gzip`, `deflate`. */
    compression: z
      .enum(['none', 'gzip', 'deflate'])
      .describe('gRPC compression between Gateway and Executors'),
    /** HTTP: allow cross-origin requests from any origin. */
    cors: z.boolean().describe('HTTP: allow any origin'),
    /** HTTP/WebSocket: no `/post`, `/status`, `/dry_run`. */
    noDebugEndpoints: z.boolean().describe('HTTP: no /post, /status, /dry_run'),
    /** HTTP: no `/index`, `/search`, `/update`, `/delete`. */
    noCrudEndpoints: z.boolean().describe('HTTP: no /index, /search, /update, /delete'),
    /**
     * HTTP: serve an Executor endpoint on another path or method, e.g.
     * `{ '/foo': { methods: ['GET'], path: '/bar', summary: 'Foo' } }`.
     */
    exposeEndpoints: z
      .record(z.string(), exposedEndpoint)
      .describe('HTTP: endpoint -> { methods, path, summary }'),
    /** HTTP: also serve GraphQL at `/graphql`. */
    exposeGraphqlEndpoint: z.boolean().describe('HTTP: also serve /graphql'),
    /** HTTP: the OpenAPI title. */
    title: z.string().describe('HTTP: OpenAPI title'),
    /** HTTP: the OpenAPI description. */
    description: z.string().describe('HTTP: OpenAPI description'),
    /** The largest request or response the Gateway accepts or sends, bytes (default 64 MiB). */
    maxMessageBytes: z.number().int().min(1).describe('largest request or response, bytes'),
    /**
     * How long a client may take to send one HTTP request, or leave WebSocket responses unread,
     * before the Gateway cuts it off, ms; 0 = no limit. Default 60 s.
     */
    slowClientTimeout: z
      .number()
      .int()
      .min(0)
      .describe(
        'ms a client may take to send one HTTP request, or leave WebSocket responses unread, before it is cut off; 0 = no limit (default 60000)',
      ),
    /** PEM certificate of the Gateway: with `sslKeyfile`, TLS on every protocol (see docs/security.md). */
    sslCertfile: z.string().describe('PEM certificate: TLS on every protocol (needs sslKeyfile)'),
    /** PEM private key of `sslCertfile`. */
    sslKeyfile: z.string().describe('PEM private key of sslCertfile'),
    /** Shared secret: data and info routes need `Authorization: Bearer <token>` (or FLOWGATE_AUTH_TOKEN). */
    authToken: z.string().min(1).describe('shared secret: requests need Authorization: Bearer <token>'),
    /**
     * A check run on every request: `'auth.ts:check'` (relative to the working directory), or from
     * code a named function of the file calling `configGateway` (the Gateway process imports that
     * file again and finds it by name).
     */
    authenticate: z.string().describe('an authentication hook: `auth.ts:functionName`'),
    /** Request headers / gRPC metadata handed to Executors as `metadata` (an allow-list). */
    forwardMetadata: oneOrMany(z.string()).describe('request headers / gRPC metadata handed to Executors'),
    ...observabilityShape,
  })
  .partial()
  .strict();

export type GatewaySpec = z.infer<typeof gatewaySchema>;

/** The Flow's own options (`with:` in Flow YAML; gateway options are accepted there too). */
export const flowOptionsSchema = z
  .object({
    /** The Flow name (the Kubernetes namespace when exported, by default). */
    name: z.string().describe('the Flow name (the Kubernetes namespace by default)'),
    /** How long `start()` waits for each part, ms; default 60 s; -1 = forever. */
    timeoutReady: z.number().int().describe('ms to wait for each part at start; -1 = forever'),
  })
  .partial()
  .strict();

export type FlowOptionsSpec = z.infer<typeof flowOptionsSchema>;

/** The monitoring and tracing keys every served process (Executor, head) takes. */
const OBSERVABILITY_KEYS = {
  monitoring: true,
  portMonitoring: true,
  tracing: true,
  tracesExporterHost: true,
  tracesExporterPort: true,
} as const;

/** Where a process outside a Flow listens. */
const LISTEN_SHAPE = {
  /** The address to bind; default 0.0.0.0. */
  host: z.string().optional().describe('host to bind (default 0.0.0.0)'),
  /** The port to bind; 0 (default) = a free port. */
  port: port.optional().describe('port to bind (0 = any free port)'),
};

/**
 * `flowgate executor`: one Executor process serving gRPC, outside a Flow (a container's entry
 * point). The Executor's own keys, plus where it listens and its TLS certificate.
 */
export const executorServeSchema = executorSchema
  .pick({
    uses: true,
    name: true,
    usesWith: true,
    usesDynamicBatching: true,
    metas: true,
    ...OBSERVABILITY_KEYS,
  })
  .extend({
    ...LISTEN_SHAPE,
    /** PEM certificate: serve TLS (for a Gateway with `tls` on this Executor). */
    sslCertfile: gatewaySchema.shape.sslCertfile,
    /** PEM private key of `sslCertfile`. */
    sslKeyfile: gatewaySchema.shape.sslKeyfile,
  });

/**
 * `flowgate head`: the head of a sharded Executor, outside a Flow. The Executor's sharding keys,
 * plus where it listens and the addresses of its shards.
 */
export const headSchema = executorSchema
  .pick({
    name: true,
    polling: true,
    noReduce: true,
    timeoutSend: true,
    retries: true,
    ...OBSERVABILITY_KEYS,
  })
  .extend({
    ...LISTEN_SHAPE,
    /** The replica addresses of each shard, in shard order: `[["h1:5001"], ["h2:5002", "h3:5002"]]`. */
    shards: z
      .array(z.array(z.string()))
      .optional()
      .describe('replica addresses of each shard as JSON, e.g. [["h1:5001"],["h2:5002","h3:5002"]]'),
    /** Replica addresses of the uses-before Executor. */
    usesBefore: oneOrMany(z.string()).optional().describe('replica addresses of the uses-before Executor'),
    /** Replica addresses of the uses-after Executor. */
    usesAfter: oneOrMany(z.string()).optional().describe('replica addresses of the uses-after Executor'),
  });

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
