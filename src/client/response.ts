import { decodeDocs, type DocumentArray } from '../document/index.js';
import type { DataRequest } from '../proto/request.js';
import type { JsonObject } from '../proto/struct.js';
import type { jina } from '../proto/wire.js';

/**
 * One response of the Gateway, as `onDone` / `onError` / `onAlways` callbacks and
 * `returnResponses: true` see it. Documents are decoded on first access.
 */
export class Response {
  private _docs: DocumentArray | undefined;
  constructor(readonly request: DataRequest) {}

  get requestId(): string {
    return this.request.requestId;
  }
  get docs(): DocumentArray {
    this._docs ??= decodeDocs(this.request.docsBytes);
    return this._docs;
  }
  get parameters(): JsonObject {
    return this.request.parameters;
  }
  get status(): jina.IStatusProto | undefined {
    return this.request.status;
  }
  get routes(): jina.IRouteProto[] {
    return this.request.routes;
  }
  get isError(): boolean {
    return this.request.isError;
  }
}
