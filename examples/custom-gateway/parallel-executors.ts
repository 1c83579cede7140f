/**
 * Calling Executors one by one from a custom Gateway with `this.executor[name].post`, bypassing
 * the graph. Each Executor takes 2 s: `/sequential` awaits one call after the other (> 4 s),
 * `/parallel` starts both and awaits them together with `Promise.all` (< 2.5 s).
 *
 * Run: node --import tsx examples/custom-gateway/parallel-executors.ts (prints one JSON line).
 */
import Fastify from 'fastify';
import { DocumentArray, Executor, FastifyBaseGateway, Flow, requests, type HandlerArgs } from 'flowgate';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class MyGateway extends FastifyBaseGateway {
  get app() {
    const app = Fastify();
    const call = (name: string, text: string) =>
      this.executor[name]!.post({
        on: '/',
        inputs: new DocumentArray([{ text }]),
        parameters: { k: 'v' },
      });
    app.get<{ Querystring: { text: string } }>('/sequential', async (req) => {
      const toc = performance.now();
      const doc1 = await call('executor1', req.query.text);
      const doc2 = await call('executor2', req.query.text);
      return { result: [...doc1.texts, ...doc2.texts], timeTaken: (performance.now() - toc) / 1000 };
    });
    app.get<{ Querystring: { text: string } }>('/parallel', async (req) => {
      const toc = performance.now();
      const [doc1, doc2] = await Promise.all([
        call('executor1', req.query.text),
        call('executor2', req.query.text),
      ]);
      return { result: [...doc1.texts, ...doc2.texts], timeTaken: (performance.now() - toc) / 1000 };
    });
    return app;
  }
}

class FirstExec extends Executor {
  @requests()
  async func({ docs }: HandlerArgs) {
    await sleep(2000);
    for (const d of docs) d.text += ' saw the first executor';
  }
}

class SecondExec extends Executor {
  @requests()
  async func({ docs }: HandlerArgs) {
    await sleep(2000);
    for (const d of docs) d.text += ' saw the second executor';
  }
}

const flow = new Flow()
  .configGateway({ uses: MyGateway, protocol: 'http' })
  .add({ uses: FirstExec, name: 'executor1' })
  .add({ uses: SecondExec, name: 'executor2' });
await flow.start();
try {
  const get = async (path: string): Promise<unknown> =>
    (await fetch(`http://127.0.0.1:${flow.port}${path}?text=hello`)).json();
  console.log(JSON.stringify({ sequential: await get('/sequential'), parallel: await get('/parallel') }));
} finally {
  await flow.close();
}
