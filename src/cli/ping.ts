import { Client } from '../client/client.js';
import { checkHealth, createJinaClient } from '../transport/grpc/link.js';

/** Options of {@link ping}. */
export interface PingOptions {
  timeout: number;
  attempts: number;
  minSuccessfulAttempts: number;
}

async function once(target: string, address: string, timeoutMs: number): Promise<boolean> {
  const m = /^(grpcs?|https?|websocket|wss?):\/\/(.*)$/.exec(address);
  const scheme = m?.[1] ?? 'grpc';
  const hostPort = m?.[2] ?? address;
  if (target === 'flow') {
    const client = new Client({ host: `${scheme === 'websocket' ? 'ws' : scheme}://${hostPort}` });
    try {
      return await client.isFlowReady(timeoutMs);
    } finally {
      await client.close();
    }
  }
  if (scheme.startsWith('grpc')) {
    const c = createJinaClient(hostPort);
    try {
      return await checkHealth(c, Math.min(timeoutMs, 1000));
    } finally {
      c.close();
    }
  }
  try {
    const proto = scheme === 'https' || scheme === 'wss' ? 'https' : 'http';
    const res = await fetch(`${proto}://${hostPort}/`, { signal: AbortSignal.timeout(timeoutMs) });
    return res.status === 200;
  } catch {
    return false;
  }
}

/** Health-checks a target `attempts` times, one second apart, as `jina ping` does. */
export async function ping(target: string, address: string, opts: PingOptions): Promise<boolean> {
  let ok = 0;
  for (let i = 1; i <= opts.attempts; i++) {
    if (await once(target, address, opts.timeout)) ok++;
    else process.stderr.write(`${target} at ${address} is not responding, attempt (${i}/${opts.attempts})\n`);
    if (ok >= opts.minSuccessfulAttempts) return true;
    if (i < opts.attempts) await new Promise((r) => setTimeout(r, 1000));
  }
  return ok >= opts.minSuccessfulAttempts;
}
