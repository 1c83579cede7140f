import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type * as grpc from '@grpc/grpc-js';
import { Document, DocumentArray, decodeDocs, encodeDocs } from '../src/document/index.js';
import { Executor, type HandlerArgs } from '../src/executor/executor.js';
import { DRY_RUN_ENDPOINT, requests } from '../src/executor/requests.js';
import { DataRequest } from '../src/proto/request.js';
import { WorkerRuntime } from '../src/runtime/worker.js';
import { checkHealth, createJinaClient, duplex, unary } from '../src/transport/grpc/link.js';
import {
  JinaDataRequestRPCService,
  JinaDiscoverEndpointsRPCService,
  JinaInfoRPCService,
  JinaRPCService,
  JinaSingleDataRequestRPCService,
} from '../src/transport/grpc/codec.js';

/** A promise with its resolver, to hold a handler until the test lets it go. */
function latch(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

export class Probe extends Executor {
  /** Endpoints whose user code ran, in call order. */
  calls: string[] = [];
  /** `/gate` handlers wait here until `gateSize` of them have arrived. */
  gateSize = Infinity;
  private arrived = 0;
  private gate = latch();
  /** `/hold` handlers wait here until the test opens it. */
  hold = latch();
  /** Resolves when a `/hold` handler has started. */
  holding = latch();

  @requests({ on: '/upper' })
  upper({ docs }: HandlerArgs) {
    this.calls.push('/upper');
    for (const d of docs) d.text = (d.text ?? '').toUpperCase();
  }

  @requests()
  fallback({ docs, parameters }: HandlerArgs) {
    this.calls.push('/default');
    for (const d of docs) {
      d.tags.via = 'default';
      d.tags.params = parameters;
    }
  }

  @requests({ on: '/raise' })
  raise() {
    this.calls.push('/raise');
    throw new RangeError('boom');
  }

  @requests({ on: '/result' })
  result({ parameters }: HandlerArgs) {
    this.calls.push('/result');
    return { answer: 42, echo: parameters.q ?? null };
  }

  @requests({ on: '/matrix' })
  matrix({ docs, docsMatrix, docsMap }: HandlerArgs) {
    this.calls.push('/matrix');
    const summary = new Document({
      text: 'summary',
      tags: {
        parts: docsMatrix.map((da) => da.texts.join(',')),
        map: Object.fromEntries(Object.entries(docsMap).map(([k, da]) => [k, da.texts.join(',')])),
        merged: docs.length,
      },
    });
    return new DocumentArray([summary]);
  }

  @requests({ on: '/gate' })
  async gated({ docs }: HandlerArgs) {
    this.calls.push('/gate');
    if (++this.arrived >= this.gateSize) this.gate.open();
    await this.gate.promise;
    for (const d of docs) d.tags.gated = true;
  }

  @requests({ on: '/hold' })
  async held({ docs }: HandlerArgs) {
    this.calls.push('/hold');
    this.holding.open();
    await this.hold.promise;
    for (const d of docs) d.tags.held = true;
  }
}

function request(endpoint: string, texts: string[], parameters?: Record<string, unknown>): DataRequest {
  return DataRequest.create({
    endpoint,
    parameters: parameters as DataRequest['parameters'] | undefined,
    docsBytes: encodeDocs(new DocumentArray(texts.map((text) => new Document({ text })))),
  });
}

const rawBytes = (b: Buffer) => b;
function rawMethod(path: string, stream: boolean): grpc.MethodDefinition<Buffer, Buffer> {
  return {
    path,
    requestStream: stream,
    responseStream: stream,
    requestSerialize: rawBytes,
    requestDeserialize: rawBytes,
    responseSerialize: rawBytes,
    responseDeserialize: rawBytes,
  };
}

void describe('WorkerRuntime over real gRPC', () => {
  let exec: Probe;
  let worker: WorkerRuntime;
  let client: grpc.Client;

  before(async () => {
    exec = new Probe({ metas: { name: 'probe' } });
    worker = new WorkerRuntime({ executor: exec });
    const port = await worker.start();
    assert.ok(port > 0);
    client = createJinaClient(`127.0.0.1:${port}`);
  });

  after(async () => {
    client.close();
    await worker.close();
  });

  void test('process_single_data runs the bound method and returns the changed docs', async () => {
    const req = request('/upper', ['a', 'b']);
    const { response } = await unary(client, JinaSingleDataRequestRPCService.process_single_data, req);
    assert.equal(response.requestId, req.requestId);
    assert.equal(response.isError, false);
    assert.deepEqual(decodeDocs(response.docsBytes).texts, ['A', 'B']);
  });

  void test('an exact endpoint wins over /default; an unbound endpoint falls back to /default', async () => {
    const exact = await unary(
      client,
      JinaSingleDataRequestRPCService.process_single_data,
      request('upper', ['x']),
    );
    assert.deepEqual(decodeDocs(exact.response.docsBytes).texts, ['X']);
    const other = await unary(
      client,
      JinaSingleDataRequestRPCService.process_single_data,
      request('/nothing-binds-this', ['x']),
    );
    const docs = decodeDocs(other.response.docsBytes);
    assert.deepEqual(docs.texts, ['x']);
    assert.equal(docs[0]!.tags.via, 'default');
  });

  void test('Call carries several requests in flight at once, each answered under its own id', async () => {
    const n = 4;
    exec.gateSize = n; // no handler returns until all n are running at the same time
    const call = duplex(client, JinaRPCService.Call);
    const sent = Array.from({ length: n }, (_, i) => request('/gate', [`doc-${i}`]));
    for (const r of sent) call.write(r);
    call.end();
    const received: DataRequest[] = [];
    for await (const res of call as AsyncIterable<DataRequest>) received.push(res);
    assert.equal(received.length, n);
    const byId = new Map(received.map((r) => [r.requestId, r]));
    for (const [i, r] of sent.entries()) {
      const res = byId.get(r.requestId);
      assert.ok(res, `no response for request ${i}`);
      const docs = decodeDocs(res.docsBytes);
      assert.deepEqual(docs.texts, [`doc-${i}`]);
      assert.equal(docs[0]!.tags.gated, true);
    }
  });

  void test('process_data hands the Executor every part as docsMatrix and docsMap', async () => {
    const a = request('/matrix', ['a1', 'a2']);
    a.routes = [{ executor: 'gateway' }, { executor: 'left' }];
    const b = request('/matrix', ['b1']);
    b.requestId = a.requestId;
    b.routes = [{ executor: 'gateway' }, { executor: 'right' }];
    const { response } = await unary(client, JinaDataRequestRPCService.process_data, [a, b]);
    assert.equal(response.isError, false, JSON.stringify(response.status));
    const docs = decodeDocs(response.docsBytes);
    assert.equal(docs.length, 1);
    assert.deepEqual(docs[0]!.tags, {
      parts: ['a1,a2', 'b1'],
      map: { left: 'a1,a2', right: 'b1' },
      merged: 3,
    });
  });

  void test('endpoint_discovery lists the bound endpoints', async () => {
    const { response } = await unary(client, JinaDiscoverEndpointsRPCService.endpoint_discovery, {});
    assert.deepEqual(
      [...(response.endpoints ?? [])].sort(),
      ['/default', '/gate', '/hold', '/matrix', '/raise', '/result', '/upper'].sort(),
    );
  });

  void test('the dry-run endpoint is answered without calling user code', async () => {
    const before = exec.calls.length;
    const { response } = await unary(
      client,
      JinaSingleDataRequestRPCService.process_single_data,
      request(DRY_RUN_ENDPOINT, ['dry']),
    );
    assert.equal(response.isError, false);
    assert.equal(exec.calls.length, before, `user code ran: ${exec.calls.slice(before).join(', ')}`);
  });

  void test('health is SERVING', async () => {
    assert.equal(await checkHealth(client), true);
  });

  void test('_status returns the jina and envs maps', async () => {
    const { response } = await unary(client, JinaInfoRPCService._status, {});
    const jina = response.jina ?? {};
    const envs = response.envs ?? {};
    assert.equal(typeof jina.flowgate, 'string');
    assert.equal(jina.node, process.versions.node);
    assert.ok('FLOWGATE_LOG_LEVEL' in envs, JSON.stringify(envs));
  });

  void test('an Executor error is answered in-band with is-error trailer; the next request works', async () => {
    const { response, trailers } = await unary(
      client,
      JinaSingleDataRequestRPCService.process_single_data,
      request('/raise', ['x']),
    );
    assert.equal(response.isError, true);
    const status = response.status!;
    assert.equal(Number(status.code), 1);
    assert.equal(status.exception?.name, 'RangeError');
    assert.deepEqual(status.exception?.args, ['boom']);
    assert.equal(status.exception?.executor, 'probe');
    assert.ok((status.exception?.stacks ?? []).length > 0);
    assert.match((status.exception?.stacks ?? []).join(''), /boom/);
    assert.deepEqual(trailers?.get('is-error'), ['true']);

    const next = await unary(
      client,
      JinaSingleDataRequestRPCService.process_single_data,
      request('/upper', ['ok']),
    );
    assert.equal(next.response.isError, false);
    assert.deepEqual(next.trailers?.get('is-error') ?? [], []);
    assert.deepEqual(decodeDocs(next.response.docsBytes).texts, ['OK']);
  });

  void test('a returned plain object lands in parameters.__results__[name]', async () => {
    const { response } = await unary(
      client,
      JinaSingleDataRequestRPCService.process_single_data,
      request('/result', ['x'], { q: 'hi' }),
    );
    assert.equal(response.isError, false);
    assert.deepEqual(response.parameters.__results__, { probe: { answer: 42, echo: 'hi' } });
    assert.equal(response.parameters.q, 'hi');
    assert.deepEqual(decodeDocs(response.docsBytes).texts, ['x']);
  });

  void test('<name>__key parameters reach only that Executor', async () => {
    const { response } = await unary(
      client,
      JinaSingleDataRequestRPCService.process_single_data,
      request('/default', ['x'], { shared: 1, probe__k: 'mine', other__k: 'theirs', other__only: true }),
    );
    const docs = decodeDocs(response.docsBytes);
    assert.deepEqual(docs[0]!.tags.params, { shared: 1, k: 'mine' });
  });

  void test('server reflection lists the Jina and health services', async () => {
    const call = duplex(
      client,
      rawMethod('/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo', true),
    );
    // ServerReflectionRequest { list_services = 7 (string): "" }
    call.write(Buffer.from([0x3a, 0x00]));
    call.end();
    const chunks: Buffer[] = [];
    for await (const res of call as AsyncIterable<Buffer>) chunks.push(res);
    const text = Buffer.concat(chunks).toString('latin1');
    assert.ok(text.includes('jina.JinaRPC'), text);
    assert.ok(text.includes('grpc.health.v1.Health'), text);
  });
});

void describe('WorkerRuntime close', () => {
  void test('reports NOT_SERVING once close starts, answers the request in flight, then stops', async () => {
    const exec = new Probe({ metas: { name: 'closing' } });
    const worker = new WorkerRuntime({ executor: exec });
    const port = await worker.start();
    const client = createJinaClient(`127.0.0.1:${port}`);
    try {
      assert.equal(await checkHealth(client), true);
      const inFlight = unary(
        client,
        JinaSingleDataRequestRPCService.process_single_data,
        request('/hold', ['h']),
      );
      await exec.holding.promise;
      const closing = worker.close();
      const health = rawMethod('/grpc.health.v1.Health/Check', false);
      const { response } = await unary(client, health, Buffer.alloc(0));
      // HealthCheckResponse { status = 1 (enum): NOT_SERVING = 2 }
      assert.deepEqual([...response], [0x08, 2]);
      exec.hold.open();
      const { response: res } = await inFlight;
      assert.equal(decodeDocs(res.docsBytes)[0]!.tags.held, true);
      await closing;
      assert.equal(await checkHealth(client, 500), false);
    } finally {
      client.close();
      await worker.close();
    }
  });
});
