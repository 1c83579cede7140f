import assert from 'node:assert/strict';
import { test } from 'node:test';
import protobuf from 'protobufjs/minimal.js';
import { Document, encodeDocs, NdArray, type DocsToJsonOptions } from '../../document/index.js';
import { DataRequest } from '../../proto/request.js';
import { jsonToStruct, type JsonValue } from '../../proto/struct.js';
import { docarray, google, jina } from '../../proto/wire.js';
import { answerJsonFromWire } from './answer-json.js';
import { dataRequestToJson } from './request-json.js';

/** mulberry32: a small seeded generator, so a failing seed can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Gen = ReturnType<typeof makeGen>;

function makeGen(seed: number) {
  const rand = rng(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const chance = (p: number) => rand() < p;
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const PIECES = [
    'a',
    'Z',
    '0',
    ' ',
    '"',
    '\\',
    '/',
    '\n',
    '\t',
    '\u0000',
    '\u001f',
    '\u007f',
    'é',
    '中文',
    '😀',
    '\u2028',
    '\ufffd',
    '</script>',
    "'",
  ];
  const str = (max = 8): string => {
    let s = '';
    for (let i = int(max + 1); i > 0; i--) s += pick(PIECES);
    return s;
  };
  const NUMS = [
    0,
    -0,
    1,
    -1,
    0.1,
    1e21,
    1e-7,
    123456789.123,
    2 ** 53 + 2,
    -3.5e-300,
    NaN,
    Infinity,
    -Infinity,
    5e-324,
  ];
  const num = (): number => (chance(0.3) ? pick(NUMS) : (rand() - 0.5) * 10 ** int(12));
  const KEYS = [
    'k',
    '1',
    '10',
    '01',
    '-1',
    '4294967295',
    '4294967294',
    '__proto__',
    'constructor',
    'toString',
    '',
    'a b',
    'é',
  ];
  const key = (): string => (chance(0.5) ? pick(KEYS) : str(4));
  const json = (depth: number): JsonValue => {
    const k = int(depth > 2 ? 4 : 6);
    if (k === 0) return null;
    if (k === 1) return num();
    if (k === 2) return str();
    if (k === 3) return chance(0.5);
    if (k === 4) return Array.from({ length: int(4) }, () => json(depth + 1));
    return obj(depth + 1);
  };
  const obj = (depth: number): Record<string, JsonValue> => {
    const o: Record<string, JsonValue> = {};
    for (let i = int(5); i > 0; i--)
      Object.defineProperty(o, key(), {
        value: json(depth),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    return o;
  };
  // one answer in six carries something both paths refuse (a sparse array, a bad dtype, a far date)
  const bad = chance(1 / 6);
  return { rand, int, chance, pick, str, num, json, obj, key, bad };
}

const DTYPES = [
  '<f4',
  '<f8',
  '<f2',
  '|i1',
  '<i2',
  '<i4',
  '<i8',
  '|u1',
  '<u2',
  '<u4',
  '<u8',
  '|b1',
  '>f4',
  '>f8',
  '>i2',
  '>i8',
  '>u8',
  '=f4',
  'float32',
  'f4',
  'd',
  '?',
  'bool',
  'int64',
  'float16',
];
const WIDTH: Record<string, number> = {
  f2: 2,
  f4: 4,
  f8: 8,
  i1: 1,
  i2: 2,
  i4: 4,
  i8: 8,
  u1: 1,
  u2: 2,
  u4: 4,
  u8: 8,
  b1: 1,
};
function widthOf(dtype: string): number {
  const named: Record<string, number> = { float32: 4, d: 8, '?': 1, bool: 1, int64: 8, float16: 2 };
  return named[dtype] ?? WIDTH[dtype.replace(/^[<>=|]/, '')]!;
}

function ndarray(g: Gen): docarray.INdArrayProto {
  if (g.bad && g.chance(0.1)) return { sparse: { shape: [2] }, clsName: 'scipy_csr' };
  if (g.chance(0.03)) return {};
  if (g.bad && g.chance(0.1)) return { dense: { dtype: 'U8', buffer: new Uint8Array(8), shape: [2] } };
  if (g.bad && g.chance(0.1)) return { dense: { dtype: '<f4', buffer: new Uint8Array(7), shape: [2] } };
  const dtype = g.pick(DTYPES);
  const shape = Array.from({ length: g.int(4) }, () => g.int(4));
  const size = shape.reduce((a, b) => a * b, 1);
  const bytes = new Uint8Array(size * widthOf(dtype));
  // bools hold 0/1 (other bytes are written as they are in base64 but read as true)
  for (let i = 0; i < bytes.length; i++)
    bytes[i] = dtype.includes('b1') || dtype === '?' || dtype === 'bool' ? g.int(2) : g.int(256);
  const dense: docarray.IDenseNdArrayProto = { buffer: bytes, shape };
  if (!(g.chance(0.05) && size === 0)) dense.dtype = dtype;
  return { dense, clsName: g.chance(0.5) ? 'numpy' : 'torch' };
}

function scores(g: Gen): Record<string, docarray.INamedScoreProto> {
  const out: Record<string, docarray.INamedScoreProto> = {};
  for (let i = g.int(4); i > 0; i--) {
    const s: docarray.INamedScoreProto = { value: Math.fround(g.num()) };
    if (g.chance(0.5)) s.opName = g.str();
    if (g.chance(0.3)) s.description = g.str();
    if (g.chance(0.3)) s.refId = g.str(3);
    const k = g.key();
    Object.defineProperty(out, k, { value: s, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** A random DocumentProto (as an object; `extra` wire bytes are appended by {@link docBytes}). */
