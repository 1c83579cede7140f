/**
 * A custom Gateway on Fastify: `GET /endpoint?text=...` sends one Document through the Flow with
 * `this.streamer.streamDocs` and answers with the text the Executor wrote. `GET /greeting` shows a
 * constructor argument from `usesWith`; `GET /via-get-streamer` reaches the Flow through
 * `GatewayStreamer.getStreamer()` instead of `this.streamer`.
 *
 * Run: node --import tsx examples/custom-gateway/fastify-gateway.ts (prints one JSON line).
 */
import Fastify from 'fastify';
import {
  DocumentArray,
  Executor,
  FastifyBaseGateway,
  Flow,
  GatewayStreamer,
  requests,
  type GatewayOptions,
  type HandlerArgs,
} from 'flowgate';

class MyGateway extends FastifyBaseGateway {
  private readonly greeting: string;

  constructor({ greeting = 'hello', ...options }: GatewayOptions & { greeting?: string }) {
    super(options);
    this.greeting = greeting;
  }

  get app() {
    const app = Fastify();
    app.get<{ Querystring: { text: string } }>('/endpoint', async (req) => {
      let result: string | undefined;
      for await (const docs of this.streamer.streamDocs({
        docs: new DocumentArray([{ text: req.query.text }]),
        execEndpoint: '/',
      })) {
        result = docs[0]?.text;
      }
      return { result };
    });
    app.get('/greeting', async () => ({ greeting: this.greeting }));
    app.get<{ Querystring: { text: string } }>('/via-get-streamer', async (req) => {
      const texts: string[] = [];
      for await (const docs of GatewayStreamer.getStreamer().streamDocs({
        docs: new DocumentArray([{ text: req.query.text }]),
      })) {
        texts.push(...docs.texts);
      }
      return { texts };
    });
    return app;
  }
}

class AppendExecutor extends Executor {
  @requests()
  append({ docs }: HandlerArgs) {
    for (const d of docs) d.text = `${d.text ?? ''} processed by the Flow`;
  }
}

const flow = new Flow()
  .configGateway({ uses: MyGateway, protocol: 'http', usesWith: { greeting: 'hi from usesWith' } })
  .add({ uses: AppendExecutor });
await flow.start();
try {
  const get = async (path: string): Promise<unknown> =>
    (await fetch(`http://127.0.0.1:${flow.port}${path}`)).json();
  const out = {
    endpoint: await get('/endpoint?text=hello'),
    greeting: await get('/greeting'),
    viaGetStreamer: await get('/via-get-streamer?text=world'),
    health: (await fetch(`http://127.0.0.1:${flow.port}/`)).status,
  };
  console.log(JSON.stringify(out));
} finally {
  await flow.close();
}
