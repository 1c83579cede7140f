import {
  GraphQLError,
  GraphQLFloat,
  GraphQLInputObjectType,
  GraphQLInt,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLScalarType,
  GraphQLSchema,
  GraphQLString,
  Kind,
  valueFromASTUntyped,
  type GraphQLFieldConfig,
  type GraphQLFieldConfigArgumentMap,
  type GraphQLInputType,
  type GraphQLOutputType,
  type ValueNode,
} from 'graphql';
import { decodeDocs, docsFromJson, docsToJson } from '../../document/index.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../../proto/struct.js';
import { toGraphqlError } from './status.js';
import { toDataRequests } from '../shared/request-json.js';
import type { GatewayStreamer } from '../../gateway/streamer.js';
import { executorErrorOf } from '../../proto/request.js';
import type { Headers } from '../../core/headers.js';

/**
 * The GraphQL schema of the original (PR #4403, docarray's `strawberry_type`), type names kept so
 * that existing queries with typed variables still validate:
 *
 * ```graphql
 * type Query    { docs(data: [StrawberryDocumentInput!], targetExecutor: String,
 *                     parameters: JSONScalar, execEndpoint: String! = "/search"): [StrawberryDocument!]! }
 * type Mutation { docs(...the same...): [StrawberryDocument!]! }
 * ```
 *
 * `StrawberryDocument` has every document field (camelCase), `scores` / `evaluations` as lists of
 * `{name, score: {value, opName, description, refId}}`, `chunks` / `matches` recursively; `blob` is
 * base64 (`Base64`), `tensor` / `embedding` nested lists (`NdArray`), `tags` any JSON.
 */

function literal(ast: ValueNode, variables?: { [key: string]: unknown } | null): unknown {
  return valueFromASTUntyped(ast, variables);
}

/** Any JSON value; a string is read as JSON text, as the original's `json.loads` does. */
const JSONScalar = new GraphQLScalarType({
  name: 'JSONScalar',
  description: 'Any JSON value (an object or a list). A string is parsed as JSON text.',
  serialize: (v) => v,
  parseValue: (v) => parseJsonText(v),
  parseLiteral: (ast, variables) =>
    ast.kind === Kind.STRING ? parseJsonText(ast.value) : literal(ast, variables),
});

function parseJsonText(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v) as unknown;
  } catch (err) {
    throw new GraphQLError(`JSONScalar must be JSON: ${(err as Error).message}`);
  }
}

const Base64 = new GraphQLScalarType({
  name: 'Base64',
  description: 'Bytes as standard base64.',
  serialize: (v) => v,
  parseValue: (v) => {
    if (typeof v !== 'string') throw new GraphQLError('Base64 must be a base64 string');
    return v;
  },
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('Base64 must be a base64 string');
    return ast.value;
  },
});

const NdArray = new GraphQLScalarType({
  name: 'NdArray',
  description: 'An n-dimensional array as nested lists of numbers.',
  serialize: (v) => v,
  parseValue: (v) => v,
  parseLiteral: (ast, variables) => literal(ast, variables),
});

const namedScoreFields = {
  value: { type: GraphQLFloat },
  opName: { type: GraphQLString },
  description: { type: GraphQLString },
  refId: { type: GraphQLString },
};

const NamedScore = new GraphQLObjectType({ name: '_NamedScore', fields: namedScoreFields });
const NamedScoreInput = new GraphQLInputObjectType({ name: '_NamedScoreInput', fields: namedScoreFields });
const NameScoreItem = new GraphQLObjectType({
  name: '_NameScoreItem',
  fields: {
    name: { type: new GraphQLNonNull(GraphQLString) },
    score: { type: new GraphQLNonNull(NamedScore) },
  },
});
const NameScoreItemInput = new GraphQLInputObjectType({
  name: '_NameScoreItemInput',
  fields: {
    name: { type: new GraphQLNonNull(GraphQLString) },
    score: { type: new GraphQLNonNull(NamedScoreInput) },
  },
});

/** Scalars and lists usable both as input and as output field types (a cast for the helper below). */
type SharedType = GraphQLInputType & GraphQLOutputType;
type DocType = GraphQLObjectType | GraphQLInputObjectType;

function documentFields(self: () => DocType, scoreItem: DocType): Record<string, { type: SharedType }> {
  const list = (t: DocType | GraphQLScalarType) =>
    new GraphQLList(new GraphQLNonNull(t)) as unknown as SharedType;
  return {
    id: { type: GraphQLString },
    parentId: { type: GraphQLString },
    granularity: { type: GraphQLInt },
    adjacency: { type: GraphQLInt },
    blob: { type: Base64 },
    tensor: { type: NdArray },
    mimeType: { type: GraphQLString },
    text: { type: GraphQLString },
    weight: { type: GraphQLFloat },
    uri: { type: GraphQLString },
    tags: { type: JSONScalar },
    offset: { type: GraphQLFloat },
    location: { type: list(GraphQLFloat) },
    embedding: { type: NdArray },
    modality: { type: GraphQLString },
    evaluations: { type: list(scoreItem) },
    scores: { type: list(scoreItem) },
    chunks: { type: list(self()) },
    matches: { type: list(self()) },
  };
}

