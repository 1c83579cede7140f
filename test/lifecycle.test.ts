import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { Client, Flow } from '../src/index.js';
import { Hello } from './fixtures/client-executors.js';

/** True while a process with this id exists (and is not a zombie). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return true;
}

async function waitGone(pids: number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = pids.filter(alive);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 50));
  }
}

void test('await using closes the Flow at the end of the block', async () => {
  let pids: number[] = [];
  {
    await using flow = await new Flow().add({ name: 'hello', uses: Hello }).start();
    pids = flow.pids;
    assert.equal(pids.length, 2);
    await using client = new Client({ port: flow.port });
    assert.deepEqual((await client.post('/')).texts, ['hello']);
  }
  assert.deepEqual(await waitGone(pids, 1000), [], 'processes outlived the block');
});

void test('a Flow whose parent is killed with SIGKILL leaves no orphans', async () => {
  const parent = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/orphan-parent.ts'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: parent.stdout });
  const [line] = (await once(lines, 'line')) as [string];
  const { pids, port } = JSON.parse(line) as { pids: number[]; port: number };
  assert.equal(pids.length, 4, `expected 3 Executor replicas and a Gateway, got ${line}`);
  for (const pid of pids) assert.equal(alive(pid), true);
  // the Flow works before the parent dies
  const client = new Client({ port });
  assert.deepEqual((await client.post('/')).texts, ['hello', 'hello']);
  await client.close();

  parent.kill('SIGKILL');
  await once(parent, 'exit');
  assert.deepEqual(await waitGone(pids, 10_000), [], 'children outlived their killed parent');
});
