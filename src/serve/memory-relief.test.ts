import assert from 'node:assert/strict';
import { test } from 'node:test';
import { memoryReliefThresholdMb, startMemoryRelief } from './memory-relief.js';

const MB = 2 ** 20;

/** Runs the relief on scripted readings, one per tick; resolves after the last tick. */
function script(readings: { rss: number; busy: number }[], thresholdMb = 64): Promise<number[]> {
  // The relief's timer does not hold the process open: this does, until the script ends.
  const alive = setInterval(() => undefined, 1000);
  return new Promise<number[]>((resolve) => {
    const collectedAt: number[] = [];
    let tick = -1;
    let started = false;
    let rssAfterCollect: number | undefined;
    const relief = startMemoryRelief({
      thresholdMb,
      intervalMs: 5,
      // Each tick reads the resident memory first (the script's next reading), then how busy.
      readRss: () => {
        if (!started) {
          started = true;
          return 80 * MB;
        }
        if (rssAfterCollect !== undefined) {
          const r = rssAfterCollect;
          rssAfterCollect = undefined;
          return r;
        }
        return readings[++tick]!.rss;
      },
      readBusy: () => {
        if (tick === readings.length - 1)
          setImmediate(() => {
            relief.stop();
            clearInterval(alive);
            resolve(collectedAt);
          });
        return readings[tick]!.busy;
      },
      collect: () => {
        collectedAt.push(tick);
        rssAfterCollect = 100 * MB;
      },
    });
  });
}

void test('collects once when the process is idle and well above its floor, not again at the new floor', async () => {
  const at = await script([
    { rss: 120 * MB, busy: 0 }, // 40 MB above: no
    { rss: 400 * MB, busy: 0 }, // idle, 320 MB above: collect (floor -> 100 MB)
    { rss: 150 * MB, busy: 0 }, // 50 MB above the new floor: no
    { rss: 150 * MB, busy: 0 },
  ]);
  assert.deepEqual(at, [1]);
});

void test('never collects while the event loop is busy (under load V8 collects on its own)', async () => {
  const at = await script([
    { rss: 400 * MB, busy: 0.9 },
    { rss: 400 * MB, busy: 0.5 },
    { rss: 400 * MB, busy: 0.01 }, // quiet again: collect
  ]);
  assert.deepEqual(at, [2]);
});

void test('the floor follows the resident memory down', async () => {
  const at = await script([
    { rss: 40 * MB, busy: 0 }, // floor 80 -> 40
    { rss: 110 * MB, busy: 0 }, // 70 MB above 40: collect
  ]);
  assert.deepEqual(at, [1]);
});

void test('the threshold comes from FLOWGATE_MEMORY_RELIEF_MB (0: off), else 64', () => {
  assert.equal(memoryReliefThresholdMb({}), 64);
  assert.equal(memoryReliefThresholdMb({ FLOWGATE_MEMORY_RELIEF_MB: '0' }), 0);
  assert.equal(memoryReliefThresholdMb({ FLOWGATE_MEMORY_RELIEF_MB: '32' }), 32);
  assert.equal(memoryReliefThresholdMb({ FLOWGATE_MEMORY_RELIEF_MB: 'lots' }), 64);
});

void test('without `collect`, V8 own full collection runs (no --expose-gc needed)', async () => {
  const relief = startMemoryRelief({ thresholdMb: 1, intervalMs: 5, readBusy: () => 0, readRss: rising() });
  try {
    await until(() => relief.collections > 0);
  } finally {
    relief.stop();
  }
});

function rising(): () => number {
  let rss = 0;
  return () => (rss += 2 * MB);
}

async function until(done: () => boolean): Promise<void> {
  const alive = setInterval(() => undefined, 1000);
  while (!done()) await new Promise((r) => setTimeout(r, 1));
  clearInterval(alive);
}