function doc(g: Gen, depth: number): docarray.IDocumentProto {
  const d: docarray.IDocumentProto = { id: g.chance(0.9) ? g.str(6) || 'x' : 'id' };
  // the content oneof, sometimes several members at once (the decoder keeps them all)
  if (g.chance(0.5)) d.text = g.str(20);
  if (g.chance(0.3)) d.blob = Uint8Array.from({ length: g.int(12) }, () => g.int(256));
  if (g.chance(0.4)) d.tensor = ndarray(g);
  if (g.chance(0.3)) d.granularity = g.int(3);
  if (g.chance(0.3)) d.adjacency = g.chance(0.1) ? 4294967295 : g.int(3);
  if (g.chance(0.3)) d.parentId = g.str(4);
  if (g.chance(0.3)) d.weight = g.num();
  if (g.chance(0.3)) d.uri = g.str(10);
  if (g.chance(0.3)) d.modality = g.str(3);
  if (g.chance(0.4)) d.mimeType = g.pick(['', 'text/plain', 'image/png', g.str(3)]);
  if (g.chance(0.3)) d.offset = g.num();
  if (g.chance(0.3)) d.location = Array.from({ length: g.int(4) }, () => g.num());
  if (g.chance(0.4)) d.embedding = ndarray(g);
  if (g.chance(0.5)) d.tags = jsonToStruct(g.obj(0));
  if (g.chance(0.3)) d.scores = scores(g);
  if (g.chance(0.2)) d.evaluations = scores(g);
  if (g.chance(0.1)) d._metadata = jsonToStruct(g.obj(1));
  if (depth < 3 && g.chance(0.3)) d.chunks = Array.from({ length: 1 + g.int(3) }, () => doc(g, depth + 1));
  if (depth < 3 && g.chance(0.3)) d.matches = Array.from({ length: 1 + g.int(3) }, () => doc(g, depth + 1));
  return d;
}

