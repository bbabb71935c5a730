/** A server-sent events parser over a byte stream (the subset the watch endpoint writes). */

/** One event: its `event` name (default `message`), `data` (lines joined) and `id`. */
export interface SseEvent {
  readonly event: string;
  readonly data: string;
  readonly id?: string;
}

/** Yields the events of a `text/event-stream` body; comment lines are skipped. */
export async function* parseSse(stream: AsyncIterable<Buffer | string>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event = 'message';
  let data: string[] = [];
  let id: string | undefined;
  // where to look for the next newline: a long event arrives in many chunks, so never rescan
  let searchFrom = 0;
  for await (const chunk of stream) {
    buffer += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffer.indexOf('\n', searchFrom)) >= 0) {
      const line = buffer.slice(0, nl).replace(/\r$/, '');
      buffer = buffer.slice(nl + 1);
      searchFrom = 0;
      if (line === '') {
        if (data.length > 0)
          yield id === undefined
            ? { event, data: data.join('\n') }
            : { event, data: data.join('\n'), id };
        event = 'message';
        data = [];
        id = undefined;
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
      else if (field === 'id') id = value;
    }
    searchFrom = buffer.length;
  }
}
