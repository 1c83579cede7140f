import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Document } from './document.js';
import { DocumentArray } from './document-array.js';
import { compileQuery, findDocs, lookup, type Query } from './query.js';

const docs = new DocumentArray([
  new Document({ id: 'a', text: 'apple', tags: { n: 1, color: 'red', nested: { deep: 5 }, list: [1, 2] } }),
  new Document({ id: 'b', text: 'banana', tags: { n: 2, color: 'yellow', nested: { deep: 6 } } }),
  new Document({ id: 'c', tags: { n: 3, color: 'red', list: [] } }),
  new Document({ id: 'd', text: '', tags: { n: 0 }, matches: [{ id: 'm', text: 'match' }] }),
]);

function ids(query: Query): string[] {
  return findDocs(docs, query).map((d) => d.id);
}

void test('comparison operators on tags paths', () => {
  assert.deepEqual(ids({ tags__n: { $eq: 2 } }), ['b']);
  assert.deepEqual(ids({ tags__n: { $ne: 2 } }), ['a', 'c', 'd']);
  assert.deepEqual(ids({ tags__n: { $neq: 2 } }), ['a', 'c', 'd']);
  assert.deepEqual(ids({ tags__n: { $gt: 1 } }), ['b', 'c']);
  assert.deepEqual(ids({ tags__n: { $gte: 1 } }), ['a', 'b', 'c']);
  assert.deepEqual(ids({ tags__n: { $lt: 1 } }), ['d']);
  assert.deepEqual(ids({ tags__n: { $lte: 1 } }), ['a', 'd']);
  assert.deepEqual(ids({ tags__nested__deep: { $eq: 5 } }), ['a']);
  // a missing value never compares greater or smaller
  assert.deepEqual(ids({ tags__nested__deep: { $lt: 100 } }), ['a', 'b']);
  // types that do not compare give false, not an error
  assert.deepEqual(ids({ tags__color: { $gt: 1 } }), []);
});

void test('membership, regex, size and exists', () => {
  assert.deepEqual(ids({ tags__color: { $in: ['red', 'blue'] } }), ['a', 'c']);
  assert.deepEqual(ids({ tags__color: { $nin: ['red'] } }), ['b', 'd']);
  assert.deepEqual(ids({ text: { $regex: '^b' } }), ['b']);
  assert.deepEqual(ids({ text: { $regex: 'an' } }), ['b']);
  assert.deepEqual(ids({ tags__list: { $size: 2 } }), ['a']);
  assert.deepEqual(ids({ tags__list: { $size: 0 } }), ['c']);
  assert.deepEqual(ids({ matches: { $size: 1 } }), ['d']);
  assert.deepEqual(ids({ text: { $exists: true } }), ['a', 'b']);
  assert.deepEqual(ids({ text: { $exists: false } }), ['c', 'd']);
  assert.deepEqual(ids({ tags__nested: { $exists: true } }), ['a', 'b']);
  // nested values follow Python truthiness: 0 and [] do not exist
  assert.deepEqual(ids({ tags__n: { $exists: true } }), ['a', 'b', 'c']);
  assert.deepEqual(ids({ tags__list: { $exists: true } }), ['a']);
});

void test('$and, $or, several keys and several operators are combined', () => {
  assert.deepEqual(ids({ $or: [{ tags__n: { $eq: 1 } }, { tags__n: { $eq: 3 } }] }), ['a', 'c']);
  assert.deepEqual(ids({ $and: [{ tags__color: { $eq: 'red' } }, { text: { $exists: true } }] }), ['a']);
  assert.deepEqual(ids({ tags__color: { $eq: 'red' }, tags__n: { $gt: 1 } }), ['c']);
  assert.deepEqual(ids({ tags__n: { $gt: 0, $lt: 3 } }), ['a', 'b']);
  assert.deepEqual(
    ids({
      $or: [{ $and: [{ tags__n: { $gte: 2 } }, { text: { $exists: false } }] }, { text: { $eq: 'apple' } }],
    }),
    ['a', 'c'],
  );
});

void test('paths into lists and matches, placeholders, snake_case field names', () => {
  assert.equal(lookup(docs[3]!, 'matches__0__text'), 'match');
  assert.equal(lookup(docs[0]!, 'tags__list__1'), 2);
  assert.equal(lookup(docs[0]!, 'tags__missing__deeper'), null);
  assert.deepEqual(ids({ matches__0__id: { $eq: 'm' } }), ['d']);
  assert.deepEqual(ids({ mime_type: { $eq: 'text/plain' } }), ['a', 'b']);
  const withName = new DocumentArray([
    new Document({ id: 'x', text: 'same', tags: { name: 'same' } }),
    new Document({ id: 'y', text: 'other', tags: { name: 'same' } }),
  ]);
  assert.deepEqual(
    findDocs(withName, { text: { $eq: '{tags__name}' } }).map((d) => d.id),
    ['x'],
  );
});

void test('a malformed query is rejected, naming the problem', () => {
  assert.throws(() => compileQuery({ tags__n: { $like: 1 } }), /\$like.*tags__n.*not supported/);
  assert.throws(() => compileQuery({ $nor: [] }), /\$nor is not supported/);
  assert.throws(() => compileQuery({ tags__n: 5 }), /condition on 'tags__n' must be an object/);
  assert.throws(() => compileQuery({ $or: [] }), /\$or needs a non-empty list/);
  assert.throws(() => compileQuery({ text: { $regex: '(' } }), /\$regex on 'text' is not a valid pattern/);
  assert.throws(() => compileQuery({ text: { $exists: 'yes' } }), /\$exists on 'text' takes true or false/);
  assert.throws(() => compileQuery({ tags__c: { $in: 'red' } }), /\$in on 'tags__c' needs a list/);
});

void test('an empty query matches everything', () => {
  assert.equal(findDocs(docs, {}).length, docs.length);
});
