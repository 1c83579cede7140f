import { Document, DocumentArray, encodeDocs } from '../document/index.js';
import { DRY_RUN_ENDPOINT } from '../executor/requests.js';
import { DataRequest, StatusCode, statusFromError } from '../proto/request.js';
import type { jina } from '../proto/wire.js';
import type { GatewayStreamer } from './streamer.js';

/**
 * Runs the dry-run request (one empty document to `/_jina_dry_run_`) through the whole Flow and
 * returns its status: what every protocol's dry run answers (gRPC `dry_run`, HTTP `/dry_run`,
 * WebSocket `/dry_run`).
 *
 * @example
 * ```ts
 * (await dryRun(streamer)).code; // 0 when every Executor answered
 * ```
 */
export async function dryRun(streamer: GatewayStreamer): Promise<jina.IStatusProto> {
  try {
    const req = DataRequest.create({
      endpoint: DRY_RUN_ENDPOINT,
      docsBytes: encodeDocs(new DocumentArray([new Document()])),
    });
    const res = await streamer.process(req);
    return res.status ?? { code: StatusCode.SUCCESS };
  } catch (err) {
    return statusFromError(err, '');
  }
}
