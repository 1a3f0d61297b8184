/**
 * One conference: its settings, lifecycle (start, close), invitations by address, the participant
 * list (state, presence, messages, who invited whom) and the live feed.
 */
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import {
  api,
  call,
  type AddParticipantsResult,
  type Conference,
  type LiveFeedEvent,
  type Participant,
} from '../api/client';
import { followConference, type FeedStatus } from '../live-feed';
import { Link } from '../router';
import { Notice, Page, ProblemAlert, Select, TextArea, useLoad, useSubmit, formatTime } from '../ui';
import { ConferenceFields, ttlSecondsOf, type ConferenceSettings } from './conferences';

export function ConferencePage({ id }: { id: string }) {
  const conference = useLoad(
    () => call(api.GET('/api/v1/conferences/{id}', { params: { path: { id } } })),
    [id],
  );
  const participants = useLoad(
    () => call(api.GET('/api/v1/conferences/{id}/participants', { params: { path: { id } } })),
    [id],
  );
  const c = conference.data;
  return (
    <Page title={c ? c.name : 'Conference'}>
      <ProblemAlert error={conference.error} />
      {c && (
        <>
          <Overview conference={c} onChange={conference.reload} />
          <p>
            <Link to={`/conferences/${id}/archive`}>Read, search and export the archive</Link>
          </p>
          <Invite conference={c} onInvited={participants.reload} />
          <Participants
            conference={c}
            items={participants.data?.items ?? []}
            error={participants.error}
            reload={participants.reload}
          />
          <LiveFeed
            conferenceId={id}
            onFact={participants.reload}
            participants={participants.data?.items ?? []}
          />
          <Settings conference={c} onSaved={conference.reload} />
        </>
      )}
    </Page>
  );
}

function Overview({ conference: c, onChange }: { conference: Conference; onChange: () => Promise<void> }) {
  const lifecycle = useSubmit(async (action: 'start' | 'close') => {
    if (action === 'close' && !window.confirm(`Close “${c.name}”? The bots say goodbye; the archive stays.`))
      return;
    const path = action === 'start' ? '/api/v1/conferences/{id}/start' : '/api/v1/conferences/{id}/close';
    await call(api.POST(path, { params: { path: { id: c.id } } }));
    await onChange();
  });
  return (
    <>
      <dl className="facts">
        <dt>State</dt>
        <dd>
          <span className={`badge ${c.state}`} data-testid="conference-state">
            {c.state}
          </span>
        </dd>
        <dt>Subject</dt>
        <dd>{c.subject || '—'}</dd>
        <dt>Bot</dt>
        <dd>
          {c.botName} · id <code>{c.id}</code>
        </dd>
        <dt>Started</dt>
        <dd>{formatTime(c.startedAt)}</dd>
        {c.terminatedAt && (
          <>
            <dt>Ended</dt>
            <dd>{formatTime(c.terminatedAt)}</dd>
          </>
        )}
      </dl>
      <ProblemAlert error={lifecycle.error} />
      <div className="actions">
        {c.state === 'draft' && (
          <button type="button" onClick={() => void lifecycle.submit('start')} disabled={lifecycle.busy}>
            Start the conference
          </button>
        )}
        {c.state !== 'terminated' && (
          <button
            type="button"
            className="danger"
            onClick={() => void lifecycle.submit('close')}
            disabled={lifecycle.busy}
          >
            Close the conference
          </button>
        )}
      </div>
    </>
  );
}

function Settings({ conference: c, onSaved }: { conference: Conference; onSaved: () => Promise<void> }) {
  const imAccounts = useLoad(() => call(api.GET('/api/v1/im-accounts')), []);
  const initial = useCallback(
    (): ConferenceSettings => ({
      name: c.name,
      subject: c.subject,
      ttlHours: String(c.ttlSeconds / 3600),
      joinPolicy: c.joinPolicy,
      ownerImAccountId: c.ownerImAccountId ?? '',
    }),
    [c],
  );
  const [settings, setSettings] = useState(initial);
  const [saved, setSaved] = useState(false);
  const save = useSubmit(async () => {
    setSaved(false);
    const ttlSeconds = ttlSecondsOf(settings.ttlHours);
    await call(
      api.PATCH('/api/v1/conferences/{id}', {
        params: { path: { id: c.id } },
        body: {
          name: settings.name,
          subject: settings.subject,
          ...(ttlSeconds !== undefined ? { ttlSeconds } : {}),
          joinPolicy: settings.joinPolicy as 'invite-only',
          ownerImAccountId: settings.ownerImAccountId || null,
        },
      }),
    );
    setSaved(true);
    await onSaved();
  });
  if (c.state === 'terminated') return null;
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void save.submit();
  };
  return (
    <>
      <h2>Settings</h2>
      <form onSubmit={onSubmit} noValidate>
        <ProblemAlert error={save.error} />
        {saved && <Notice>Saved.</Notice>}
        <ConferenceFields
          value={settings}
          onChange={setSettings}
          error={save.error}
          imAccounts={imAccounts.data?.items ?? []}
        />
        <button type="submit" disabled={save.busy}>
          Save settings
        </button>
      </form>
    </>
  );
}

