/**
 * `GatewayStreamer.getStreamer()` from a worker thread: the Gateway hands CPU-heavy work to a
 * thread (./worker-task.ts), which sends documents through the Flow itself.
 *
 * Run: node --import tsx examples/custom-gateway/worker-thread.ts (prints one JSON line).
 */
import { Worker } from 'node:worker_threads';
import Fastify from 'fastify';
import { Executor, FastifyBaseGateway, Flow, requests, type HandlerArgs } from 'flowgate';

/**
 * A worker thread running a TypeScript file. Node 20 does not pass loader hooks (tsx) on to worker
 * threads, so a tiny bootstrap registers tsx in the thread first (plain .js/.mjs workers need none).
 */
function tsWorker(file: URL): URL {
  const tsx = import.meta.resolve('tsx/esm/api');
  const code = `const { register } = await import(${JSON.stringify(tsx)}); register(); await import(${JSON.stringify(file.href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}

class ThreadedGateway extends FastifyBaseGateway {
  get app() {
    const app = Fastify();
    app.get<{ Querystring: { text: string } }>('/in-a-thread', async (req) => {
      const worker = new Worker(tsWorker(new URL('./worker-task.ts', import.meta.url)), {
        workerData: { texts: [req.query.text, `${req.query.text}2`] },
      });
      const texts = await new Promise<string[]>((resolve, reject) => {
        worker.once('message', (m: string[]) => resolve(m));
        worker.once('error', reject);
      });
      await worker.terminate();
      return { texts };
    });
    return app;
  }
}

class Shout extends Executor {
  @requests()
  shout({ docs }: HandlerArgs) {
    for (const d of docs) d.text = `${(d.text ?? '').toUpperCase()}!`;
  }
}

const flow = new Flow().configGateway({ uses: ThreadedGateway, protocol: 'http' }).add({ uses: Shout });
await flow.start();
try {
  const res = await fetch(`http://127.0.0.1:${flow.port}/in-a-thread?text=hey`);
  console.log(JSON.stringify({ status: res.status, body: await res.json() }));
} finally {
  await flow.close();
}
