/**
 * flowgate's one error class and its closed set of codes. The codes are gRPC's, so that the mapping
 * to a gRPC status is the identity (`transport/grpc/status.ts`); the mapping to HTTP lives in
 * `transport/http/status.ts` and nowhere else.
 *
 * @example
 * ```ts
 * throw new FlowgateError(Code.InvalidArgument, 'requestSize must be a positive integer');
 * ```
 */
export const Code = {
  Ok: 0,
  Cancelled: 1,
  Unknown: 2,
  InvalidArgument: 3,
  DeadlineExceeded: 4,
  NotFound: 5,
  AlreadyExists: 6,
  PermissionDenied: 7,
  ResourceExhausted: 8,
  FailedPrecondition: 9,
  Aborted: 10,
  OutOfRange: 11,
  Unimplemented: 12,
  Internal: 13,
  Unavailable: 14,
  DataLoss: 15,
  Unauthenticated: 16,
} as const;
export type Code = (typeof Code)[keyof typeof Code];

const codeNames = Object.fromEntries(Object.entries(Code).map(([k, v]) => [v, k])) as Record<Code, string>;

/** The name of a code, e.g. `Unavailable`. */
export function codeName(code: Code): string {
  return codeNames[code] ?? 'Unknown';
}

/** Options of {@link FlowgateError}. */
export interface FlowgateErrorOptions {
  /** The error that caused this one. */
  cause?: unknown;
  /** Extra structured details, e.g. `{ executor: 'encoder', address: '127.0.0.1:5001' }`. */
  details?: Record<string, unknown>;
}

/** The error flowgate raises: a code from {@link Code} and a message meant for the user. */
export class FlowgateError extends Error {
  override readonly name: string = 'FlowgateError';
  readonly code: Code;
  readonly details: Record<string, unknown>;

  constructor(code: Code, message: string, options: FlowgateErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }
}

/**
 * An error raised by an Executor's own code, as the Gateway and the Client surface it: the fields of
 * the wire's `StatusProto.ExceptionProto`.
 */
export class ExecutorError extends Error {
  override readonly name: string = 'ExecutorError';
  /** The exception's class name, e.g. `TypeError`. */
  readonly exceptionName: string;
  /** The arguments (for JS errors: the message). */
  readonly args: string[];
  /** The stack, one frame per entry. */
  readonly stacks: string[];
  /** The name of the Executor that raised it. */
  readonly executor: string;

  constructor(init: {
    name: string;
    args?: string[];
    stacks?: string[];
    executor?: string;
    description?: string;
  }) {
    const executor = init.executor ?? '';
    const args = init.args ?? [];
    const msg = init.description || args.join(', ') || init.name;
    super(executor ? `Executor ${executor} raised ${init.name}: ${msg}` : `${init.name}: ${msg}`);
    this.exceptionName = init.name;
    this.args = args;
    this.stacks = init.stacks ?? [];
    this.executor = executor;
  }
}
