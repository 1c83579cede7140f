import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import type * as grpc from '@grpc/grpc-js';
import { GracefulStop, gracePeriodFromEnv, DEFAULT_GRACE_PERIOD_MS } from './graceful-stop.js';

/** A server stream stand-in: records end(). */
class FakeCall extends EventEmitter {
  cancelled = false;
  destroyed = false;
  endedAt: number | undefined;
  end(): void {
    this.endedAt = Date.now();
  }
}

function target() {
  const log: string[] = [];
  let inFlight = 0;
  return {
    log,
    set inFlight(n: number) {
      inFlight = n;
    },
    t: {
      setServing: (serving: boolean) => log.push(serving ? 'SERVING' : 'NOT_SERVING'),
      inFlight: () => inFlight,
      closeServer: (ms: number) => {
        log.push(`close(${ms})`);
        return Promise.resolve();
      },
    },
  };
}

const asCall = (c: FakeCall) => c as unknown as grpc.ServerDuplexStream<unknown, unknown>;

void test('idle: NOT_SERVING, then the server closes at once', async () => {
  const { log, t } = target();
  const t0 = Date.now();
  await new GracefulStop(t, 20_000).stop();
  assert.deepEqual(log, ['NOT_SERVING', 'close(250)']);
  assert.ok(Date.now() - t0 < 200);
});

void test('a stream: requests taken before are answered, later ones refused, then it ends OK', async () => {
  const tg = target();
  const stop = new GracefulStop(tg.t, 20_000);
  const call = new FakeCall();
  const s = stop.track(asCall(call));
  assert.equal(s.accept(), true);
  tg.inFlight = 1;
  const stopping = stop.stop();
  assert.equal(stop.stop(), stopping, 'one sequence');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(s.accept(), true, 'still taking requests during the notice period');
  s.done();
  s.done();
  tg.inFlight = 0;
  const answeredAt = Date.now();
  await stopping;
  assert.ok(call.endedAt! - answeredAt >= 200, 'ended after the quiet time');
  assert.equal(s.accept(), false, 'refused once the stream is ending');
  assert.deepEqual(tg.log, ['NOT_SERVING', 'close(250)']);
});

void test('the grace period bounds the whole sequence', async () => {
  const tg = target();
  tg.inFlight = 1; // never answered
  const stop = new GracefulStop(tg.t, 300);
  stop.track(asCall(new FakeCall())).accept();
  const t0 = Date.now();
  await stop.stop();
  const took = Date.now() - t0;
  assert.ok(took >= 290 && took < 800, `${took} ms`);
  assert.deepEqual(tg.log, ['NOT_SERVING', 'close(100)']);
});

void test('FLOWGATE_GRACE_PERIOD_MS sets the default', () => {
  assert.equal(gracePeriodFromEnv({ FLOWGATE_GRACE_PERIOD_MS: '1500' }), 1500);
  assert.equal(gracePeriodFromEnv({ FLOWGATE_GRACE_PERIOD_MS: 'x' }), DEFAULT_GRACE_PERIOD_MS);
  assert.equal(gracePeriodFromEnv({}), DEFAULT_GRACE_PERIOD_MS);
});
