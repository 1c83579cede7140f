/** The benchmark's trivial Executor: returns the documents it is given. */
import type { HandlerArgs } from '../../src/index.js';
import { api } from '../api.js';

const { Executor, requests } = api;

export class EchoExecutor extends Executor {
  @requests()
  echo({ docs }: HandlerArgs) {
    return docs;
  }
}
