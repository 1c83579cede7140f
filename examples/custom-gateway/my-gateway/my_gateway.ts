/** The custom Gateway that my-gateway/config.yml names (`jtype: MyGateway`, `modules: my_gateway.ts`). */
import Fastify from 'fastify';
import { DocumentArray, FastifyBaseGateway, type GatewayOptions } from 'flowgate';

export class MyGateway extends FastifyBaseGateway {
  private readonly arg1: string;
  private readonly arg2: string;

  constructor({ arg1 = '', arg2 = '', ...options }: GatewayOptions & { arg1?: string; arg2?: string }) {
    super(options);
    this.arg1 = arg1;
    this.arg2 = arg2;
  }

  get app() {
    const app = Fastify();
    app.get<{ Querystring: { text?: string } }>('/endpoint', async (req) => {
      const texts: string[] = [];
      for await (const docs of this.streamer.streamDocs({
        docs: new DocumentArray([{ text: req.query.text ?? '' }]),
      }))
        texts.push(...docs.texts);
      return { texts, args: [this.arg1, this.arg2] };
    });
    return app;
  }
}
