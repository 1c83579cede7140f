import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import protobuf from 'protobufjs/minimal.js';
import { WireWriter } from './wire-writer.js';

/** The same calls on both writers; `fork`/`ldelim` nest. */
type Op =
  | ['uint32', number]
  | ['string', string]
  | ['bytes', Uint8Array]
  | ['float' | 'double', number]
  | ['msg', number, Op[]];

function viaProtobufjs(ops: Op[], w = protobuf.Writer.create()): protobuf.Writer {
  for (const op of ops) {
    if (op[0] === 'msg') {
      w.uint32(op[1]).fork();
      viaProtobufjs(op[2], w);
      w.ldelim();
    } else if (op[0] === 'uint32') w.uint32(op[1]);
    else if (op[0] === 'string') w.string(op[1]);
    else if (op[0] === 'bytes') w.bytes(op[1]);
    else if (op[0] === 'float') w.float(op[1]);
    else w.double(op[1]);
  }
  return w;
}

function viaWireWriter(ops: Op[], w = new WireWriter(8)): WireWriter {
  for (const op of ops) {
    if (op[0] === 'msg') {
      const at = w.fork(op[1]);
      viaWireWriter(op[2], w);
      w.ldelim(at);
    } else if (op[0] === 'uint32') w.uint32(op[1]);
    else if (op[0] === 'string') w.string(op[1]);
    else if (op[0] === 'bytes') w.bytes(op[1]);
    else if (op[0] === 'float') w.float(op[1]);
    else w.double(op[1]);
  }
  return w;
}

void describe('WireWriter writes what protobufjs writes', () => {
  void test('varints, strings, bytes, floats, nested messages of every length class', () => {
    const strings = [
      '',
      'a',
      'é',
      '🐢',
      'x'.repeat(42),
      'x'.repeat(43),
      'ż'.repeat(64),
      'x'.repeat(127),
      'x'.repeat(128),
    ];
    strings.push('y'.repeat(16_383), 'y'.repeat(16_384), 'ü'.repeat(9000), 'z'.repeat(2_097_152));
    const ops: Op[] = [
      ...[0, 1, 127, 128, 300, 16_383, 16_384, 2 ** 21, 2 ** 28, 2 ** 32 - 1].map((n): Op => ['uint32', n]),
      ...strings.map((s): Op => ['string', s]),
      ['bytes', new Uint8Array(0)],
      ['bytes', new Uint8Array(200).fill(7)],
      ['float', 0.1],
      ['double', -1e300],
      ...[0, 1, 127, 128, 16_384, 2_097_152].map((n): Op => ['msg', 10, [['bytes', new Uint8Array(n)]]]),
      [
        'msg',
        18,
        [
          [
            'msg',
            26,
            [
              ['string', 'x'.repeat(130)],
              ['msg', 34, [['string', 'y'.repeat(20_000)]]],
            ],
          ],
        ],
      ],
      ['msg', 42, []],
    ];
    const want = viaProtobufjs(ops).finish();
    const got = viaWireWriter(ops).finish();
    assert.equal(got.length, want.length);
    assert.ok(Buffer.from(got).equals(Buffer.from(want)));
  });

  void test('the scratch writer starts empty each time and its copies stay intact', () => {
    const a: Op[] = [['msg', 10, [['string', 'first'.repeat(50)]]]];
    const b: Op[] = [['string', 'second']];
    const first = viaWireWriter(a, WireWriter.scratch()).finishCopy();
    const second = viaWireWriter(b, WireWriter.scratch()).finishCopy();
    assert.ok(Buffer.from(first).equals(Buffer.from(viaProtobufjs(a).finish())));
    assert.ok(Buffer.from(second).equals(Buffer.from(viaProtobufjs(b).finish())));
    const big: Op[] = [['bytes', new Uint8Array(3 * 1024 * 1024).fill(1)]];
    assert.equal(viaWireWriter(big, WireWriter.scratch()).finishCopy().length, 3 * 1024 * 1024 + 4);
    assert.ok(Buffer.from(viaWireWriter(b, WireWriter.scratch()).finishCopy()).equals(Buffer.from(second)));
  });
});
