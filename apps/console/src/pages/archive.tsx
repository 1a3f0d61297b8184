/** A conference's archive: read it by time window, search it, and export it whole (NDJSON). */
import { useState, type FormEvent } from 'react';
import { api, call, type ArchivedEvent } from '../api/client';
import { Link } from '../router';
import { Field, Page, ProblemAlert, useLoad, useSubmit } from '../ui';
import { describeEvent } from './conference';

interface Query {
  since: string;
  until: string;
  q: string;
}

/** A datetime-local value (the owner's local time) as an ISO instant, or undefined when empty. */
function instant(local: string): string | undefined {
  if (!local) return undefined;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? local : date.toISOString();
}

export function ArchivePage({ id }: { id: string }) {
  const conference = useLoad(
    () => call(api.GET('/api/v1/conferences/{id}', { params: { path: { id } } })),
    [id],
  );
  const [form, setForm] = useState<Query>({ since: '', until: '', q: '' });
  const [shown, setShown] = useState<{
    events: ArchivedEvent[];
    nextCursor: string | null;
    query: Query;
  } | null>(null);
  const read = useSubmit(async (query: Query, cursor?: string) => {
    const page = await call(
      api.GET('/api/v1/conferences/{id}/history', {
        params: {
          path: { id },
          query: {
            since: instant(query.since),
            until: instant(query.until),
            q: query.q.trim() || undefined,
            limit: 100,
            cursor,
          },
        },
      }),
    );
    setShown((previous) => ({
      events: cursor && previous ? [...previous.events, ...page.events] : page.events,
      nextCursor: page.nextCursor,
      query,
    }));
  });
  const exporting = useSubmit(async () => {
    const blob = await call(
      api.GET('/api/v1/conferences/{id}/history/export', { params: { path: { id } }, parseAs: 'blob' }),
    );
    const url = URL.createObjectURL(blob as Blob);
    const link = document.createElement('a');
    link.href = url;
    link.download = `${id}-archive.ndjson`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void read.submit(form);
  };
  const set = (field: keyof Query) => (e: { target: { value: string } }) =>
    setForm({ ...form, [field]: e.target.value });
  const name = conference.data?.name ?? id;
  return (
    <Page title={`Archive of ${name}`}>
      <p>
        <Link to={`/conferences/${id}`}>Back to the conference</Link>
      </p>
      <ProblemAlert error={conference.error} />
      <form onSubmit={onSubmit} noValidate className="archive-query">
        <ProblemAlert error={read.error} />
        <Field
          label="From"
          name="since"
          type="datetime-local"
          value={form.since}
          onChange={set('since')}
          error={read.error}
        />
        <Field
          label="Until"
          name="until"
          type="datetime-local"
          value={form.until}
          onChange={set('until')}
          error={read.error}
        />
        <Field
          label="Search words"
          name="q"
          type="search"
          hint="Only messages whose words match; leave empty to read everything in the window."
          value={form.q}
          onChange={set('q')}
          error={read.error}
        />
        <button type="submit" disabled={read.busy}>
          {form.q.trim() ? 'Search' : 'Read'}
        </button>
      </form>
      {shown && (
        <>
          <h2>{shown.query.q.trim() ? `Messages matching “${shown.query.q.trim()}”` : 'Events'}</h2>
          {shown.events.length === 0 ? (
            <p role="status">Nothing found.</p>
          ) : (
            <ol className="feed" data-testid="archive-results">
              {shown.events.map((e) => (
                <li key={e.seq} data-seq={e.seq}>
                  <time dateTime={e.occurredAt}>{new Date(e.occurredAt).toLocaleString()}</time>{' '}
                  <span>{describeEvent(e)}</span>
                </li>
              ))}
            </ol>
          )}
          {shown.nextCursor && (
            <button
              type="button"
              onClick={() => void read.submit(shown.query, shown.nextCursor ?? undefined)}
              disabled={read.busy}
            >
              Load more
            </button>
          )}
        </>
      )}
      <h2>Export</h2>
      <p>The whole archive as NDJSON: one event per line, in order.</p>
      <ProblemAlert error={exporting.error} />
      <button type="button" onClick={() => void exporting.submit()} disabled={exporting.busy}>
        {exporting.busy ? 'Exporting…' : 'Export the archive'}
      </button>
    </Page>
  );
}
