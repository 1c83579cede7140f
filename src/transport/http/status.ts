import type { FastifyError, FastifyInstance } from 'fastify';
import { Code, FlowgateError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { docsToJson } from '../../document/index.js';
import { StatusCode } from '../../proto/request.js';
import type { JsonObject } from '../../proto/struct.js';
import type { JsonRequestFields } from '../shared/request-json.js';

/**
 * The HTTP mapping of errors, in one place: the status of each code (and back, for the Client),
 * and how the HTTP-family Gateways turn errors into responses:
 * - a request that cannot be served (bad JSON, wrong shape, too large, unknown route) gets a
 *   FastAPI-style `{"detail": "<reason>"}` body with 400 / 422 / 413 / 415 / 404;
 * - a request that reached the Flow but could not get through it (an Executor unreachable or too
 *   slow) gets the original's body: the request echoed back with an error `header`, and 503 / 504.
 */

/** The HTTP status for a code: the single place where this mapping lives. */
export function httpStatusOf(code: Code): number {
  switch (code) {
    case Code.Ok:
      return 200;
    case Code.InvalidArgument:
    case Code.OutOfRange:
      return 400;
    case Code.Unauthenticated:
      return 401;
    case Code.PermissionDenied:
      return 403;
    case Code.NotFound:
      return 404;
    case Code.AlreadyExists:
    case Code.Aborted:
      return 409;
    case Code.FailedPrecondition:
      return 422;
    case Code.ResourceExhausted:
      return 413;
    case Code.Cancelled:
      return 499;
    case Code.Unimplemented:
      return 501;
    case Code.Unavailable:
      return 503;
    case Code.DeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

/** The code of an HTTP status (what the HTTP Client reads): the inverse of {@link httpStatusOf}, 422 read as a bad request. */
export function codeOfHttpStatus(status: number): Code {
  if (status === 422) return Code.InvalidArgument;
  for (const code of Object.values(Code)) if (code !== Code.Ok && httpStatusOf(code) === status) return code;
  return status >= 500 ? Code.Internal : Code.Unknown;
}

/** The HTTP status of any error: `details.httpStatus`, else the code's, else Fastify's own. */
export function httpStatusOfError(err: unknown): number {
  if (err instanceof FlowgateError) {
    const forced = err.details.httpStatus;
    if (typeof forced === 'number') return forced;
    // The original answers 503 for NOT_FOUND from the network layer as well.
    return err.code === Code.NotFound ? 503 : httpStatusOf(err.code);
  }
  const status = (err as Partial<FastifyError> | undefined)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
}

/**
 * The body the original returns when the Flow could not be reached (jina-behaviour.md §2.4): the
 * request echoed back (snake_case keys, documents unwrapped) with `header.status` describing the
 * failure. Deviation: `exception.executor` names the Executor that could not be reached (the
 * original leaves it empty; the description names it in both).
 */
export function networkErrorBody(err: unknown, fields: JsonRequestFields, requestId: string): JsonObject {
  const e = err instanceof Error ? err : new Error(String(err));
  const executor = err instanceof FlowgateError ? err.details.executor : undefined;
  const body: JsonObject = {
    data: docsToJson(fields.docs),
    exec_endpoint: fields.endpoint,
    target_executor: fields.targetExecutor ?? null,
    parameters: fields.parameters ?? null,
  };
  body.header = {
    request_id: requestId,
    status: {
      code: StatusCode.ERROR,
      description: e.message,
      exception: {
        name: e.name,
        args: [e.message],
        stacks: (e.stack ?? '').split('\n').map((l) => `${l}\n`),
        executor: typeof executor === 'string' ? executor : '',
      },
    },
  };
  return body;
}

/** The reason given for a status when the error carries none worth showing. */
function detailOf(err: unknown, status: number, bodyLimit: number): string {
  const e = err as Partial<FastifyError> | undefined;
  if (e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return `the request body is larger than the limit of ${bodyLimit} bytes (maxMessageBytes)`;
  if (e?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
    return `unsupported content type: send the body as application/json`;
  if (status >= 500 && !(err instanceof FlowgateError)) return 'Internal Server Error';
  return e?.message ?? String(err);
}

/** Options of {@link registerErrorHandlers}. */
export interface ErrorHandlersOptions {
  logger: Logger;
  /** The body limit in bytes, quoted in 413 answers. */
  bodyLimit: number;
}

/**
 * Sets the app's error and not-found handlers: every failure answers JSON
 * `{"detail": "<reason>"}` with the status of {@link httpStatusOfError}; 404 is
 * `{"detail": "Not Found"}` as FastAPI writes it. Route handlers that must answer the original's
 * echo body for network errors do so themselves (see `data-routes.ts`).
 */
export function registerErrorHandlers(app: FastifyInstance, options: ErrorHandlersOptions): void {
  app.setErrorHandler((err: unknown, request, reply) => {
    const status = httpStatusOfError(err);
    if (status >= 500) {
      options.logger.error(`${request.method} ${request.url} failed`, {
        error: err instanceof Error ? (err.stack ?? err.message) : String(err),
      });
    }
    void reply.code(status).send({ detail: detailOf(err, status, options.bodyLimit) });
  });
  app.setNotFoundHandler((_request, reply) => {
    void reply.code(404).send({ detail: 'Not Found' });
  });
}
