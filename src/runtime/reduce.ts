import { DocumentArray, decodeDocs, encodeDocs, type Document } from '../document/index.js';
import type { DataRequest } from '../proto/request.js';
import type { JsonObject } from '../proto/struct.js';

/**
 * Reduces the parts of one request (a join in the Gateway, the shards' answers in a head) into one:
 * documents merged by id, the left-most part winning (see {@link mergeDocument}); documents only in
 * later parts appended in order; parameters of all parts merged (later keys win). The header comes
 * from the first part that is not an error.
 *
 * @example
 * ```ts
 * const one = reduceRequests([fromB, fromC]);
 * ```
 */
export function reduceRequests(parts: DataRequest[]): DataRequest {
  const base = parts.find((p) => !p.isError) ?? parts[0]!;
  const out = base.clone();
  const merged = new DocumentArray();
  const index = new Map<string, Document>();
  for (const p of parts) {
    for (const d of decodeDocs(p.docsBytes)) {
      const existing = index.get(d.id);
      if (existing) mergeDocument(existing, d);
      else {
        index.set(d.id, d);
        merged.push(d);
      }
    }
  }
  out.parameters = mergeParameters(parts);
  out.docsBytes = encodeDocs(merged);
  out.docsInBytesField = false;
  return out;
}

/**
 * Joins the parts of one request without merging: every part's documents, in part order (a head
 * with `noReduce`).
 */
export function concatRequests(parts: DataRequest[]): DataRequest {
  const base = parts.find((p) => !p.isError) ?? parts[0]!;
  const out = base.clone();
  const all = new DocumentArray();
  for (const p of parts) all.extend(decodeDocs(p.docsBytes));
  out.parameters = mergeParameters(parts);
  out.docsBytes = encodeDocs(all);
  out.docsInBytesField = false;
  return out;
}

function mergeParameters(parts: DataRequest[]): JsonObject {
  const params: JsonObject = {};
  for (const p of parts) Object.assign(params, p.parameters);
  return params;
}

const SIMPLE_FIELDS = ['embedding', 'uri', 'mimeType', 'parentId', 'weight', 'modality', 'offset'] as const;

/**
 * Merges `right` into `left` (docarray v1's reduce): fields `left` lacks are taken from `right`,
 * `tags`, `scores` and `evaluations` are united with `left`'s values winning, and `chunks` and
 * `matches` are merged recursively by id.
 *
 * @example
 * ```ts
 * mergeDocument(a, b); // a now also carries b's tags and matches
 * ```
 */
export function mergeDocument(left: Document, right: Document): void {
  const l = left as unknown as Record<string, unknown>;
  const r = right as unknown as Record<string, unknown>;
  if (left.contentType === undefined && right.contentType !== undefined) {
    l[right.contentType] = r[right.contentType];
  }
  for (const key of SIMPLE_FIELDS) {
    if (l[key] === undefined && r[key] !== undefined) l[key] = r[key];
  }
  if (left.location.length === 0 && right.location.length > 0) left.location = [...right.location];
  left.tags = { ...right.tags, ...left.tags };
  left.scores = { ...right.scores, ...left.scores };
  left.evaluations = { ...right.evaluations, ...left.evaluations };
  for (const field of ['chunks', 'matches'] as const) {
    if (right[field].length === 0) continue;
    const idx = new Map(left[field].map((d) => [d.id, d]));
    for (const d of right[field]) {
      const e = idx.get(d.id);
      if (e) mergeDocument(e, d);
      else left[field].push(d);
    }
  }
}
