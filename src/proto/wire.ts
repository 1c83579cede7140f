/**
 * The generated protobuf classes for the wire protocol (`proto/*.proto`), re-exported with the
 * names the rest of flowgate uses. Generated code lives in `./gen` and is never edited by hand.
 *
 * @example
 * ```ts
 * import { jina } from './wire.js';
 * const bytes = jina.DataRequestProto.encode({ header: { requestId: 'r1' } }).finish();
 * ```
 */
export { jina, docarray, google, flowgate } from './gen/wire.js';
