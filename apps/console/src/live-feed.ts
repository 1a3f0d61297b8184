/**
 * Follows a conference's live feed (GET …/events, server-sent events) through the generated client:
 * the response body is read as a stream and parsed as SSE. Fetch rather than EventSource, because
 * EventSource cannot send the bearer token. When the connection drops it reconnects after the
 * server's `retry:` delay with `Last-Event-ID`, so the server resumes after the last fact shown.
 */
import { api, ApiError, type LiveFeedEvent } from './api/client';

export type FeedStatus = 'connecting' | 'live' | 'reconnecting' | 'stopped';

export interface FeedHandlers {
  onEvent(event: LiveFeedEvent): void;
  onStatus(status: FeedStatus, problem?: ApiError): void;
}

/** Starts following; returns a function that stops. `after` = '0' shows every fact the bus still holds. */
export function followConference(conferenceId: string, handlers: FeedHandlers, after = '0'): () => void {
  const abort = new AbortController();
  let lastEventId = after;
  let retryMs = 2_000;

  const readStream = async (body: ReadableStream<Uint8Array>) => {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    let id: string | undefined;
    let data: string[] = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline).replace(/\r$/, '');
        buffer = buffer.slice(newline + 1);
        if (line === '') {
          if (data.length > 0) {
            if (id !== undefined) lastEventId = id;
            handlers.onEvent(JSON.parse(data.join('\n')) as LiveFeedEvent);
          }
          id = undefined;
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'data') data.push(text);
        else if (field === 'id') id = text;
        else if (field === 'retry' && /^\d+$/.test(text)) retryMs = Number(text);
      }
    }
  };

  const run = async () => {
    let first = true;
    while (!abort.signal.aborted) {
      handlers.onStatus(first ? 'connecting' : 'reconnecting');
      try {
        const { response, error } = await api.GET('/api/v1/conferences/{id}/events', {
          params: { path: { id: conferenceId }, header: { 'Last-Event-ID': lastEventId } },
          parseAs: 'stream',
          signal: abort.signal,
        });
        if (!response.ok || !response.body) {
          const problem = new ApiError(
            (error as ApiError['problem'] | undefined) ?? {
              type: 'about:blank',
              title: 'The live feed is unavailable',
              status: response.status,
              detail: `The server answered ${response.status}.`,
              instance: '',
            },
          );
          // Not mine, gone, or logged out: retrying will not help.
          if (response.status === 401 || response.status === 404) {
            handlers.onStatus('stopped', problem);
            return;
          }
        } else {
          handlers.onStatus('live');
          await readStream(response.body);
        }
      } catch {
        // The connection was cut (or we stopped): reconnect below unless stopped.
      }
      first = false;
      if (abort.signal.aborted) break;
      handlers.onStatus('reconnecting');
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
    handlers.onStatus('stopped');
  };
  void run();
  return () => abort.abort();
}
