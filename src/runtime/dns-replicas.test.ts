import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeDocs, Document, DocumentArray, encodeDocs } from '../document/index.js';
import { Executor, type ExecutorArgs, type HandlerArgs } from '../executor/executor.js';
import { requests } from '../executor/requests.js';
import { freePort } from '../serve/gateway-runtime.js';
import { DataRequest } from '../proto/request.js';
import { DnsReplicas, isStaticAddress, joinHostPort, splitHostPort, type LookupFn } from './dns-replicas.js';
import { ReplicaSet } from './replica-set.js';
import { WorkerRuntime } from './worker.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A lookup whose answer the test sets; counts calls. */
function fakeLookup(initial: string[] | Error): LookupFn & { answer: string[] | Error; calls: number } {
  const fn = Object.assign(
    async (_host: string) => {
      fn.calls++;
      await Promise.resolve();
      if (fn.answer instanceof Error) throw fn.answer;
      return fn.answer;
    },
    { answer: initial, calls: 0 },
  );
  return fn;
}

void describe('addresses', () => {
  void test('IP literals, localhost and port-less addresses are static; names are resolved', () => {
    for (const a of ['127.0.0.1:5000', '[::1]:5000', 'localhost:5000', 'a.localhost:1', 'host'])
      assert.equal(isStaticAddress(a), true, a);
    for (const a of ['encoder.search.svc.cluster.local:8080', 'encoder-rep-0:8081'])
      assert.equal(isStaticAddress(a), false, a);
    assert.deepEqual(splitHostPort('[fd00::1]:8080'), { host: 'fd00::1', port: '8080' });
    assert.deepEqual(splitHostPort('enc.ns:8080'), { host: 'enc.ns', port: '8080' });
    assert.equal(joinHostPort('fd00::1', '8080'), '[fd00::1]:8080');
    assert.equal(joinHostPort('10.0.0.1', '8080'), '10.0.0.1:8080');
  });
});

void describe('DnsReplicas', () => {
  void test('reports every address of the name, sorted, and each change once', async () => {
    const lookup = fakeLookup(['10.0.0.2', '10.0.0.1', '10.0.0.1']);
    const seen: string[][] = [];
    const dns = new DnsReplicas('enc.ns.svc:8080', { lookup, onChange: (a) => seen.push(a) });
    assert.deepEqual(await dns.start(), ['10.0.0.1:8080', '10.0.0.2:8080']);
    await dns.refresh(); // same answer: no change reported
    lookup.answer = ['10.0.0.3', 'fd00::1'];
    await sleep(300);
    await dns.refresh();
    dns.close();
    assert.deepEqual(seen, [
      ['10.0.0.1:8080', '10.0.0.2:8080'],
      ['10.0.0.3:8080', '[fd00::1]:8080'],
    ]);
  });

  void test('a failed or empty resolution keeps the previous addresses', async () => {
    const lookup = fakeLookup(['10.0.0.1']);
    const errors: string[] = [];
    const dns = new DnsReplicas('enc:8080', {
      lookup,
      onChange: () => undefined,
      onError: (e) => errors.push(e.message),
    });
    await dns.start();
    lookup.answer = new Error('getaddrinfo ENOTFOUND enc');
    await sleep(300);
    await dns.refresh();
    assert.deepEqual(dns.addresses, ['10.0.0.1:8080']);
    lookup.answer = [];
    await sleep(300);
    await dns.refresh();
    assert.deepEqual(dns.addresses, ['10.0.0.1:8080']);
    assert.deepEqual(errors, ['getaddrinfo ENOTFOUND enc', 'enc resolved to no address']);
    dns.close();
  });

  void test('resolves every intervalMs; refresh() calls close together make one lookup', async () => {
    const lookup = fakeLookup(['10.0.0.1']);
    const dns = new DnsReplicas('enc:8080', { lookup, intervalMs: 100, onChange: () => undefined });
    await dns.start();
    await sleep(350);
    const periodic = lookup.calls;
    assert.ok(periodic >= 3 && periodic <= 5, `lookups in 350 ms at 100 ms: ${periodic}`);
    dns.close();
    const quiet = new DnsReplicas('enc:8080', { lookup, intervalMs: 60_000, onChange: () => undefined });
    await quiet.start();
    const before = lookup.calls;
    await Promise.all([quiet.refresh(), quiet.refresh(), quiet.refresh()]);
    assert.equal(lookup.calls - before, 1);
    quiet.close();
  });
});

