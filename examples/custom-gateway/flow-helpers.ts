/**
 * Code that runs beside a Gateway but has no access to its class: it reaches the Flow through
 * `GatewayStreamer.getStreamer()`, the streamer of the Gateway running in this process.
 */
import { DocumentArray, GatewayStreamer } from 'flowgate';

/** Sends texts through the whole Flow and returns what the Executors made of them. */
export async function throughFlow(texts: string[]): Promise<string[]> {
  const out: string[] = [];
  for await (const docs of GatewayStreamer.getStreamer().streamDocs({
    docs: new DocumentArray(texts.map((text) => ({ text }))),
    execEndpoint: '/',
  }))
    out.push(...docs.texts);
  return out;
}
