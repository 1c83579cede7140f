import { GraphQLError } from 'graphql';
import { ExecutorError, FlowgateError, codeName } from '../../core/errors.js';

/**
 * The GraphQL mapping of errors, in one place: a failed `docs` query or mutation reports
 * the error as an entry of `errors` whose `extensions.code` is the name of the flowgate code
 * (`InvalidArgument`, `Unavailable`...), or `EXECUTOR_ERROR` with the Executor's name.
 * Failures before GraphQL runs (auth, body limits) are HTTP errors: `transport/http/status.ts`.
 *
 * @example
 * ```ts
 * toGraphqlError(new FlowgateError(Code.Unavailable, 'down')).extensions.code; // 'Unavailable'
 * ```
 */
export function toGraphqlError(err: unknown): GraphQLError {
  if (err instanceof ExecutorError) {
    return new GraphQLError(err.message, {
      originalError: err,
      extensions: { code: 'EXECUTOR_ERROR', executor: err.executor, exceptionName: err.exceptionName },
    });
  }
  if (err instanceof FlowgateError) {
    return new GraphQLError(err.message, { originalError: err, extensions: { code: codeName(err.code) } });
  }
  return new GraphQLError((err as Error)?.message ?? String(err));
}
