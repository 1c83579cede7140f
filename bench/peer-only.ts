/**
 * The peer section alone (flowgate's HTTP Gateway + Executor beside Moleculer, see
 * sections/peer.ts), for working on the numbers it reads without a full run:
 * `npm run build && node --import tsx bench/peer-only.ts [--rounds=3]`. Prints the section's JSON.
 */
import { dropTsxForFlowChildren } from './api.js';
import { hasTool } from './load/external.js';
import { NodeLoad } from './load/node-load.js';
import { runPeer } from './sections/peer.js';

const rounds = Number(process.argv.find((a) => a.startsWith('--rounds='))?.slice('--rounds='.length) ?? 1);
dropTsxForFlowChildren();
const load = await NodeLoad.start();
try {
  const window = () => ({ warmupMs: 0, durationMs: 0 });
  const peer = await runPeer(
    { load, window, wrk: hasTool('wrk'), h2load: false },
    rounds,
    rounds === 1,
    (l) => process.stderr.write(`${l}\n`),
  );
  process.stdout.write(`${JSON.stringify(peer, null, 2)}\n`);
} finally {
  await load.stop();
}
process.exit(0);
