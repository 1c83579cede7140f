import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type * as grpc from '@grpc/grpc-js';
import { Document, DocumentArray, decodeDocs, encodeDocs } from '../document/index.js';
import { Executor, type HandlerArgs } from '../executor/executor.js';
import { requests } from '../executor/requests.js';
import { DataRequest } from '../proto/request.js';
import { createJinaClient, unary } from '../transport/grpc/link.js';
import { JinaDiscoverEndpointsRPCService, JinaSingleDataRequestRPCService } from '../transport/grpc/codec.js';
import { HeadRuntime, pollingFor, type HeadRuntimeOptions } from './head.js';
import { WorkerRuntime } from './worker.js';

class Shard extends Executor {
  @requests()
  any({ docs }: HandlerArgs) {
    const shard = this.runtimeArgs.shardId;
    for (const d of docs) {
      d.tags[`shard${shard}`] = true;
      d.tags.sawBefore = d.tags.before ?? false;
      d.matches.push(new Document({ id: `m${shard}` }));
    }
    docs.push(new Document({ id: `extra${shard}` }));
  }

  @requests({ on: '/raise' })
  raise() {
    throw new RangeError(`shard ${this.runtimeArgs.shardId} failed`);
  }
}

class Before extends Executor {
  @requests()
  mark({ docs }: HandlerArgs) {
    for (const d of docs) d.tags.before = true;
  }
}

class After extends Executor {
  @requests({ on: '/after-only' })
  only() {}

  @requests()
  summarise({ docs, docsMatrix, docsMap }: HandlerArgs) {
    return new DocumentArray([
      new Document({
        id: 'summary',
        tags: { parts: docsMatrix.length, from: Object.keys(docsMap).sort(), merged: docs.length },
      }),
    ]);
  }
}

function request(endpoint: string, ids: string[]): DataRequest {
  return DataRequest.create({
    endpoint,
    docsBytes: encodeDocs(new DocumentArray(ids.map((id) => new Document({ id })))),
  });
}

void test('pollingFor: /search is ALL and /index ANY unless a map names them', () => {
  assert.equal(pollingFor(undefined, '/foo'), 'ANY');
  assert.equal(pollingFor('ANY', '/search'), 'ALL');
  assert.equal(pollingFor('ALL', '/foo'), 'ALL');
  assert.equal(pollingFor('ALL', '/index'), 'ANY');
  assert.equal(pollingFor({ '/search': 'ANY', '*': 'ALL' }, '/search'), 'ANY');
  assert.equal(pollingFor({ '/search': 'ANY', '*': 'ALL' }, '/foo'), 'ALL');
  assert.equal(pollingFor({ '/foo': 'ALL' }, '/bar'), 'ANY');
});

