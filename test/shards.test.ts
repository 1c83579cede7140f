import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, Document, DocumentArray, Flow } from '../src/index.js';
import { ShardAfter, WhoAmI } from './fixtures/topology-replicas.js';

void describe('an Executor in 2 shards of 2 replicas each, behind a head with a uses-after', () => {
  let flow: Flow;
  let client: Client;

  before(async () => {
    flow = new Flow().add({ name: 'idx', uses: WhoAmI, shards: 2, replicas: 2, usesAfter: ShardAfter });
    await flow.start();
    client = new Client({ port: flow.port });
  });

  after(async () => {
    await client?.close();
    await flow?.close();
  });

  void test('one process per shard replica, plus the uses-after, the head and the Gateway', () => {
    assert.equal(flow.pids.length, 7);
  });

  void test('ALL (/search by default): every shard answers; the uses-after gets one part per shard', async () => {
    const docs = await client.post('/search', [new Document({ id: 'q1' }), new Document({ id: 'q2' })]);
    assert.deepEqual(docs.ids, ['q1', 'q2', 'extra-0', 'extra-1']);
    for (const d of docs) assert.deepEqual(d.tags.after, { parts: 2, from: ['idx/shard-0', 'idx/shard-1'] });
    // the uses-after's docs are the union by id: q1 as shard 0 left it, extra docs from both
    assert.equal(docs[0]!.tags.shard0, true);
  });

  void test('ANY (any other endpoint): each request reaches exactly one shard; shards and replicas share the load', async () => {
    const inputs = new DocumentArray(Array.from({ length: 40 }, (_, i) => new Document({ id: `d${i}` })));
    const docs = await client.post('/', inputs, { requestSize: 1 });
    assert.deepEqual(docs.ids.sort(), inputs.ids.sort(), 'each doc once: no request went to both shards');
    const placements = new Set<string>();
    for (const d of docs) {
      assert.deepEqual(d.tags.after, { parts: 1, from: [`idx/shard-${JSON.stringify(d.tags.shard)}`] });
      placements.add(`${JSON.stringify(d.tags.shard)}/${JSON.stringify(d.tags.replica)}`);
    }
    assert.deepEqual([...placements].sort(), ['0/0', '0/1', '1/0', '1/1']);
  });
});
