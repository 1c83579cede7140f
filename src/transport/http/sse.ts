/**
 * Server-Sent Events as the HTTP Gateway streams them (the original's SSE routes): one event
 * `update` per item (data: the document's JSON), then `end`; `error` (data: `{name, message,
 * executor}`) when the stream fails after its first item.
 */

/** The events of a stream. */
export const SseEvent = { Update: 'update', End: 'end', Error: 'error' } as const;

/** One event, ready to write. */
export function encodeSseEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** One parsed event. */
export interface ParsedSseEvent {
  event: string;
  data: string;
}

/**
 * Parses a text/event-stream as it arrives: yields each complete event (the `message` event when a
 * block names none). Comments and `id:`/`retry:` lines are skipped.
 *
 * @example
 * ```ts
 * for await (const e of parseSse(response.body)) if (e.event === 'update') console.log(JSON.parse(e.data));
 * ```
 */
export async function* parseSse(chunks: AsyncIterable<Uint8Array | string>): AsyncGenerator<ParsedSseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of chunks) {
    buffer += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    buffer = buffer.replace(/\r\n?/g, '\n');
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length > 0 || event !== 'message') yield { event, data: data.join('\n') };
    }
  }
}