function Invite({ conference: c, onInvited }: { conference: Conference; onInvited: () => Promise<void> }) {
  const [network, setNetwork] = useState('xmpp');
  const [addresses, setAddresses] = useState('');
  const [result, setResult] = useState<AddParticipantsResult | null>(null);
  const invite = useSubmit(async () => {
    setResult(null);
    const lines = addresses
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    if (lines.length === 0) throw new Error('Type at least one address, one per line.');
    const answer = await call(
      api.POST('/api/v1/conferences/{id}/participants', {
        params: { path: { id: c.id } },
        body: { participants: lines.map((address) => ({ network, address })) },
      }),
    );
    setResult(answer);
    // The valid ones are invited; what stays in the box is what needs fixing.
    setAddresses(answer.errors.map((e) => e.address).join('\n'));
    await onInvited();
  });
  if (c.state === 'terminated') return null;
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void invite.submit();
  };
  return (
    <>
      <h2>Invite people</h2>
      <form onSubmit={onSubmit} noValidate>
        <ProblemAlert error={invite.error} />
        {result && (
          <div role="status" className="invite-result">
            {result.added.length > 0 && (
              <p>
                Invited {result.added.map((p) => p.address).join(', ')}
                {c.state === 'active' ? ': they get the bot’s contact request now.' : '.'}
              </p>
            )}
            {result.errors.length > 0 && (
              <>
                <p>
                  {result.errors.length === 1 ? 'One address was' : `${result.errors.length} addresses were`}{' '}
                  not invited:
                </p>
                <ul className="rejected">
                  {result.errors.map((e) => (
                    <li key={e.index}>
                      <strong>{e.address}</strong> ({e.network}): {e.message}
                    </li>
                  ))}
                </ul>
              </>
            )}
          </div>
        )}
        <Select label="Network" name="network" value={network} onChange={(e) => setNetwork(e.target.value)}>
          <option value="xmpp">XMPP</option>
          <option value="irc">IRC</option>
        </Select>
        <TextArea
          label="Addresses"
          name="participants"
          rows={4}
          hint="One per line, e.g. alice@example.org (XMPP) or a nick (IRC)."
          value={addresses}
          onChange={(e) => setAddresses(e.target.value)}
          error={invite.error}
        />
        <button type="submit" disabled={invite.busy}>
          Invite
        </button>
      </form>
      <p className="hint">Inviting from your saved contacts comes with contact import.</p>
    </>
  );
}

interface TreeNode {
  participant: Participant;
  children: TreeNode[];
}

/** Who invited whom: the owner's invitees at the top, each with those they invited below. */
function inviteTree(items: Participant[]): TreeNode[] {
  const nodes = new Map(items.map((p) => [p.id, { participant: p, children: [] as TreeNode[] }]));
  const roots: TreeNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.participant.invitedBy?.participantId;
    const parentNode = parent ? nodes.get(parent) : undefined;
    if (parentNode) parentNode.children.push(node);
    else roots.push(node);
  }
  return roots;
}

function Tree({ nodes }: { nodes: TreeNode[] }) {
  return (
    <ul>
      {nodes.map((n) => (
        <li key={n.participant.id}>
          {n.participant.displayName} ({n.participant.network})
          {!n.participant.invitedBy?.participantId && n.participant.invitedBy && (
            <> — invited by {n.participant.invitedBy.displayName}, no longer listed</>
          )}
          {n.children.length > 0 && <Tree nodes={n.children} />}
        </li>
      ))}
    </ul>
  );
}

