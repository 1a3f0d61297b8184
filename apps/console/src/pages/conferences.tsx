/** My conferences: the list, and creating one (a draft: invite people, then start it). */
import { useState, type FormEvent } from 'react';
import { api, call, type ImAccount } from '../api/client';
import { Link, navigate } from '../router';
import { Field, formatTime, Page, ProblemAlert, Select, TextArea, useLoad, useSubmit } from '../ui';

export const JOIN_POLICIES = [
  ['invite-only', 'Invite only'],
  ['owner-contacts', 'My contacts may join by themselves'],
  ['open', 'Open: anyone may join'],
] as const;

export interface ConferenceSettings {
  name: string;
  subject: string;
  /** As typed, in hours; sent as ttlSeconds. */
  ttlHours: string;
  joinPolicy: string;
  ownerImAccountId: string;
}

/** The fields a conference is created and edited with. */
export function ConferenceFields({
  value,
  onChange,
  error,
  imAccounts,
}: {
  value: ConferenceSettings;
  onChange: (next: ConferenceSettings) => void;
  error: unknown;
  imAccounts: ImAccount[];
}) {
  const set = (field: keyof ConferenceSettings) => (e: { target: { value: string } }) =>
    onChange({ ...value, [field]: e.target.value });
  return (
    <>
      <Field label="Name" name="name" required value={value.name} onChange={set('name')} error={error} />
      <TextArea
        label="Subject"
        name="subject"
        rows={2}
        value={value.subject}
        onChange={set('subject')}
        error={error}
      />
      <Field
        label="Time-to-live (hours)"
        name="ttlSeconds"
        type="number"
        inputMode="decimal"
        min="0.0167"
        step="any"
        hint="How long the conference lives on with no active participant: from 1 minute to 1 year (8760 hours)."
        value={value.ttlHours}
        onChange={set('ttlHours')}
        error={error}
      />
      <Select
        label="Who may join"
        name="joinPolicy"
        value={value.joinPolicy}
        onChange={set('joinPolicy')}
        error={error}
      >
        {JOIN_POLICIES.map(([policy, label]) => (
          <option key={policy} value={policy}>
            {label}
          </option>
        ))}
      </Select>
      <Select
        label="I take part as"
        name="ownerImAccountId"
        value={value.ownerImAccountId}
        onChange={set('ownerImAccountId')}
        error={error}
      >
        <option value="">Nobody: I do not take part</option>
        {imAccounts.map((a) => (
          <option key={a.id} value={a.id}>
            {a.address} ({a.network})
          </option>
        ))}
      </Select>
    </>
  );
}

/** ttlHours as seconds; NaN (sent as is) lets the API say what is wrong with it. */
export function ttlSecondsOf(hours: string): number | undefined {
  if (hours.trim() === '') return undefined;
  return Math.round(Number(hours) * 3600);
}

export function ConferencesPage() {
  const conferences = useLoad(() => call(api.GET('/api/v1/conferences')), []);
  const imAccounts = useLoad(() => call(api.GET('/api/v1/im-accounts')), []);
  const [settings, setSettings] = useState<ConferenceSettings>({
    name: '',
    subject: '',
    ttlHours: '168',
    joinPolicy: 'invite-only',
    ownerImAccountId: '',
  });
  const create = useSubmit(async () => {
    const ttlSeconds = ttlSecondsOf(settings.ttlHours);
    const created = await call(
      api.POST('/api/v1/conferences', {
        body: {
          name: settings.name,
          subject: settings.subject,
          ...(ttlSeconds !== undefined ? { ttlSeconds } : {}),
          joinPolicy: settings.joinPolicy as 'invite-only',
          ownerImAccountId: settings.ownerImAccountId || null,
        },
      }),
    );
    navigate(`/conferences/${created.id}`);
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void create.submit();
  };
  return (
    <Page title="Conferences">
      <ProblemAlert error={conferences.error} />
      {conferences.data && conferences.data.items.length === 0 && (
        <p>No conferences yet: create one below.</p>
      )}
      {conferences.data && conferences.data.items.length > 0 && (
        <div className="table-wrap">
          <table>
            <caption>My conferences</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">State</th>
                <th scope="col">Participants</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {conferences.data.items.map((c) => (
                <tr key={c.id}>
                  <td>
                    <Link to={`/conferences/${c.id}`}>{c.name}</Link>
                  </td>
                  <td>
                    <span className={`badge ${c.state}`}>{c.state}</span>
                  </td>
                  <td>{c.participantCount}</td>
                  <td>{formatTime(c.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2>Create a conference</h2>
      <form onSubmit={onSubmit} noValidate>
        <ProblemAlert error={create.error} />
        <ConferenceFields
          value={settings}
          onChange={setSettings}
          error={create.error}
          imAccounts={imAccounts.data?.items ?? []}
        />
        <button type="submit" disabled={create.busy}>
          Create conference
        </button>
      </form>
    </Page>
  );
}
