import type { FastifyServerOptions } from 'fastify';

/**
 * Fastify's `schemaController` option for apps whose route schemas only describe (for OpenAPI):
 * every body passes (flowgate checks request bodies itself, answering 422 with the field's name)
 * and every reply is written with `JSON.stringify`, so a schema can never drop or coerce a field.
 *
 * Given at construction, it also keeps Fastify from loading its default compilers (Ajv with
 * ajv-formats, fast-json-stringify: about 240 modules and 4 MB of heap that an idle Gateway would
 * hold; see docs/memory.md). `setValidatorCompiler` / `setSerializerCompiler` after construction
 * come too late for that: the defaults are required when the app is built.
 *
 * @example
 * ```ts
 * const app = Fastify({ logger: false, schemaController: describeOnlySchemaController() });
 * app.post('/x', { schema: { body: { type: 'object' } } }, async (req) => req.body); // not validated
 * ```
 */
export function describeOnlySchemaController(): SchemaControllerOptions {
  // Fastify types a validator as Ajv's (with `schema`, `errors`...); it only ever calls it.
  const compilersFactory = {
    buildValidator: () => () => acceptAll,
    buildSerializer: () => () => stringify,
  } as unknown as SchemaControllerOptions['compilersFactory'];
  return { compilersFactory };
}

/** Fastify's `schemaController` server option. */
export type SchemaControllerOptions = NonNullable<FastifyServerOptions['schemaController']>;

function acceptAll(): boolean {
  return true;
}

function stringify(data: unknown): string {
  return JSON.stringify(data);
}
