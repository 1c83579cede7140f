/** The Executor behind the Gateway YAML examples. */
import { Executor, requests, type HandlerArgs } from 'flowgate';

export class Reverse extends Executor {
  @requests()
  reverse({ docs }: HandlerArgs) {
    for (const d of docs) d.text = [...(d.text ?? '')].reverse().join('');
  }
}
