/**
 * Recovering from Executor errors in a custom Gateway: `this.streamer.stream` yields
 * `[docs, error]` pairs instead of throwing, so the Gateway can retry, keep partial results or
 * answer with a default. Here the Executor fails on the text `fail`.
 *
 * Run: node --import tsx examples/custom-gateway/error-recovery.ts (prints one JSON line).
 */
import Fastify from 'fastify';
import {
  DocumentArray,
  Executor,
  FastifyBaseGateway,
  Flow,
  requests,
  type ExecutorError,
  type HandlerArgs,
} from 'flowgate';

class MyGateway extends FastifyBaseGateway {
  get app() {
    const app = Fastify();
    app.get<{ Querystring: { text: string } }>('/endpoint', async (req) => {
      const results: string[] = [];
      const errors: ExecutorError[] = [];
      for await (const [docs, error] of this.streamer.stream({
        docs: new DocumentArray([{ text: req.query.text }]),
        execEndpoint: '/',
      })) {
        if (error) errors.push(error);
        else results.push(docs[0]?.text ?? '');
      }
      return { results, errors: errors.map((e) => e.exceptionName) };
    });
    return app;
  }
}

class FragileExecutor extends Executor {
  @requests()
  work({ docs }: HandlerArgs) {
    for (const d of docs) {
      if (d.text === 'fail') throw new RangeError('cannot process "fail"');
      d.text = `${d.text ?? ''} processed`;
    }
  }
}

const flow = new Flow().configGateway({ uses: MyGateway, protocol: 'http' }).add({ uses: FragileExecutor });
await flow.start();
try {
  const get = async (text: string): Promise<unknown> =>
    (await fetch(`http://127.0.0.1:${flow.port}/endpoint?text=${text}`)).json();
  console.log(JSON.stringify({ ok: await get('hello'), failed: await get('fail') }));
} finally {
  await flow.close();
}
