/**
 * The demo Flow started by `npm start`: a small text pipeline of three Executors.
 *
 *   gateway -> normalizer -> tokenizer -> shouter (binds only /shout)
 *
 * Every endpoint goes through the normalizer and the tokenizer; `/shout` also upper-cases.
 */
import { Client, Document, Executor, Flow, requests, type HandlerArgs } from 'flowgate';

export class Normalizer extends Executor {
  @requests()
  normalize({ docs }: HandlerArgs) {
    for (const d of docs) d.text = (d.text ?? '').trim().replace(/\s+/g, ' ');
  }
}

export class Tokenizer extends Executor {
  @requests()
  tokenize({ docs }: HandlerArgs) {
    for (const d of docs) d.tags.tokens = (d.text ?? '').split(' ').filter(Boolean).length;
    return { documents: docs.length };
  }
}

export class Shouter extends Executor {
  @requests({ on: '/shout' })
  shout({ docs }: HandlerArgs) {
    for (const d of docs) d.text = `${(d.text ?? '').toUpperCase()}!`;
  }
}

const port = Number(process.env.PORT ?? 12345);
const flow = new Flow()
  .configGateway({ protocol: 'grpc', port })
  .add({ uses: Normalizer, name: 'normalizer' })
  .add({ uses: Tokenizer, name: 'tokenizer' })
  .add({ uses: Shouter, name: 'shouter' });

await flow.start();
const client = new Client({ port: flow.port });
const docs = await client.post('/shout', [new Document({ text: '  hello   flowgate  ' })]);
console.log(`Demo Flow ready: gRPC on 127.0.0.1:${flow.port} (normalizer -> tokenizer -> shouter)`);
console.log(
  `Example: POST /shout "  hello   flowgate  " -> ${JSON.stringify(docs.texts)} tokens=${JSON.stringify(docs[0]?.tags.tokens)}`,
);
console.log(
  `Call it from code:  new Client({ port: ${flow.port} }).post('/shout', [new Document({ text: 'hi' })])`,
);
console.log(`Health check:       npx flowgate ping gateway grpc://127.0.0.1:${flow.port}`);
console.log('Press Ctrl+C to stop.');
await client.close();
await flow.block();
