/**
 * A custom Gateway that serves its own gRPC service (`demo.Texts/Process`, JSON messages) on a
 * grpc-js server. `addHealthService(server)` is the one line that lets the Flow, `flowgate ping`
 * and Kubernetes probes check it. The handler calls a separate module (./flow-helpers.ts) that
 * reaches the Flow through `GatewayStreamer.getStreamer()`.
 *
 * Run: node --import tsx examples/custom-gateway/grpc-gateway.ts (prints one JSON line).
 */
import * as grpc from '@grpc/grpc-js';
import { addHealthService, Executor, Flow, Gateway, requests, type HandlerArgs } from 'flowgate';
import { throughFlow } from './flow-helpers.js';

interface TextsMessage {
  texts: string[];
}

const json = {
  serialize: (m: TextsMessage) => Buffer.from(JSON.stringify(m)),
  deserialize: (b: Buffer) => JSON.parse(b.toString('utf8')) as TextsMessage,
};

/** One unary method taking and returning `{ texts }` as JSON. */
const TextsService = {
  process: {
    path: '/demo.Texts/Process',
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
} satisfies grpc.ServiceDefinition;

class TextsGateway extends Gateway {
  private readonly server = new grpc.Server();

  override async setupServer(): Promise<void> {
    this.server.addService(TextsService, {
      process: (
        call: grpc.ServerUnaryCall<TextsMessage, TextsMessage>,
        callback: grpc.sendUnaryData<TextsMessage>,
      ) => {
        throughFlow(call.request.texts).then(
          (texts) => callback(null, { texts }),
          (err: Error) => callback({ code: grpc.status.INTERNAL, details: err.message }),
        );
      },
    });
    addHealthService(this.server);
    await new Promise<void>((resolve, reject) =>
      this.server.bindAsync(`${this.host}:${this.port}`, grpc.ServerCredentials.createInsecure(), (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  }

  override async runServer(): Promise<void> {
    await new Promise<void>((resolve) => (this.stop = resolve));
  }

  override async shutdown(): Promise<void> {
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
    this.stop?.();
  }

  private stop: (() => void) | undefined;
}

class Exclaim extends Executor {
  @requests()
  exclaim({ docs }: HandlerArgs) {
    for (const d of docs) d.text = `${d.text ?? ''}!`;
  }
}

const flow = new Flow().configGateway({ uses: TextsGateway, protocol: 'grpc' }).add({ uses: Exclaim });
await flow.start(); // resolves only once the gRPC health check of the Gateway's port passes
try {
  const Client = grpc.makeGenericClientConstructor(TextsService, 'Texts');
  const client = new Client(
    `127.0.0.1:${flow.port}`,
    grpc.credentials.createInsecure(),
  ) as unknown as grpc.Client & {
    process(m: TextsMessage, cb: (err: grpc.ServiceError | null, res?: TextsMessage) => void): void;
  };
  const res = await new Promise<TextsMessage>((resolve, reject) =>
    client.process({ texts: ['hello', 'world'] }, (err, r) => (err ? reject(err) : resolve(r!))),
  );
  client.close();
  console.log(JSON.stringify({ response: res }));
} finally {
  await flow.close();
}
