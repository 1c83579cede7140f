import { fileURLToPath } from 'node:url';
import type { ExecutorSpec, FlowSpec, GatewaySpec } from '../config/schemas.js';
import { Code, FlowgateError } from '../core/errors.js';
import { definingFile } from '../executor/requests.js';
import type { AddOptions, GatewayConfigOptions } from '../config/options.js';
import type { ExecutorEntry, GatewayEntry } from './flow-plan.js';

/**
 * A Flow's options to and from its YAML form ({@link FlowSpec}): classes become `file.ts:Class`,
 * `uses: Class` with `modules: file.ts` becomes `file.ts:Class`.
 */

/** `file.ts:Class` for a class, from the file that defines it. */
function classRef(cls: { name: string }, file: string | undefined, what: string): string {
  if (!file)
    throw new FlowgateError(
      Code.InvalidArgument,
      `cannot tell which file defines ${what}${cls.name}, so it cannot be saved`,
    );
  return `${file.startsWith('file:') ? fileURLToPath(file) : file}:${cls.name}`;
}

/** The `configGateway()` options of a Flow YAML's `gateway:` section. */
export function gatewayOptionsOfSpec(spec: GatewaySpec): GatewayConfigOptions {
  const { uses, modules, ...gateway } = spec;
  const firstModule = [modules ?? []].flat()[0];
  // `uses: MyGateway` with `modules: gw.ts` names a class in that module
  const gwUses = uses !== undefined && firstModule && /^\w+$/.test(uses) ? `${firstModule}:${uses}` : uses;
  return gwUses === undefined ? gateway : { ...gateway, uses: gwUses };
}

/** The `add()` options of a Flow YAML's Executor entry. */
export function addOptionsOfSpec(e: ExecutorSpec): AddOptions {
  return e;
}

/** An Executor as its Flow YAML entry; `previous` is the Executor it follows by default. */
export function executorSpecOf(d: ExecutorEntry, previous: string): ExecutorSpec {
  const { needsList, uses, usesBefore, usesAfter, ...rest } = d;
  const spec: ExecutorSpec = { name: rest.name };
  const ref = (u: typeof uses) => (typeof u === 'function' ? classRef(u, definingFile(u), '') : u);
  if (uses !== undefined) spec.uses = ref(uses);
  Object.assign(spec, rest);
  if (usesBefore !== undefined) spec.usesBefore = ref(usesBefore);
  if (usesAfter !== undefined) spec.usesAfter = ref(usesAfter);
  if (needsList.length !== 1 || needsList[0] !== previous)
    spec.needs = needsList.length === 1 ? needsList[0] : needsList;
  return spec;
}

/** The Gateway as its Flow YAML section. */
export function gatewaySpecOf(gateway: GatewayEntry, gatewayModule: string | undefined): GatewaySpec {
  const { uses, usesModule: _usesModule, ...rest } = gateway;
  if (typeof uses === 'function') return { ...rest, uses: classRef(uses, gatewayModule, 'the Gateway ') };
  return uses === undefined ? rest : { ...rest, uses };
}

/** A whole Flow as a {@link FlowSpec}. */
export function flowSpecOf(parts: {
  with: FlowSpec['with'];
  gateway: GatewaySpec;
  executors: ExecutorSpec[];
}): FlowSpec {
  return { jtype: 'Flow', with: parts.with, gateway: parts.gateway, executors: parts.executors };
}