/** Fields no schema here knows, in every wire type: decoders skip them. */
function unknownFields(g: Gen): Uint8Array {
  const w = protobuf.Writer.create();
  for (let i = g.int(3); i > 0; i--) {
    const f = 21 + g.int(80);
    switch (g.int(5)) {
      case 0:
        w.uint32((f << 3) | 0).uint64(g.int(1e9) * 1000);
        break;
      case 1:
        w.uint32((f << 3) | 1).double(g.num());
        break;
      case 2:
        w.uint32((f << 3) | 2).string(g.str());
        break;
      case 3:
        w.uint32((f << 3) | 5).float(1);
        break;
      default:
        w.uint32((f << 3) | 3)
          .uint32((1 << 3) | 0)
          .uint32(7)
          .uint32((f << 3) | 4);
    }
  }
  return w.finish();
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

function docsBytes(g: Gen): Uint8Array {
  const w = protobuf.Writer.create();
  for (let i = g.int(6); i > 0; i--) {
    let bytes = docarray.DocumentProto.encode(doc(g, 0)).finish();
    if (g.chance(0.3)) bytes = concat(bytes, unknownFields(g));
    // a map or Struct given twice merges: repeated keys keep their first place and last value
    if (g.chance(0.2)) {
      const a = google.protobuf.Struct.encode(jsonToStruct({ k: g.str(), '2': 1, z: g.json(0) })).finish();
      const b = google.protobuf.Struct.encode(jsonToStruct({ '1': g.json(0), z: g.str() })).finish();
      // `__proto__` only reaches the wire written by hand (jsonToStruct cannot hold it)
      const value = google.protobuf.Value.encode({ numberValue: 1 }).finish();
      const proto = protobuf.Writer.create()
        .uint32(10)
        .fork()
        .uint32(10)
        .string('__proto__')
        .uint32(18)
        .bytes(value)
        .ldelim()
        .finish();
      bytes = concat(
        bytes,
        protobuf.Writer.create()
          .uint32(138)
          .bytes(concat(a, proto, b))
          .finish(),
      );
    }
    if (g.chance(0.1)) {
      const score = docarray.NamedScoreProto.encode({ value: 1 }).finish();
      const entry = (k: string) =>
        protobuf.Writer.create()
          .uint32(146)
          .fork()
          .uint32(10)
          .string(k)
          .uint32(18)
          .bytes(score)
          .ldelim()
          .finish();
      bytes = concat(bytes, entry('__proto__'), entry('3'), entry('b'));
    }
    w.uint32(10).bytes(bytes);
  }
  return concat(w.finish(), g.chance(0.2) ? unknownFields(g) : new Uint8Array(0));
}

function status(g: Gen): jina.IStatusProto {
  const s: jina.IStatusProto = {
    code: g.pick([0, 1, 1, 3]) as jina.StatusProto.StatusCode,
    description: g.str(),
  };
  if (g.chance(0.5)) {
    s.exception = { name: g.pick(['ValueError', g.str(4)]), args: [g.str(), g.str()].slice(g.int(3)) };
    if (g.chance(0.7)) s.exception.stacks = Array.from({ length: g.int(4) }, () => g.str(12) + '\n');
    if (g.chance(0.7)) s.exception.executor = g.str(5);
  }
  return s;
}

function timestamp(g: Gen): google.protobuf.ITimestamp {
  const seconds = g.bad && g.chance(0.3) ? 1e15 : g.chance(0.1) ? -g.int(1e9) : g.int(4e9);
  return { seconds, nanos: g.chance(0.1) ? -g.int(1e9) : g.int(1e9) };
}

function request(g: Gen): Uint8Array {
  const header: jina.IHeaderProto = {};
  if (g.chance(0.9)) header.requestId = g.str(8);
  if (g.chance(0.8)) header.execEndpoint = g.pick(['/', '/index', '', g.str(4)]);
  if (g.chance(0.3)) header.targetExecutor = g.pick(['', 'exec0', g.str(3)]);
  if (g.chance(0.5)) header.status = status(g);
  if (g.chance(0.2)) header.timeout = g.int(1000);
  const routes: jina.IRouteProto[] = [];
  for (let i = g.int(4); i > 0; i--) {
    const r: jina.IRouteProto = { executor: g.pick(['gateway', 'executor0', g.str(4)]) };
    if (g.chance(0.8)) r.startTime = timestamp(g);
    if (g.chance(0.6)) r.endTime = timestamp(g);
    if (g.chance(0.4)) r.status = status(g);
    routes.push(r);
  }
  const docs = docsBytes(g);
  const msg: jina.IDataRequestProto = { routes };
  if (g.chance(0.9)) msg.header = header;
  if (g.chance(0.6)) msg.parameters = jsonToStruct(g.obj(0));
  if (g.chance(0.9))
    msg.data = g.chance(0.5) ? { docsBytes: docs } : { docs: docarray.DocumentArrayProto.decode(docs) };
  let bytes = jina.DataRequestProto.encode(msg).finish();
  if (g.chance(0.3)) bytes = concat(unknownFields(g), bytes, unknownFields(g));
  return g.chance(0.5) ? bytes : new Uint8Array(bytes); // a Buffer (as grpc-js gives) or a plain Uint8Array
}

type Outcome = { ok: true; json: string } | { ok: false; error: unknown };

function outcome(f: () => string): Outcome {
  try {
    return { ok: true, json: f() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Asserts both paths give the same text, or both throw (an Error with a message). */
function assertSame(bytes: Uint8Array, options: DocsToJsonOptions, where: string): boolean {
  const old = outcome(() => JSON.stringify(dataRequestToJson(DataRequest.decode(bytes), options)));
  const mine = outcome(() => answerJsonFromWire(bytes, options));
  if (old.ok && mine.ok) {
    assert.equal(mine.json, old.json, where);
    return true;
  }
  assert.equal(
    mine.ok,
    old.ok,
    `${where}: ${old.ok ? 'only the new path threw: ' + String((mine as { error: unknown }).error) : 'only the old path threw: ' + String(old.error)}`,
  );
  assert.ok(!mine.ok && mine.error instanceof Error && mine.error.message.length > 0, where);
  return false;
}

void test('answerJsonFromWire writes what dataRequestToJson + JSON.stringify write, for many random answers', () => {
  let same = 0;
  let thrown = 0;
  for (let seed = 1; seed <= 1500; seed++) {
    const bytes = request(makeGen(seed));
    for (const tensors of ['list', 'base64'] as const) {
      if (assertSame(bytes, { tensors }, `seed ${seed} tensors ${tensors}`)) same++;
      else thrown++;
    }
  }
  // most answers are well-formed; some carry what both paths refuse (sparse, bad dtype, far dates)
  assert.ok(same > 2300, `only ${same} equal answers (${thrown} refused)`);
  assert.ok(thrown > 0);
});

void test('answerJsonFromWire: documents built with the Document API, every field and dtype, large tensors', () => {
  const dtypes = [
    'float16',
    'float32',
    'float64',
    'int8',
    'int16',
    'int32',
    'int64',
    'uint8',
    'uint16',
    'uint32',
    'uint64',
    'bool',
  ] as const;
  const docs = dtypes.map(
    (dtype, i) =>
      new Document({
        id: `d${i}`,
        tensor: NdArray.from(
          [
            [1, -2.5, NaN],
            [Infinity, 0, 3e38],
          ],
          { dtype },
        ),
        embedding: NdArray.from([0.1, 0.2], { dtype }),
        tags: { k: 'v', n: [1, { x: null }] },
        scores: { cosine: { value: 0.5, opName: 'cos' } },
        chunks: [{ id: 'c', text: 'chunk', matches: [{ id: 'm', blob: new Uint8Array([1, 2]) }] }],
        location: [1, 2],
        weight: 2,
        offset: 1,
      }),
  );
  docs.push(
    new Document({
      id: 'big',
      tensor: NdArray.from(
        Float32Array.from({ length: 262144 }, (_, i) => Math.sin(i)),
        { shape: [512, 512] },
      ),
    }),
  );
  docs.push(new Document({ id: 'scalar', tensor: NdArray.from(new Float64Array([7]), { shape: [] }) }));
  const req = DataRequest.create({
    requestId: 'r',
    endpoint: '/x',
    parameters: { a: 1 },
    docsBytes: encodeDocs(docs),
  });
  req.setError(new Error('boom "quoted"\n'), 'exec0');
  req.routes = [
    { executor: 'gateway', startTime: { seconds: 1700000000, nanos: 123456789 } },
    { executor: 'e', status: req.status },
  ];
  const bytes = req.encode();
  for (const tensors of ['list', 'base64'] as const) assert.ok(assertSame(bytes, { tensors }, tensors));
});

void test('answerJsonFromWire: a document without an id gets a random 32-hex id, as decoding gives it', () => {
  const docs = docarray.DocumentArrayProto.encode({ docs: [{ text: 'a' }] }).finish();
  const bytes = jina.DataRequestProto.encode({
    header: { requestId: 'r' },
    data: { docsBytes: docs },
  }).finish();
  const out = JSON.parse(answerJsonFromWire(bytes)) as { data: { id: string; text: string }[] };
  assert.match(out.data[0]!.id, /^[0-9a-f]{32}$/);
  assert.equal(out.data[0]!.text, 'a');
});

void test('answerJsonFromWire: an empty message is a default answer; malformed bytes throw an Error with a message', () => {
  assert.equal(
    answerJsonFromWire(new Uint8Array(0)),
    JSON.stringify(dataRequestToJson(DataRequest.decode(new Uint8Array(0)))),
  );
  let thrown = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const g = makeGen(seed);
    const bytes = Buffer.from(request(g));
    if (bytes.length < 2) continue;
    // cut short, or one byte changed
    const cut = bytes.subarray(0, g.int(bytes.length));
    const flipped = Buffer.from(bytes);
    const at = g.int(bytes.length);
    flipped[at] = flipped[at]! ^ (1 << g.int(8));
    for (const b of [cut, flipped]) {
      const mine = outcome(() => answerJsonFromWire(b));
      if (!mine.ok) {
        thrown++;
        assert.ok(mine.error instanceof Error && mine.error.message.length > 0);
      }
    }
  }
  assert.ok(thrown > 100, `${thrown}`);
});

void test('answerJsonFromWire: nesting as deep as protobufjs allows is written, deeper fails like it', () => {
  let decodedDeepest = 0;
  for (let levels = 95; levels <= 105; levels++) {
    // built by hand: the encoder has a depth limit of its own
    let d = docarray.DocumentProto.encode({ id: 'leaf', text: 'x' }).finish();
    for (let i = 0; i < levels; i++) {
      const head = docarray.DocumentProto.encode({ id: `d${i}` }).finish();
      d = concat(head, protobuf.Writer.create().uint32(114).bytes(d).finish());
    }
    const docs = protobuf.Writer.create().uint32(10).bytes(d).finish();
    const bytes = jina.DataRequestProto.encode({
      header: { requestId: 'r' },
      data: { docsBytes: docs },
    }).finish();
    if (assertSame(bytes, {}, `${levels} levels of chunks`)) decodedDeepest = levels;
    let v = google.protobuf.Value.encode({ numberValue: 1 }).finish();
    for (let i = 0; i < levels; i++) {
      const list = protobuf.Writer.create().uint32(10).bytes(v).finish();
      v = protobuf.Writer.create().uint32(50).bytes(list).finish();
    }
    const struct = protobuf.Writer.create()
      .uint32(10)
      .fork()
      .uint32(10)
      .string('k')
      .uint32(18)
      .bytes(v)
      .ldelim()
      .finish();
    const withParams = concat(protobuf.Writer.create().uint32(18).bytes(struct).finish(), bytes);
    assertSame(withParams, {}, `${levels} levels of parameters`);
  }
  assert.ok(decodedDeepest >= 95 && decodedDeepest < 105, `${decodedDeepest}`);
});

void test('answerJsonFromWire: invalid UTF-8 in a Buffer (as grpc-js hands answers over) reads as the old path reads it', () => {
  const bad = [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xf0, 0x9f, 0x98], [0xe2, 0x82], [0x61, 0x80, 0x22]];
  for (const b of bad.map((x) => Buffer.from(x))) {
    const doc = protobuf.Writer.create()
      .uint32(10)
      .bytes(b)
      .uint32(34)
      .bytes(concat(Buffer.from('a'), b))
      .finish();
    const docs = protobuf.Writer.create().uint32(10).bytes(doc).finish();
    const msg = jina.DataRequestProto.encode({
      header: { requestId: b.toString('latin1') },
      data: { docsBytes: docs },
    });
    assert.ok(assertSame(Buffer.from(msg.finish()), {}, b.toString('hex')));
  }
});
