import type { Context, Tracer } from '@opentelemetry/api';
import { DocumentArray, decodeDocs, encodeDocs } from '../document/index.js';
import type { DataRequest } from '../proto/request.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../proto/struct.js';
import type { Executor, HandlerArgs } from './executor.js';
import { DRY_RUN_ENDPOINT, endpointTable, resolveEndpoint } from './requests.js';
import {
  isGeneratorFunction,
  notAStreamCall,
  notAStreamingEndpoint,
  runStreamingMethod,
  streamingEndpoints,
  type StreamArgs,
} from './streaming.js';
import type { Document } from '../document/index.js';

/** The parameters key under which returned objects are gathered, per Executor. */
export const RESULTS_KEY = '__results__';

/** Options of {@link ExecutorHandler.handle}. */
export interface HandleOptions {
  /** Forwarded request metadata (headers), already filtered by the allow-list. */
  metadata?: Record<string, string>;
  /** With tracing: the context of the endpoint's span and the tracer, handed to the method. */
  tracingContext?: Context;
  tracer?: Tracer;
  /** With monitoring: called after the method returned, with its duration and the documents it got. */
  onProcessed?: (endpoint: string, seconds: number, docs: number) => void;
}

/**
 * Runs requests through one Executor instance: resolves the endpoint, decodes the documents,
 * calls the bound method and writes the result (or the error) back into the request.
 *
 * @example
 * ```ts
 * const handler = new ExecutorHandler(new MyExec({ metas: { name: 'exec' } }));
 * const response = await handler.handle([request]);
 * ```
 */
export class ExecutorHandler {
  readonly executor: Executor;
  readonly name: string;
  private readonly table: Map<string, string>;

  constructor(executor: Executor) {
    this.executor = executor;
    this.name = executor.metas.name;
    this.table = endpointTable(executor.constructor as typeof Executor);
  }

  /** The endpoints this Executor binds. */
  get endpoints(): string[] {
    return [...this.table.keys()];
  }

  /** The endpoints served by a generator method (streaming endpoints, see `streaming.ts`). */
  get streamingEndpoints(): Set<string> {
    return streamingEndpoints(this.executor.constructor as typeof Executor);
  }

  /**
   * Runs the streaming endpoint `endpoint` on one document and yields what it yields. Throws
   * INVALID_ARGUMENT when the endpoint is not a generator (or not bound at all).
   */
  streamDoc(
    endpoint: string,
    doc: Document,
    parameters: JsonObject,
    options: HandleOptions = {},
  ): AsyncGenerator<Document> {
    const methodName = resolveEndpoint(this.table, endpoint);
    const method: unknown = methodName && (this.executor as unknown as Record<string, unknown>)[methodName];
    if (methodName === undefined || !isGeneratorFunction(method))
      throw notAStreamingEndpoint(endpoint, this.name);
    const args: StreamArgs = {
      doc,
      parameters: parametersFor(parameters, this.name),
      metadata: options.metadata ?? {},
    };
    if (options.tracingContext) {
      args.tracingContext = options.tracingContext;
      args.tracer = options.tracer;
    }
    return runStreamingMethod(this.executor, methodName, args);
  }

  /**
   * Handles one request, or several parts of one request (a join that does not reduce). Never
   * throws: an error in user code is written into the returned request's header status.
   */
  async handle(parts: DataRequest[], options: HandleOptions = {}): Promise<DataRequest> {
    const first = parts[0];
    if (!first) throw new Error('handle() needs at least one request');
    const endpoint = first.endpoint;
    if (endpoint === DRY_RUN_ENDPOINT) return first;
    const methodName = resolveEndpoint(this.table, endpoint);
    if (methodName === undefined) return first;
    const response = first;
    try {
      const docsMatrix = parts.map((p) => decodeDocs(p.docsBytes));
      const docsMap: Record<string, DocumentArray> = {};
      parts.forEach((p, i) => {
        const from = p.lastRouteExecutor;
        if (from) docsMap[from] = docsMatrix[i]!;
      });
      const docs = docsMatrix.length === 1 ? docsMatrix[0]! : mergeParts(docsMatrix);
      const inputParams = mergeParameters(parts);
      const parameters = parametersFor(inputParams, this.name);
      const args: HandlerArgs = { docs, parameters, docsMatrix, docsMap, metadata: options.metadata ?? {} };
      if (options.tracingContext) {
        args.tracingContext = options.tracingContext;
        args.tracer = options.tracer;
      }
      const method = (this.executor as unknown as Record<string, (a: HandlerArgs) => unknown>)[methodName]!;
      if (isGeneratorFunction(method)) throw notAStreamCall(endpoint, this.name);
      const started = options.onProcessed ? performance.now() : 0;
      const result = await method.call(this.executor, args);
      options.onProcessed?.(endpoint, (performance.now() - started) / 1000, docs.length);
      let out = docs;
      if (result instanceof DocumentArray) out = result;
      else if (Array.isArray(result)) out = new DocumentArray(result as DocumentArray);
      else if (result !== undefined && result !== null && typeof result === 'object') {
        const results = isJsonObject(inputParams[RESULTS_KEY]) ? inputParams[RESULTS_KEY] : {};
        results[this.name] = toJson(result);
        inputParams[RESULTS_KEY] = results;
      }
      response.docsBytes = encodeDocs(out);
      response.docsInBytesField = false;
      response.parameters = inputParams;
    } catch (err) {
      response.setError(err, this.name);
    }
    return response;
  }
}

/** Union of several parts' docs by id, the left-most part winning. */
export function mergeParts(matrix: DocumentArray[]): DocumentArray {
  const out = new DocumentArray();
  const seen = new Set<string>();
  for (const da of matrix) {
    for (const d of da) {
      if (seen.has(d.id)) continue;
      seen.add(d.id);
      out.push(d);
    }
  }
  return out;
}

/** The parameters of several parts of one request, merged (later parts win). */
export function mergeParameters(parts: DataRequest[]): JsonObject {
  if (parts.length === 1) return parts[0]!.parameters;
  const out: JsonObject = {};
  for (const p of parts) Object.assign(out, p.parameters);
  return out;
}

/**
 * The parameters one Executor sees: `<name>__<key>` entries become `<key>` for that Executor and
 * vanish for every other; a key equal to the Executor's name holding an object is merged in.
 */
export function parametersFor(params: JsonObject, name: string): JsonObject {
  const out: JsonObject = {};
  const specific: JsonObject = {};
  for (const [key, value] of Object.entries(params)) {
    const sep = key.indexOf('__');
    if (sep > 0 && sep + 2 < key.length) {
      if (key.slice(0, sep) === name) specific[key.slice(sep + 2)] = value;
      continue;
    }
    out[key] = value;
  }
  const own = params[name];
  if (isJsonObject(own)) Object.assign(out, own);
  return Object.assign(out, specific);
}

function toJson(v: unknown): JsonValue {
  return JSON.parse(JSON.stringify(v ?? null)) as JsonValue;
}
