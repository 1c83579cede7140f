import { z } from 'zod';
import type { ExecutorClass } from '../executor/executor.js';
import type { AuthHook } from '../gateway/auth.js';
import type { GatewayClass } from '../gateway/gateway.js';
import { executorSchema, flowOptionsSchema, gatewaySchema } from './schemas.js';

/**
 * The options of a Flow from code: the component schemas of `schemas.ts` plus the values only code
 * can give (an Executor or Gateway class, an `authenticate` function). The public types
 * `AddOptions`, `GatewayConfigOptions` and `FlowOptions` are inferred from these, and `flow.add()`,
 * `configGateway()` and `new Flow()` validate their argument with them, so that code and YAML get
 * the same checks and the same messages.
 */

const fn = <T>(what: string) => z.custom<T>((v) => typeof v === 'function', { message: `expected ${what}` });
const executorClass = fn<ExecutorClass>('an Executor class');
/** A `uses` from code: a string, or an Executor class. */
export const usesExecutor = z.union([z.string(), executorClass]);
/** An `authenticate` hook from code: `'auth.ts:check'`, or the function. */
export const authenticateOption = z.union([z.string(), fn<AuthHook>('an authenticate function')]);

/** {@link executorSchema}, with Executor classes allowed where a `uses` string is. */
export const addOptionsSchema = executorSchema.extend({
  /**
   * An Executor class, a module path (`exec.ts` or `exec.ts:ClassName`), an Executor YAML file, or
   * `docker://image`.
   */
  uses: usesExecutor.optional(),
  /** With shards: an Executor (class or `uses` string) every request goes through before the shards. */
  usesBefore: usesExecutor.optional(),
  /** With shards: an Executor (class or `uses` string) that receives all shards' answers and answers. */
  usesAfter: usesExecutor.optional(),
});

/** {@link gatewaySchema}, with a Gateway class and an `authenticate` function allowed. */
export const gatewayOptionsSchema = gatewaySchema.extend({
  /**
   * A custom Gateway, served instead of the built-in ones: a {@link GatewayClass} (defined in, or
   * imported by, the file that calls `configGateway`, or in `usesModule`), `'gw.ts:MyGateway'`, a
   * Gateway YAML file or `docker://image`. Give `port` and `protocol`: the Flow health-checks the
   * first port (`GET /` = 200, or gRPC health for `grpc`) before `start()` resolves.
   */
  uses: z.union([z.string(), fn<GatewayClass>('a Gateway class')]).optional(),
  /** The file that defines or imports the `uses` class; default: the file calling `configGateway`. */
  usesModule: z.string().optional().describe('the file that defines or imports the Gateway class'),
  /**
   * A check run on every request: a named function of the file calling `configGateway` (the Gateway
   * process imports that file again and finds it by name), or `'auth.ts:check'` (relative to the
   * working directory).
   */
  authenticate: authenticateOption.optional(),
});

/**
 * Options of `Flow.add`: every key of {@link executorSchema} (the Flow YAML's Executor entry), an
 * Executor class allowed for `uses`, `usesBefore`, `usesAfter`.
 */
export type AddOptions = z.input<typeof addOptionsSchema>;

/** Options of `Flow.configGateway`: every key of {@link gatewaySchema}, plus code-only values. */
export type GatewayConfigOptions = z.input<typeof gatewayOptionsSchema>;

/** Options of the Flow itself (`new Flow(options)`, the `with:` of a Flow YAML). */
export type FlowOptions = z.input<typeof flowOptionsSchema>;

export { flowOptionsSchema };