const StrawberryDocument: GraphQLObjectType = new GraphQLObjectType({
  name: 'StrawberryDocument',
  description: 'A document (docarray < 0.30).',
  fields: () => documentFields(() => StrawberryDocument, NameScoreItem),
});

const StrawberryDocumentInput: GraphQLInputObjectType = new GraphQLInputObjectType({
  name: 'StrawberryDocumentInput',
  description: 'A document to send; every field is optional.',
  fields: () => documentFields(() => StrawberryDocumentInput, NameScoreItemInput),
});

const RENAMES: Record<string, string> = { parent_id: 'parentId', mime_type: 'mimeType' };

/** A document's JSON (`documentToJson`) in the GraphQL shape: camelCase, scores as lists. */
function toGraphql(doc: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(doc)) {
    if ((k === 'scores' || k === 'evaluations') && isJsonObject(v)) {
      out[k] = Object.entries(v).map(([name, s]) => {
        const score = isJsonObject(s) ? s : {};
        return {
          name,
          score: {
            value: score.value ?? null,
            opName: score.op_name ?? null,
            description: score.description ?? null,
            refId: score.ref_id ?? null,
          },
        };
      });
    } else if ((k === 'chunks' || k === 'matches') && Array.isArray(v)) {
      out[k] = v.filter(isJsonObject).map(toGraphql);
    } else out[RENAMES[k] ?? k] = v;
  }
  return out;
}

/** A `StrawberryDocumentInput` as the JSON `docsFromJson` reads (scores as objects). */
function fromGraphql(input: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) {
    if ((k === 'scores' || k === 'evaluations') && Array.isArray(v)) {
      const scores: Record<string, unknown> = {};
      for (const item of v as { name: string; score: Record<string, unknown> }[])
        scores[item.name] = item.score;
      out[k] = scores;
    } else if ((k === 'chunks' || k === 'matches') && Array.isArray(v)) {
      out[k] = (v as Record<string, unknown>[]).map(fromGraphql);
    } else out[k] = v;
  }
  return out;
}

interface DocsArgs {
  data?: Record<string, unknown>[] | null;
  targetExecutor?: string | null;
  parameters?: unknown;
  execEndpoint: string;
}

/** The context of a GraphQL operation: what the request's headers forward to Executors. */
export interface GraphqlContext {
  headers?: Headers;
}

/**
 * The GraphQL schema served at `/graphql`: `docs` as query and mutation; both send one request
 * through the Flow and return its documents. An Executor error or a network failure becomes an
 * entry of `errors` (with `extensions.code`), and `data` is null.
 *
 * @example
 * ```ts
 * const schema = createGraphqlSchema(streamer);
 * ```
 */
export function createGraphqlSchema(streamer: GatewayStreamer): GraphQLSchema {
  const args: GraphQLFieldConfigArgumentMap = {
    data: { type: new GraphQLList(new GraphQLNonNull(StrawberryDocumentInput)) },
    targetExecutor: { type: GraphQLString },
    parameters: { type: JSONScalar },
    execEndpoint: { type: new GraphQLNonNull(GraphQLString), defaultValue: '/search' },
  };
  const resolve = async (
    _root: unknown,
    a: DocsArgs,
    ctx: GraphqlContext | undefined,
  ): Promise<JsonObject[]> => {
    try {
      const parameters = (a.parameters ?? undefined) as JsonValue | undefined;
      if (parameters !== undefined && !isJsonObject(parameters))
        throw new GraphQLError('parameters must be a JSON object');
      const docs = docsFromJson((a.data ?? []).map(fromGraphql));
      const [request] = toDataRequests(
        {
          endpoint: a.execEndpoint,
          docs,
          ...(a.targetExecutor ? { targetExecutor: a.targetExecutor } : {}),
          ...(parameters !== undefined ? { parameters } : {}),
        },
        0,
      );
      const response = await streamer.process(request!, { headers: ctx?.headers });
      const failure = executorErrorOf(response);
      if (failure) throw failure;
      return docsToJson(decodeDocs(response.docsBytes)).map(toGraphql);
    } catch (err) {
      if (err instanceof GraphQLError) throw err;
      throw toGraphqlError(err);
    }
  };
  const docsField: GraphQLFieldConfig<unknown, GraphqlContext | undefined, DocsArgs> = {
    type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(StrawberryDocument))),
    args,
    resolve,
  };
  return new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { docs: docsField } }),
    mutation: new GraphQLObjectType({ name: 'Mutation', fields: { docs: docsField } }),
  });
}
