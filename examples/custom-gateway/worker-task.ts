/**
 * Runs in a worker thread of the Gateway process: it has no access to the Gateway object, and
 * reaches the Flow through `GatewayStreamer.getStreamer()` (a proxy to the main thread's streamer).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { DocumentArray, GatewayStreamer } from 'flowgate';

const texts: string[] = [];
for await (const docs of GatewayStreamer.getStreamer().streamDocs({
  docs: new DocumentArray((workerData as { texts: string[] }).texts.map((text) => ({ text }))),
  execEndpoint: '/',
}))
  texts.push(...docs.texts);
parentPort!.postMessage(texts);
