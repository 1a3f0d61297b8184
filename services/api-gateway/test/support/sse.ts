/**
 * A server-sent events client for tests, reading the stream the way a browser's EventSource does
 * (fields `id`, `event`, `data`, comments), over fetch so it can send the bearer token and
 * `Last-Event-ID`. It records every event and comment so tests can wait for them.
 */
import { waitFor } from '@parley/testing';

export interface SseEvent {
  id?: string;
  event: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON events
  data: any;
}

export class SseClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  status = 0;
  contentType = '';
  /** Set once the stream has ended (server closed it or `close()`). */
  ended = false;
  private readonly abort = new AbortController();
  private done: Promise<void> = Promise.resolve();

  static async open(url: string, headers: Record<string, string>): Promise<SseClient> {
    const client = new SseClient();
    const response = await fetch(url, { headers, signal: client.abort.signal });
    client.status = response.status;
    client.contentType = response.headers.get('content-type') ?? '';
    if (!response.ok || !response.body) {
      client.ended = true;
      (client as { body?: unknown }).body = await response.json().catch(() => undefined);
      return client;
    }
    client.done = client.read(response.body);
    return client;
  }

  /** The problem+json answer when the feed was refused. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON answers
  body?: any;

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    let current: { id?: string; event?: string; data: string[] } = { data: [] };
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true });
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline).replace(/\r$/, '');
          buffer = buffer.slice(newline + 1);
          if (line === '') {
            if (current.data.length > 0) {
              this.events.push({
                ...(current.id !== undefined ? { id: current.id } : {}),
                event: current.event ?? 'message',
                data: JSON.parse(current.data.join('\n')),
              });
            }
            current = { data: [] };
          } else if (line.startsWith(':')) {
            this.comments.push(line.slice(1).trim());
          } else {
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'data') current.data.push(value);
            else if (field === 'id') current.id = value;
            else if (field === 'event') current.event = value;
          }
        }
      }
    } catch {
      // aborted by close(), or the connection was cut
    } finally {
      this.ended = true;
    }
  }

  /** The facts received (events with an id), as their seq numbers. */
  seqs(): number[] {
    return this.events.filter((e) => e.id !== undefined).map((e) => Number(e.id));
  }

  lastEventId(): string | undefined {
    return this.events.filter((e) => e.id !== undefined).at(-1)?.id;
  }

  waitForEvent(what: string, match: (e: SseEvent) => boolean, timeoutMs = 10_000): Promise<SseEvent> {
    return waitFor(`the live feed to carry ${what}`, () => this.events.find(match), timeoutMs);
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.done;
  }
}
