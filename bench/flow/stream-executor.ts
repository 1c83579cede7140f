/** The benchmark's streaming Executor: yields `parameters.n` documents of 20 bytes, as fast as it can. */
import type { StreamArgs } from '../../src/index.js';
import { api } from '../api.js';

const { Executor, Document, requests } = api;
const TEXT = 'x'.repeat(20);

export class StreamExecutor extends Executor {
  @requests({ on: '/stream' })
  async *stream({ parameters }: StreamArgs) {
    const n = typeof parameters.n === 'number' ? parameters.n : 1;
    for (let i = 0; i < n; i++) yield new Document({ id: String(i), text: TEXT });
  }
}
