/**
 * Documents as JSON text straight from their protobuf bytes: what
 * `JSON.stringify(docsToJson(decodeDocs(bytes), options))` writes, without building Document
 * objects, protobufjs messages or an object tree for `JSON.stringify`. A small reader walks the
 * wire (varints, lengths, fixed32 floats, fixed64 doubles) and the JSON is written as it goes.
 *
 * It follows the generated decoders field for field: fields are told apart by their number (as
 * protobufjs does), a singular field given twice keeps its last value, repeated fields append,
 * map keys keep the order a JS object gives them, unknown fields are skipped, and nested messages
 * deeper than protobufjs' recursion limit fail. Malformed bytes throw an Error with a message.
 *
 * @example
 * ```ts
 * docsJsonFromWire(encodeDocs([new Document({ id: 'a', text: 'hi' })])); // '[{"id":"a",...}]'
 * ```
 */
import { newDocumentId } from './document.js';
import type { DocsToJsonOptions } from './json-codec.js';
import { ndJson, readNdArray, type NdWire } from './wire-ndarray.js';
import { RECURSION_LIMIT, WireReader, jsonNumber, jsonString, tooDeep } from './wire-reader.js';
import { structJsonFromWire } from './wire-struct.js';

export { structJsonFromWire } from './wire-struct.js';

/** Named scores being read: the JSON of each (null while an entry has no value yet). */
type ScoreEntries = Record<string, string | null>;

function readScoreEntry(r: WireReader, end: number, depth: number, into: ScoreEntries): void {
  let kS = 0;
  let kE = 0;
  let value: string | null = null;
  while (r.pos < end) {
    const t = r.uint32();
    const f = t >>> 3;
    if (f === 1) {
      kE = r.lengthEnd(end);
      kS = r.pos;
      r.pos = kE;
    } else if (f === 2) value = scoreJson(r, r.lengthEnd(end), depth + 1);
    else r.skipType(t & 7, depth);
  }
  r.checkEnd(end);
  const key = r.str(kS, kE);
  // `__proto__` is kept by the decoder but lost when the scores are copied into a Document
  if (key !== '__proto__') into[key] = value;
  else if (value === null) noScoreValue();
}

function noScoreValue(): never {
  // documentFromProto reads `.value` of the entry's message, which is null
  throw new TypeError('a named score entry has no value');
}

function scoreJson(r: WireReader, end: number, depth: number): string {
  if (depth > RECURSION_LIMIT) throw tooDeep();
  let value = 0;
  const s = [0, 0, 0, 0, 0, 0];
  while (r.pos < end) {
    const t = r.uint32();
    const f = t >>> 3;
    if (f === 1) value = r.float();
    else if (f >= 2 && f <= 4) {
      const e = r.lengthEnd(end);
      s[(f - 2) * 2] = r.pos;
      s[(f - 2) * 2 + 1] = e;
      r.pos = e;
    } else r.skipType(t & 7, depth);
  }
  r.checkEnd(end);
  return `{"value":${jsonNumber(value)},"op_name":${r.strOrNull(s[0]!, s[1]!)},"description":${r.strOrNull(s[2]!, s[3]!)},"ref_id":${r.strOrNull(s[4]!, s[5]!)}}`;
}

function scoresJson(entries: ScoreEntries | undefined): string {
  if (entries === undefined) return 'null';
  let out = '';
  for (const k of Object.keys(entries)) {
    const v = entries[k];
    if (v === null || v === undefined) noScoreValue();
    out += (out === '' ? '{' : ',') + jsonString(k) + ':' + v;
  }
  return out === '' ? 'null' : out + '}';
}

/**
 * The JSON text of one encoded `DocumentProto` ending at `end`, as
 * `JSON.stringify(documentToJson(documentFromProto(DocumentProto.decode(bytes)), options))`.
 */