void describe('HeadRuntime in front of two shard workers', () => {
  const workers: WorkerRuntime[] = [];
  const heads: HeadRuntime[] = [];
  const clients: grpc.Client[] = [];
  const addr = (w: WorkerRuntime) => `127.0.0.1:${w.port}`;
  let shards: string[][];
  let before_: string[];
  let after_: string[];

  async function worker(exec: Executor): Promise<WorkerRuntime> {
    const w = new WorkerRuntime({ executor: exec });
    await w.start();
    workers.push(w);
    return w;
  }

  async function head(options: Omit<HeadRuntimeOptions, 'name'>): Promise<grpc.Client> {
    const h = new HeadRuntime({ name: 'idx', ...options });
    const port = await h.start();
    heads.push(h);
    const c = createJinaClient(`127.0.0.1:${port}`);
    clients.push(c);
    return c;
  }

  async function call(c: grpc.Client, req: DataRequest): Promise<DataRequest> {
    return (await unary(c, JinaSingleDataRequestRPCService.process_single_data, req)).response;
  }

  before(async () => {
    const s = await Promise.all(
      [0, 1].map((i) => worker(new Shard({ metas: { name: 'idx' }, runtimeArgs: { shardId: i } }))),
    );
    shards = s.map((w) => [addr(w)]);
    before_ = [addr(await worker(new Before({ metas: { name: 'idx/uses-before' } })))];
    after_ = [addr(await worker(new After({ metas: { name: 'idx/uses-after' } })))];
  });

  after(async () => {
    for (const c of clients) c.close();
    await Promise.all(heads.map((h) => h.close()));
    await Promise.all(workers.map((w) => w.close()));
  });

  void test('ALL: every shard answers and the head reduces them by id', async () => {
    const c = await head({ shards, polling: 'ALL' });
    const res = await call(c, request('/x', ['a', 'b']));
    const docs = decodeDocs(res.docsBytes);
    assert.deepEqual(docs.ids, ['a', 'b', 'extra0', 'extra1']);
    for (const d of docs.slice(0, 2)) {
      assert.equal(d.tags.shard0, true);
      assert.equal(d.tags.shard1, true);
      assert.deepEqual(d.matches.ids.sort(), ['m0', 'm1']);
    }
  });

  void test('ANY: each request goes to one shard, in turn', async () => {
    const c = await head({ shards, polling: { '*': 'ANY' } });
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) {
      const docs = decodeDocs((await call(c, request('/x', ['a']))).docsBytes);
      assert.equal(docs.length, 2);
      seen.push(docs[1]!.id);
    }
    assert.deepEqual(seen, ['extra0', 'extra1', 'extra0', 'extra1']);
  });

  void test('noReduce: the shards’ documents are concatenated', async () => {
    const c = await head({ shards, polling: 'ALL', noReduce: true });
    const docs = decodeDocs((await call(c, request('/x', ['a']))).docsBytes);
    assert.deepEqual(docs.ids, ['a', 'extra0', 'a', 'extra1']);
  });

  void test('usesBefore sees the request first; usesAfter gets every shard’s answer as parts', async () => {
    const c = await head({ shards, polling: 'ALL', usesBefore: before_, usesAfter: after_ });
    const docs = decodeDocs((await call(c, request('/x', ['a']))).docsBytes);
    assert.deepEqual(docs.ids, ['summary']);
    assert.deepEqual(docs[0]!.tags, { parts: 2, from: ['idx/shard-0', 'idx/shard-1'], merged: 3 });
    const direct = await head({ shards, polling: 'ALL', usesBefore: before_ });
    const shardDocs = decodeDocs((await call(direct, request('/x', ['a']))).docsBytes);
    assert.equal(shardDocs[0]!.tags.sawBefore, true);
    const { response } = await unary(c, JinaDiscoverEndpointsRPCService.endpoint_discovery, {});
    assert.deepEqual([...(response.endpoints ?? [])].sort(), ['/after-only', '/default', '/raise']);
  });

  void test('an Executor error in a shard is the answer', async () => {
    const c = await head({ shards, polling: 'ALL' });
    const res = await call(c, request('/raise', ['a']));
    assert.equal(res.isError, true);
    assert.equal(res.status?.exception?.name, 'RangeError');
  });

  void test('a shard that cannot be reached is left out; when none can, the call fails naming the head', async () => {
    const down = new WorkerRuntime({ executor: new Shard({ runtimeArgs: { shardId: 9 } }) });
    await down.start();
    const deadAddress = addr(down);
    await down.close();
    const partial = await head({ shards: [shards[0]!, [deadAddress]], polling: 'ALL' });
    const docs = decodeDocs((await call(partial, request('/x', ['a']))).docsBytes);
    assert.deepEqual(docs.ids, ['a', 'extra0']);

    const none = await head({ shards: [[deadAddress]], polling: 'ALL' });
    await assert.rejects(call(none, request('/x', ['a'])), (err: grpc.ServiceError) => {
      assert.equal(err.code, 14); // UNAVAILABLE
      assert.match(err.details, /\|Head idx: cannot reach Executor idx\/shard-0 at 127\.0\.0\.1:\d+/);
      return true;
    });
  });
});
