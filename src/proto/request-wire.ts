/**
 * `jina.DataRequestProto` read and written at the level of its top fields, for code that forwards
 * requests (the Gateway, the Executor's runtime): the header is decoded, but the parameters
 * (`google.protobuf.Struct`), the routes and the documents stay the encoded bytes they came as, and
 * are spliced back unchanged into the next message. Protobuf allows it: a length-delimited field is
 * the same bytes wherever it sits, and a repeated field is the concatenation of its elements.
 *
 * The output is byte for byte what the generated `jina.DataRequestProto` encoder writes for the same
 * message (fields in number order, `data` always present).
 */
import protobuf from 'protobufjs/minimal.js';
import {
  headerSize as headerWireSize,
  routeSize,
  varint32Size,
  WireCursor,
  writeHeader,
  writeRoute,
} from './header-wire.js';
import { google, jina } from './wire.js';

const { Reader } = protobuf;

/** The top fields of a decoded `DataRequestProto`; what is not decoded stays bytes. */
export interface RequestWire {
  header: jina.IHeaderProto;
  /** The encoded `google.protobuf.Struct` of field 2, when present. */
  parametersBytes: Uint8Array | undefined;
  /** Each encoded `RouteProto` of field 3. */
  routesBytes: Uint8Array[];
  /** The encoded `docarray.DocumentArrayProto` (or the `docs_bytes`), empty when none. */
  docsBytes: Uint8Array;
  /** True when the documents came in `docs_bytes` (field 2 of `data`) rather than `docs` (field 1). */
  docsInBytesField: boolean;
}

/** What {@link encodeRequestWire} writes: each field either as an object or as its bytes. */
export interface RequestWireOut {
  header: jina.IHeaderProto;
  /** The parameters: an encoded Struct, a Struct to encode, or none. */
  parameters: Uint8Array | google.protobuf.IStruct | undefined;
  /** The routes: encoded `RouteProto`s or objects to encode, in order. */
  routes: readonly (Uint8Array | jina.IRouteProto)[];
  docsBytes: Uint8Array;
  docsInBytesField: boolean;
}

const EMPTY = new Uint8Array(0);
/** Tags: field number << 3 | wire type 2 (length-delimited). */
const TAG_HEADER = 10;
const TAG_PARAMETERS = 18;
const TAG_ROUTES = 26;
const TAG_DATA = 34;
const TAG_DOCS = 10;
const TAG_DOCS_BYTES = 18;

/**
 * Decodes the top fields of a serialised `DataRequestProto`. Throws on malformed bytes (a truncated
 * field, a wrong wire type for a known field). A field given twice keeps its last value, as protobuf
 * parsers do.
 *
 * @example
 * ```ts
 * const wire = decodeRequestWire(bytes);
 * wire.header.execEndpoint; // '/index'
 * ```
 */
export function decodeRequestWire(bytes: Uint8Array): RequestWire {
  const r = Reader.create(bytes);
  let header: jina.IHeaderProto | undefined;
  let parametersBytes: Uint8Array | undefined;
  const routesBytes: Uint8Array[] = [];
  let docs: Uint8Array | undefined;
  let docsBytesField: Uint8Array | undefined;
  while (r.pos < r.len) {
    const tag = r.uint32();
    switch (tag) {
      case TAG_HEADER:
        header = jina.HeaderProto.decode(r, r.uint32());
        break;
      case TAG_PARAMETERS:
        parametersBytes = r.bytes();
        break;
      case TAG_ROUTES:
        routesBytes.push(r.bytes());
        break;
      case TAG_DATA: {
        // As the generated decoder: a second `data` replaces the first.
        docs = undefined;
        docsBytesField = undefined;
        const end = r.uint32() + r.pos;
        if (end > r.len) throw new RangeError('index out of range');
        while (r.pos < end) {
          const t = r.uint32();
          if (t === TAG_DOCS) docs = r.bytes();
          else if (t === TAG_DOCS_BYTES) docsBytesField = r.bytes();
          else r.skipType(t & 7);
        }
        if (r.pos !== end) throw new RangeError('index out of range');
        break;
      }
      default:
        if (tag >>> 3 >= 1 && tag >>> 3 <= 4)
          throw new Error(`invalid wire type ${tag & 7} for field ${tag >>> 3} of DataRequestProto`);
        r.skipType(tag & 7);
    }
  }
  return {
    header: header ?? {},
    parametersBytes,
    routesBytes,
    docsBytes: docs ?? docsBytesField ?? EMPTY,
    docsInBytesField: docsBytesField !== undefined && docs === undefined,
  };
}

/**
 * Serialises a `DataRequestProto` from its top fields, copying the encoded ones as they are.
 *
 * @example
 * ```ts
 * const bytes = encodeRequestWire({ header: { requestId: 'r1' }, parameters: undefined, routes: [], docsBytes, docsInBytesField: false });
 * ```
 */
export function encodeRequestWire(m: RequestWireOut): Uint8Array {
  const plan = planAllButData(m);
  const docs = m.docsBytes;
  const inner = 1 + varint32Size(docs.length) + docs.length;
  const w = new WireCursor(Buffer.allocUnsafe(plan.size + 1 + varint32Size(inner) + inner));
  writeAllButData(w, m, plan);
  w.varint(TAG_DATA);
  w.varint(inner);
  w.varint(docsTag(m));
  w.bytes(docs);
  return w.buf;
}

