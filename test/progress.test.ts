/** `showProgress`: the Client draws documents sent/received and requests/s on stderr, over each protocol. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Client, Document, Flow } from '../src/index.js';
import type { ClientProtocol } from '../src/client/client.js';
import { WsWorker } from './fixtures/ws-executors.js';

const protocols: ClientProtocol[] = ['grpc', 'http', 'websocket'];
const flow = new Flow().configGateway({ protocol: protocols }).add({ name: 'w', uses: WsWorker });
before(async () => {
  await flow.start();
});
after(async () => {
  await flow.close();
});

/** Runs `fn` with stderr captured. */
async function captureStderr(fn: () => Promise<void>): Promise<string> {
  const original = process.stderr.write.bind(process.stderr);
  let out = '';
  process.stderr.write = (chunk: string | Uint8Array) => {
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  };
  try {
    await fn();
  } finally {
    process.stderr.write = original;
  }
  return out;
}

for (const [i, protocol] of protocols.entries()) {
  void test(`${protocol}: a progress line reaches 100% of the documents posted`, async () => {
    const client = new Client({ protocol, port: flow.ports[i]! });
    try {
      const docs = Array.from({ length: 300 }, (_, k) => new Document({ text: `d${k}` }));
      let got = 0;
      const out = await captureStderr(async () => {
        got = (await client.post('/tag', docs, { requestSize: 10, showProgress: true })).length;
      });
      assert.equal(got, 300);
      const lines = out.split('\r').filter(Boolean);
      assert.match(lines.at(-1)!, /^\/tag \[█{24}\] 100% 300\/300 docs · \d+ req\/s · 0 errors · \d+\.\d s/);
      assert.ok(out.endsWith('\n'));
    } finally {
      await client.close();
    }
  });
}

void test('showProgress false (and no terminal): nothing is drawn', async () => {
  const client = new Client({ port: flow.ports[0]! });
  try {
    const out = await captureStderr(async () => {
      await client.post('/tag', [new Document()], { showProgress: false });
      await client.post('/tag', [new Document()]);
    });
    assert.doesNotMatch(out, /docs/);
  } finally {
    await client.close();
  }
});
