import type { DocsToJsonOptions } from '../../document/index.js';
import { DataRequest } from '../../proto/request.js';
import { dataRequestToJson } from '../shared/request-json.js';

/**
 * The JSON answer (`dataRequestToJson`) of a serialised `DataRequestProto`, as a string: a stand-in
 * for `answerJsonFromWire` of `transport/shared/answer-json.ts` (same signature, same result)
 * until that writer, which builds no Document objects, is in.
 *
 * @example
 * ```ts
 * reply.type('application/json; charset=utf-8').send(answerJsonFromWire(answer, {}));
 * ```
 */
export function answerJsonFromWire(bytes: Uint8Array, options: DocsToJsonOptions): string {
  return JSON.stringify(dataRequestToJson(DataRequest.decode(bytes), options));
}