/**
 * {@link encodeRequestWire} in two pieces: everything but the document bytes, then the document
 * bytes themselves (`m.docsBytes`, not a copy). Concatenated, they are the same bytes; a transport
 * that sends one message in parts sends large documents without copying them.
 */
export function encodeRequestWireParts(m: RequestWireOut): [Uint8Array, Uint8Array] {
  const plan = planAllButData(m);
  const docs = m.docsBytes;
  // data = 4 { docs = 1 | docs_bytes = 2 : bytes }: its length, then the documents' tag and length.
  const inner = 1 + varint32Size(docs.length) + docs.length;
  const head = plan.size + 1 + varint32Size(inner) + 1 + varint32Size(docs.length);
  const w = new WireCursor(Buffer.allocUnsafe(head));
  writeAllButData(w, m, plan);
  w.varint(TAG_DATA);
  w.varint(inner);
  w.varint(docsTag(m));
  w.varint(docs.length);
  return [w.buf, docs];
}

function docsTag(m: RequestWireOut): number {
  return m.docsBytes.length > 0 && m.docsInBytesField ? TAG_DOCS_BYTES : TAG_DOCS;
}

/**
 * What {@link writeAllButData} writes, measured: the header's size (or its bytes from the generated
 * encoder when the fast one cannot write it), the same for parameters given as an object and for
 * each route, and the total.
 */
interface Plan {
  size: number;
  headerSize: number;
  headerBytes: Uint8Array | undefined;
  parameters: Uint8Array | undefined;
  /** Per route: its size, or its bytes from the generated encoder. */
  routes: (number | Uint8Array)[] | undefined;
}

function planAllButData(m: RequestWireOut): Plan {
  let headerSize = headerWireSize(m.header);
  let headerBytes: Uint8Array | undefined;
  if (headerSize < 0) {
    headerBytes = jina.HeaderProto.encode(m.header).finish();
    headerSize = headerBytes.length;
  }
  let size = 1 + varint32Size(headerSize) + headerSize;
  const p = m.parameters;
  const parameters = p instanceof Uint8Array ? p : p ? google.protobuf.Struct.encode(p).finish() : undefined;
  if (parameters) size += 1 + varint32Size(parameters.length) + parameters.length;
  let routes: (number | Uint8Array)[] | undefined;
  if (m.routes.length > 0) {
    routes = [];
    for (const route of m.routes) {
      let r: number | Uint8Array;
      let len: number;
      if (route instanceof Uint8Array) len = (r = route).length;
      else {
        len = routeSize(route);
        if (len >= 0) r = len;
        else len = (r = jina.RouteProto.encode(route).finish()).length;
      }
      routes.push(r);
      size += 1 + varint32Size(len) + len;
    }
  }
  return { size, headerSize, headerBytes, parameters, routes };
}

/** Header, parameters and routes of `m` (all but its documents), as {@link planAllButData} measured. */
function writeAllButData(w: WireCursor, m: RequestWireOut, plan: Plan): void {
  w.varint(TAG_HEADER);
  if (plan.headerBytes) w.bytes(plan.headerBytes);
  else {
    w.varint(plan.headerSize);
    writeHeader(w, m.header);
  }
  if (plan.parameters) {
    w.varint(TAG_PARAMETERS);
    w.bytes(plan.parameters);
  }
  const routes = plan.routes;
  if (routes === undefined) return;
  for (let i = 0; i < routes.length; i++) {
    const r = routes[i]!;
    w.varint(TAG_ROUTES);
    if (typeof r !== 'number') w.bytes(r);
    else {
      w.varint(r);
      writeRoute(w, m.routes[i] as jina.IRouteProto);
    }
  }
}

/** `key` as UTF-8 bytes, cached: the keys looked up are few (`__results__`). */
const keyBytes = new Map<string, Buffer>();

/**
 * The encoded `google.protobuf.Value` under `key` in an encoded `Struct`, without decoding the
 * other entries (the last one wins when a key repeats); undefined when absent.
 *
 * @example
 * ```ts
 * const v = structFieldBytes(parametersBytes, '__results__');
 * if (v) google.protobuf.Value.decode(v);
 * ```
 */
export function structFieldBytes(struct: Uint8Array, key: string): Uint8Array | undefined {
  let k = keyBytes.get(key);
  if (!k) {
    k = Buffer.from(key, 'utf8');
    if (keyBytes.size < 64) keyBytes.set(key, k);
  }
  // The key's bytes appear in the message whenever it is there: most lookups end here.
  const buf = Buffer.isBuffer(struct) ? struct : Buffer.from(struct.buffer, struct.byteOffset, struct.length);
  if (buf.indexOf(k) < 0) return undefined;
  const r = Reader.create(struct);
  let found: Uint8Array | undefined;
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag !== 10) {
      r.skipType(tag & 7);
      continue;
    }
    // map<string, Value> fields = 1: an entry is { string key = 1; Value value = 2; }
    const end = r.uint32() + r.pos;
    if (end > r.len) throw new RangeError('index out of range');
    let entryKey = '';
    let value: Uint8Array | undefined;
    while (r.pos < end) {
      const t = r.uint32();
      if (t === 10) entryKey = r.string();
      else if (t === 18) value = r.bytes();
      else r.skipType(t & 7);
    }
    if (entryKey === key) found = value ?? EMPTY;
  }
  return found;
}
