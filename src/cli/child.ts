/**
 * The entry point of the processes a Flow spawns (`node child.js executor|head|gateway`): it waits
 * for the configuration over IPC and serves. It imports only what its role needs (see serve.ts),
 * not the command line (commander, the Client behind `ping`, Flow, export), which `flowgate
 * executor|head|gateway --ipc` would also load: a child that starts faster and uses less memory.
 */
import { serveFromParent } from './serve.js';
import { pendingUserImports } from '../runtime/user-module.js';

const role = process.argv[2];
if (role !== 'executor' && role !== 'head' && role !== 'gateway') {
  process.stderr.write(`flowgate child: unknown role '${role}' (executor, head or gateway)\n`);
  process.exit(2);
}
// Exit code 13 is Node's "unsettled top-level await": this process's start waited on something
// that nothing will ever settle. Say what, rather than let the parent report a bare exit code.
// (Node 20 calls 'exit' listeners with code 0 there, and exits 13 after them.)
let settled = false;
process.on('exit', (code) => {
  if (code !== 13 && (code !== 0 || settled)) return;
  const files = pendingUserImports();
  process.stderr.write(
    files.length > 0
      ? `flowgate ${role}: importing ${files.join(', ')} never finished: a top-level await in it (or in a module it imports) waits on something that never happens in this process. A module that defines Executors or Gateways should only define them; keep the code that runs Flows in another file.\n`
      : `flowgate ${role}: its start-up waited on a promise that nothing will ever settle, and nothing else kept the process running.\n`,
  );
});
await serveFromParent(role);
settled = true;