function Participants({
  conference: c,
  items,
  error,
  reload,
}: {
  conference: Conference;
  items: Participant[];
  error: unknown;
  reload: () => Promise<void>;
}) {
  const remove = useSubmit(async (p: Participant) => {
    if (!window.confirm(`Remove ${p.displayName} (${p.address}) from “${c.name}”?`)) return;
    await call(
      api.DELETE('/api/v1/conferences/{id}/participants/{participantId}', {
        params: { path: { id: c.id, participantId: p.id } },
      }),
    );
    await reload();
  });
  const [cleaned, setCleaned] = useState<string | null>(null);
  const clean = useSubmit(async () => {
    const answer = await call(
      api.POST('/api/v1/conferences/{id}/participants/clean', { params: { path: { id: c.id } } }),
    );
    setCleaned(
      answer.removed === 1
        ? 'One person was dropped from the list.'
        : `${answer.removed} people were dropped from the list.`,
    );
    await reload();
  });
  const gone = items.filter((p) => p.state === 'left' || p.state === 'removed').length;
  return (
    <>
      <h2>Participants</h2>
      <ProblemAlert error={error ?? remove.error ?? clean.error} />
      {cleaned && <Notice>{cleaned}</Notice>}
      {items.length === 0 ? (
        <p>Nobody is invited yet.</p>
      ) : (
        <div className="table-wrap">
          <table data-testid="participants">
            <caption>Participants of {c.name}</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Address</th>
                <th scope="col">State</th>
                <th scope="col">Presence</th>
                <th scope="col">Messages</th>
                <th scope="col">Invited by</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((p) => (
                <tr key={p.id} data-address={p.address}>
                  <td>{p.displayName}</td>
                  <td>
                    {p.address} <small>({p.network})</small>
                  </td>
                  <td data-testid="participant-state">{p.state}</td>
                  <td>{p.presence ?? 'unknown'}</td>
                  <td>{p.messageCount}</td>
                  <td>{p.invitedBy ? p.invitedBy.displayName : 'me'}</td>
                  <td>
                    {p.state !== 'removed' && c.state !== 'terminated' && (
                      <button type="button" className="danger" onClick={() => void remove.submit(p)}>
                        Remove <span className="visually-hidden">{p.address}</span>
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {gone > 0 && (
        <button type="button" onClick={() => void clean.submit()} disabled={clean.busy}>
          Clean: drop the {gone} who left or were removed from the list
        </button>
      )}
      {items.some((p) => p.invitedBy) && (
        <>
          <h3>Who invited whom</h3>
          <div className="tree">
            <Tree nodes={inviteTree(items)} />
          </div>
        </>
      )}
    </>
  );
}

function who(p: { displayName: string; network: string }): string {
  return `${p.displayName} (${p.network})`;
}

/** One line per fact, as an owner reads it; `names` turns a presence change's address into a name. */
export function describeEvent(e: LiveFeedEvent, names?: Map<string, string>): string {
  switch (e.type) {
    case 'message-accepted':
      return `${who(e.sender)}: ${e.body}`;
    case 'participant-invited':
      return e.invitedBy
        ? `${who(e.participant)} was invited by ${who(e.invitedBy)}`
        : `${who(e.participant)} was invited`;
    case 'participant-authorized':
      return `${who(e.participant)} accepted the bot`;
    case 'participant-joined':
      return `${who(e.participant)} joined`;
    case 'participant-left':
      return `${who(e.participant)} left`;
    case 'participant-paused':
      return `${who(e.participant)} paused`;
    case 'participant-resumed':
      return `${who(e.participant)} resumed`;
    case 'participant-removed':
      return `${who(e.participant)} was removed`;
    case 'conference-started':
      return `The conference started: ${e.name}${e.subject ? ` — ${e.subject}` : ''}`;
    case 'conference-terminated':
      return e.reason === 'closed'
        ? 'The conference was closed'
        : 'The conference ended: its time-to-live ran out';
    case 'presence': {
      const name = names?.get(`${e.network}:${e.address.toLowerCase()}`) ?? e.address;
      return `${name} (${e.network}) is ${e.presence}${e.status ? `: ${e.status}` : ''}`;
    }
    default:
      return (e as { type: string }).type;
  }
}

const SHOWN = 500;
const STATUS_TEXT: Record<FeedStatus, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Connection lost; reconnecting…',
  stopped: 'Stopped',
};

function LiveFeed({
  conferenceId,
  onFact,
  participants,
}: {
  conferenceId: string;
  onFact: () => Promise<void>;
  participants: Participant[];
}) {
  const names = new Map(participants.map((p) => [`${p.network}:${p.address.toLowerCase()}`, p.displayName]));
  const [events, setEvents] = useState<LiveFeedEvent[]>([]);
  const [status, setStatus] = useState<FeedStatus>('connecting');
  const [problem, setProblem] = useState<unknown>(null);
  const refresh = useRef(onFact);
  useEffect(() => {
    refresh.current = onFact;
  });
  // The page is keyed by conference, so a new conference starts with an empty feed.
  useEffect(() => {
    let pending: ReturnType<typeof setTimeout> | undefined;
    const stop = followConference(conferenceId, {
      onEvent(event) {
        setEvents((list) => [...list, event].slice(-SHOWN));
        // Participant states, presence and counts change with the facts: refresh the list, at most every 500 ms.
        pending ??= setTimeout(() => {
          pending = undefined;
          void refresh.current();
        }, 500);
      },
      onStatus(next, error) {
        setStatus(next);
        setProblem(error ?? null);
      },
    });
    return () => {
      stop();
      clearTimeout(pending);
    };
  }, [conferenceId]);
  return (
    <>
      <h2>Live feed</h2>
      <p className={`feed-status ${status}`} data-testid="feed-status" role="status">
        {STATUS_TEXT[status]}
      </p>
      <ProblemAlert error={problem} />
      {events.length === 0 ? (
        <p>Nothing has happened yet.</p>
      ) : (
        <ol className="feed" role="log" aria-live="polite" aria-label="Live feed" data-testid="live-feed">
          {events.map((e, i) => (
            <li
              key={'seq' in e ? `s${e.seq}` : `p${i}`}
              data-seq={'seq' in e ? e.seq : undefined}
              data-type={e.type}
            >
              <time dateTime={e.occurredAt}>{new Date(e.occurredAt).toLocaleTimeString()}</time>{' '}
              <span>{describeEvent(e, names)}</span>
            </li>
          ))}
        </ol>
      )}
    </>
  );
}