export function documentJsonFromWire(r: WireReader, end: number, depth: number, base64: boolean): string {
  if (depth > RECURSION_LIMIT) throw tooDeep();
  // start and end of the string fields (id, parent_id, uri, modality, mime_type) at [2f], [2f + 1]
  const sp = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  let hasText = false;
  let textS = 0;
  let textE = 0;
  let blobS = -1;
  let blobE = 0;
  let tensor: NdWire | undefined;
  let embedding: NdWire | undefined;
  let granularity = 0;
  let adjacency = 0;
  let weight = 0;
  let offset = 0;
  let location: string | undefined;
  let tags = 'null';
  let chunks: string | undefined;
  let matches: string | undefined;
  let scores: ScoreEntries | undefined;
  let evaluations: ScoreEntries | undefined;
  while (r.pos < end) {
    const t = r.uint32();
    const f = t >>> 3;
    switch (f) {
      case 1:
      case 7:
      case 9:
      case 10:
      case 11: {
        const e = r.lengthEnd(end);
        sp[f * 2] = r.pos;
        sp[f * 2 + 1] = e;
        r.pos = e;
        break;
      }
      case 2:
        blobE = r.lengthEnd(end);
        blobS = r.pos;
        r.pos = blobE;
        break;
      case 3:
        tensor = readNdArray(r, r.lengthEnd(end), depth + 1);
        break;
      case 4:
        hasText = true;
        textE = r.lengthEnd(end);
        textS = r.pos;
        r.pos = textE;
        break;
      case 5:
        granularity = r.uint32();
        break;
      case 6:
        adjacency = r.uint32();
        break;
      case 8:
        weight = r.float();
        break;
      case 12:
        offset = r.float();
        break;
      case 13:
        location = r.floatList(t, end, location);
        break;
      case 14: {
        const c = documentJsonFromWire(r, r.lengthEnd(end), depth + 1, base64);
        chunks = chunks === undefined ? c : chunks + ',' + c;
        break;
      }
      case 15: {
        const m = documentJsonFromWire(r, r.lengthEnd(end), depth + 1, base64);
        matches = matches === undefined ? m : matches + ',' + m;
        break;
      }
      case 16:
        embedding = readNdArray(r, r.lengthEnd(end), depth + 1);
        break;
      case 17:
        tags = structJsonFromWire(r, r.lengthEnd(end), depth + 1);
        break;
      case 18:
        readScoreEntry(r, r.lengthEnd(end), depth, (scores ??= {}));
        break;
      case 19:
        readScoreEntry(r, r.lengthEnd(end), depth, (evaluations ??= {}));
        break;
      case 20:
        structJsonFromWire(r, r.lengthEnd(end), depth + 1);
        break;
      default:
        r.skipType(t & 7, depth);
    }
  }
  r.checkEnd(end);
  const id = sp[3]! > sp[2]! ? r.json(sp[2]!, sp[3]!) : `"${newDocumentId()}"`;
  let blob = 'null';
  let tensorJson = 'null';
  let text = 'null';
  let mime = r.strOrNull(sp[22]!, sp[23]!);
  if (hasText) {
    if (textE > textS) {
      text = r.json(textS, textE);
      if (mime === 'null') mime = '"text/plain"';
    }
  } else if (blobS >= 0) {
    if (blobE > blobS) blob = '"' + r.buf.toString('base64', blobS, blobE) + '"';
  } else if (tensor !== undefined) tensorJson = ndJson(r, tensor, base64, 'tensor');
  const emb = embedding === undefined ? 'null' : ndJson(r, embedding, base64, 'embedding');
  return fill(
    id,
    r.strOrNull(sp[14]!, sp[15]!),
    granularity ? '' + granularity : 'null',
    adjacency ? '' + adjacency : 'null',
    blob,
    tensorJson,
    mime,
    text,
    weight ? jsonNumber(weight) : 'null',
    r.strOrNull(sp[18]!, sp[19]!),
    tags === '{}' ? 'null' : tags,
    offset ? jsonNumber(offset) : 'null',
    location === undefined ? 'null' : '[' + location + ']',
    emb,
    r.strOrNull(sp[20]!, sp[21]!),
    scoresJson(evaluations),
    scoresJson(scores),
    chunks === undefined ? 'null' : '[' + chunks + ']',
    matches === undefined ? 'null' : '[' + matches + ']',
  );
}

/** documentToJson's keys, in its order. */
const KEYS = [
  'id',
  'parent_id',
  'granularity',
  'adjacency',
  'blob',
  'tensor',
  'mime_type',
  'text',
  'weight',
  'uri',
  'tags',
  'offset',
  'location',
  'embedding',
  'modality',
  'evaluations',
  'scores',
  'chunks',
  'matches',
];

/**
 * The constant text around the values of a document whose non-null fields are the bits of a mask:
 * `{"id":`, then `,"parent_id":null,...,"mime_type":` up to the next value, and so on. A document
 * is then a handful of pieces, not forty: the string stays cheap to flatten and write.
 */
const segmentCache = new Map<number, string[]>();

function segments(mask: number): string[] {
  let segs = segmentCache.get(mask);
  if (segs !== undefined) return segs;
  segs = [];
  let cur = '';
  for (let i = 0; i < KEYS.length; i++) {
    cur += `${i === 0 ? '{' : ','}"${KEYS[i]}":`;
    if (mask & (1 << i)) {
      segs.push(flat(cur));
      cur = '';
    } else cur += 'null';
  }
  segs.push(flat(cur + '}'));
  if (segmentCache.size < 4096) segmentCache.set(mask, segs);
  return segs;
}

/** `s` as one flat string (not a rope of the pieces it was built from). */
function flat(s: string): string {
  return Buffer.from(s, 'latin1').toString('latin1');
}

/** The document's JSON from the JSON of its 19 values in key order (`'null'` for null). */
function fill(...values: string[]): string {
  let mask = 0;
  for (let i = 0; i < values.length; i++) if (values[i] !== 'null') mask |= 1 << i;
  const segs = segments(mask);
  let out = segs[0]!;
  let j = 1;
  for (let i = 0; i < values.length; i++) if (mask & (1 << i)) out += values[i]! + segs[j++]!;
  return out;
}

/**
 * The JSON text of an encoded `DocumentArrayProto` (the `docs_bytes` of a request), exactly as
 * `JSON.stringify(docsToJson(decodeDocs(bytes), options))` writes it, read straight from the bytes.
 * Malformed bytes throw an Error.
 *
 * @example
 * ```ts
 * docsJsonFromWire(encodeDocs([new Document({ id: 'a' })])).startsWith('[{"id":"a"'); // true
 * ```
 */
export function docsJsonFromWire(bytes: Uint8Array, options: DocsToJsonOptions = {}): string {
  const r = new WireReader(bytes);
  return docsJsonFromReader(r, r.len, options.tensors === 'base64');
}

/** {@link docsJsonFromWire} over the bytes of `r` from its position to `end`. */
export function docsJsonFromReader(r: WireReader, end: number, base64: boolean): string {
  let out = '[';
  while (r.pos < end) {
    const t = r.uint32();
    if (t >>> 3 === 1) {
      const d = documentJsonFromWire(r, r.lengthEnd(end), 1, base64);
      out += out.length === 1 ? d : ',' + d;
    } else r.skipType(t & 7, 0);
  }
  r.checkEnd(end);
  return out + ']';
}
