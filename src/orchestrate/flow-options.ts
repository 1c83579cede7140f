import { validateComponent } from '../config/load.js';
import {
  addOptionsSchema,
  flowOptionsSchema,
  gatewayOptionsSchema,
  type AddOptions,
  type FlowOptions,
  type GatewayConfigOptions,
} from '../config/options.js';
import { Code, FlowgateError } from '../core/errors.js';

/**
 * The options of a Flow, of its Executors (`flow.add`) and of its Gateway (`flow.configGateway`):
 * types inferred from the component schemas (`config/schemas.ts`), and the checks made when they
 * are given (before anything starts): the same parse as a Flow YAML, so the same messages.
 */
export type { AddOptions, FlowOptions, GatewayConfigOptions };

/** `flow.add()` options, validated as a Flow YAML Executor entry is. */
export function checkAddOptions(options: AddOptions, what = 'the Executor'): AddOptions {
  const checked = validateComponent(addOptionsSchema, options, { locate: () => 'add()' }, [], what);
  if (checked.tls && !checked.external)
    throw new FlowgateError(
      Code.InvalidArgument,
      `${what}: tls applies to external Executors (external: true, host, port); the Flow's own Executors listen on loopback without TLS`,
    );
  return checked;
}

/** `configGateway()` options, validated as a Flow YAML `gateway:` section is. */
export function checkGatewayOptions(options: GatewayConfigOptions): GatewayConfigOptions {
  return validateComponent(
    gatewayOptionsSchema,
    options,
    { locate: () => 'configGateway()' },
    [],
    'the gateway',
  );
}

/** `new Flow()` options, validated as a Flow YAML `with:` section is. */
export function checkFlowOptions(options: FlowOptions): FlowOptions {
  return validateComponent(
    flowOptionsSchema,
    options,
    { locate: () => 'new Flow()' },
    [],
    'the Flow options',
  );
}

export { BUILTIN_GATEWAY_OPTIONS, gatewayProcessOptions } from './flow-plan.js';
