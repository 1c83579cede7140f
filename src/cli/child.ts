/**
 * The entry point of the processes a Flow spawns (`node child.js executor|head|gateway`): it waits
 * for the configuration over IPC and serves. It imports only what its role needs (see serve.ts),
 * not the command line (commander, the Client behind `ping`, Flow, export), which `flowgate
 * executor|head|gateway --ipc` would also load: a child that starts faster and uses less memory.
 */
import { serveFromParent } from './serve.js';

const role = process.argv[2];
if (role !== 'executor' && role !== 'head' && role !== 'gateway') {
  process.stderr.write(`flowgate child: unknown role '${role}' (executor, head or gateway)\n`);
  process.exit(2);
}
await serveFromParent(role);