class Tagger extends Executor {
  private readonly label: string;
  constructor(args: { label: string } & ExecutorArgs) {
    super(args);
    this.label = args.label;
  }

  @requests()
  async tag({ docs }: HandlerArgs) {
    await sleep(2);
    for (const d of docs) d.tags.replica = this.label;
  }
}

function request(id: string): DataRequest {
  return DataRequest.create({
    endpoint: '/',
    docsBytes: encodeDocs(new DocumentArray([new Document({ id })])),
  });
}

async function who(set: ReplicaSet, n: number, prefix: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const res = await set.send(request(`${prefix}${i}`));
      const label = decodeDocs(res.docsBytes).at(0)?.tags.replica as string;
      counts.set(label, (counts.get(label) ?? 0) + 1);
    }),
  );
  return counts;
}

void describe('ReplicaSet over a name (real workers on 127.0.0.1 and 127.0.0.2, same port)', () => {
  let port: number;
  const workers: WorkerRuntime[] = [];

  before(async () => {
    port = await freePort();
    for (const [host, label] of [
      ['127.0.0.1', 'a'],
      ['127.0.0.2', 'b'],
    ] as const) {
      const w = new WorkerRuntime({ executor: new Tagger({ label, metas: { name: 't' } }), host, port });
      await w.start();
      workers.push(w);
    }
  });

  after(async () => {
    await Promise.all(workers.map((w) => w.close()));
  });

  void test('pods added and removed are picked up by re-resolution; the balance covers all', async () => {
    const lookup = fakeLookup(['127.0.0.1']);
    const set = new ReplicaSet('t', [`t.ns.svc.cluster.local:${port}`], { lookup, resolveIntervalMs: 200 });
    try {
      assert.deepEqual([...(await who(set, 20, 'x'))], [['a', 20]]);
      assert.deepEqual(set.addresses, [`127.0.0.1:${port}`]);

      // A second pod appears: it gets requests within one interval.
      lookup.answer = ['127.0.0.1', '127.0.0.2'];
      const t0 = Date.now();
      while (set.replicas.length < 2) await sleep(10);
      const addedMs = Date.now() - t0;
      const both = await who(set, 40, 'y');
      assert.ok((both.get('a') ?? 0) >= 10 && (both.get('b') ?? 0) >= 10, JSON.stringify([...both]));

      // The first pod vanishes: calls in flight to it are answered, then its connection closes.
      const old = set.replicas.find((r) => r.address.startsWith('127.0.0.1'))!;
      const inFlight = Promise.all([0, 1, 2].map((i) => set.send(request(`z${i}`))));
      lookup.answer = ['127.0.0.2'];
      const t1 = Date.now();
      while (set.replicas.length > 1) await sleep(10);
      const removedMs = Date.now() - t1;
      await inFlight;
      assert.deepEqual([...(await who(set, 20, 'w'))], [['b', 20]]);
      assert.equal(old.draining, true);
      process.stderr.write(
        `re-resolve at 200 ms: added after ${addedMs} ms, removed after ${removedMs} ms\n`,
      );
      assert.ok(addedMs < 1000 && removedMs < 1000);
    } finally {
      set.close();
    }
  });

  void test('IP literals and localhost are never looked up', async () => {
    const lookup = fakeLookup(new Error('must not be called'));
    const set = new ReplicaSet('t', [`127.0.0.1:${port}`, `localhost:${port}`], { lookup });
    try {
      assert.deepEqual(set.addresses, [`127.0.0.1:${port}`, `localhost:${port}`]);
      assert.equal((await who(set, 4, 's')).get('a'), 4);
      assert.equal(lookup.calls, 0);
    } finally {
      set.close();
    }
  });

  void test('a name that does not resolve fails the call as Unavailable, naming it', async () => {
    const lookup = fakeLookup(new Error('getaddrinfo ENOTFOUND nope'));
    const set = new ReplicaSet('t', [`nope.ns.svc:${port}`], { lookup });
    try {
      await assert.rejects(
        set.send(request('n')),
        /no replica address \(nope\.ns\.svc: getaddrinfo ENOTFOUND/,
      );
    } finally {
      set.close();
    }
  });
});
