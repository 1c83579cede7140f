import type { Context, Tracer } from '@opentelemetry/api';
import { Code, FlowgateError } from '../core/errors.js';
import { Document } from '../document/index.js';
import type { JsonObject } from '../proto/struct.js';
import type { Executor } from './executor.js';
import { endpointTable } from './requests.js';

/**
 * The single argument of a streaming endpoint: a method bound with `@requests` that is an async
 * generator (or a generator). It receives one input document and yields its output documents, each
 * sent to the caller as soon as it is yielded.
 *
 * @example
 * ```ts
 * class Tokens extends Executor {
 *   @requests({ on: '/generate' })
 *   async *generate({ doc, parameters }: StreamArgs) {
 *     for (const word of (doc.text ?? '').split(' ')) yield new Document({ text: word });
 *   }
 * }
 * ```
 */
export interface StreamArgs {
  /** The one input document. */
  doc: Document;
  /** The request's parameters, with `<executor>__<key>` entries resolved for this Executor. */
  parameters: JsonObject;
  /** Request headers / gRPC metadata the Gateway was told to forward. */
  metadata: Record<string, string>;
  /** With `tracing: true`: the context of this stream's span. */
  tracingContext?: Context;
  /** With `tracing: true`: the runtime's tracer. */
  tracer?: Tracer;
}

/** What a streaming endpoint may yield: a Document or what builds one. */
export type StreamItem = Document | ConstructorParameters<typeof Document>[0];

const GENERATOR_KINDS = new Set(['AsyncGeneratorFunction', 'GeneratorFunction']);

/** True when `fn` is an async generator function or a generator function. */
export function isGeneratorFunction(fn: unknown): boolean {
  return (
    typeof fn === 'function' &&
    GENERATOR_KINDS.has((fn as { constructor: { name: string } }).constructor.name)
  );
}

/** The endpoints an Executor class serves with a generator method: its streaming endpoints. */
export function streamingEndpoints(cls: abstract new (...args: never[]) => unknown): Set<string> {
  const out = new Set<string>();
  const proto = cls.prototype as Record<string, unknown>;
  for (const [endpoint, method] of endpointTable(cls))
    if (isGeneratorFunction(proto[method])) out.add(endpoint);
  return out;
}

/**
 * The error for a DataRequest (`post`) sent to a streaming endpoint.
 *
 * @example
 * ```ts
 * throw notAStreamCall('/generate', 'tokens');
 * ```
 */
export function notAStreamCall(endpoint: string, executor: string): FlowgateError {
  return new FlowgateError(
    Code.InvalidArgument,
    `endpoint ${endpoint} of Executor ${executor} is a streaming endpoint (a generator): call it with streamDoc (gRPC jina.JinaSingleDocumentRequestRPC/stream_doc, HTTP SSE), not post`,
    { details: { executor } },
  );
}

/** The error for a `stream_doc` call to an endpoint that is not a generator. */
export function notAStreamingEndpoint(endpoint: string, executor: string): FlowgateError {
  return new FlowgateError(
    Code.InvalidArgument,
    `endpoint ${endpoint} of Executor ${executor} is not a streaming endpoint (its method is not a generator): call it with post`,
    { details: { executor } },
  );
}

/**
 * Runs a streaming method and yields its items as Documents. Returning from the iteration early
 * (`break`, `return()`) closes the method's generator, so its `finally` runs.
 */
export async function* runStreamingMethod(
  executor: Executor,
  methodName: string,
  args: StreamArgs,
): AsyncGenerator<Document> {
  const method = (executor as unknown as Record<string, (a: StreamArgs) => unknown>)[methodName]!;
  const gen = method.call(executor, args) as AsyncIterable<StreamItem> | Iterable<StreamItem>;
  // A sync generator is wrapped: `yield*` on an async generator closes it as well.
  const it: AsyncIterable<StreamItem> =
    Symbol.asyncIterator in gen
      ? gen
      : (async function* () {
          yield* gen;
        })();
  for await (const item of it) yield item instanceof Document ? item : new Document(item ?? {});
}
