/** My account: the profile (name, e-mail), the password, and deleting the account. */
import { useState, type FormEvent } from 'react';
import { api, call, type Profile } from '../api/client';
import { session } from '../api/session';
import { navigate } from '../router';
import { Field, formatTime, Notice, Page, ProblemAlert, useLoad, useSubmit } from '../ui';

export function AccountPage() {
  const profile = useLoad(() => call(api.GET('/api/v1/me')), []);
  return (
    <Page title="My account">
      <ProblemAlert error={profile.error} />
      {profile.data && <AccountForms profile={profile.data} reload={profile.reload} />}
    </Page>
  );
}

function AccountForms({ profile: current, reload }: { profile: Profile; reload: () => Promise<void> }) {
  const [displayName, setDisplayName] = useState(current.displayName);
  const [email, setEmail] = useState(current.email);
  const [saved, setSaved] = useState<string | null>(null);

  const save = useSubmit(async () => {
    const body: { displayName?: string; email?: string } = {};
    if (displayName !== current.displayName) body.displayName = displayName;
    if (email !== current.email) body.email = email;
    if (Object.keys(body).length === 0) return setSaved('Nothing to change.');
    await call(api.PATCH('/api/v1/me', { body }));
    setSaved(body.email ? `Saved. We sent a confirmation mail to ${body.email}.` : 'Saved.');
    await reload();
  });

  const [currentPassword, setCurrentPassword] = useState('');
  const [newPassword, setNewPassword] = useState('');
  const [passwordChanged, setPasswordChanged] = useState(false);
  const password = useSubmit(async () => {
    await call(api.POST('/api/v1/me/password', { body: { currentPassword, newPassword } }));
    setCurrentPassword('');
    setNewPassword('');
    setPasswordChanged(true);
  });

  const remove = useSubmit(async () => {
    if (!window.confirm('Delete your Parley account? This cannot be undone.')) return;
    await call(api.DELETE('/api/v1/me'));
    session.end();
    navigate('/register', { replace: true });
  });

  const submitWith = (action: () => Promise<void>) => (event: FormEvent) => {
    event.preventDefault();
    void action();
  };

  return (
    <>
      <h2>Profile</h2>
      <dl className="facts">
        <dt>E-mail confirmed</dt>
        <dd>{current.emailConfirmed ? 'yes' : 'no'}</dd>
        {current.pendingEmail && (
          <>
            <dt>Waiting for confirmation</dt>
            <dd>{current.pendingEmail}</dd>
          </>
        )}
        <dt>Registered</dt>
        <dd>{formatTime(current.createdAt)}</dd>
      </dl>
      <form onSubmit={submitWith(save.submit)} noValidate>
        <ProblemAlert error={save.error} />
        {saved && <Notice>{saved}</Notice>}
        <Field
          label="Display name"
          name="displayName"
          value={displayName}
          onChange={(e) => setDisplayName(e.target.value)}
          error={save.error}
        />
        <Field
          label="E-mail"
          name="email"
          type="email"
          hint="A new address is used once you confirm it from the mail we send there."
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={save.error}
        />
        <button type="submit" disabled={save.busy}>
          Save profile
        </button>
      </form>

      <h2>Password</h2>
      <form onSubmit={submitWith(password.submit)} noValidate>
        <ProblemAlert error={password.error} />
        {passwordChanged && <Notice>Your password was changed.</Notice>}
        <Field
          label="Current password"
          name="currentPassword"
          type="password"
          autoComplete="current-password"
          value={currentPassword}
          onChange={(e) => setCurrentPassword(e.target.value)}
          error={password.error}
        />
        <Field
          label="New password"
          name="newPassword"
          type="password"
          autoComplete="new-password"
          hint="At least 10 characters."
          value={newPassword}
          onChange={(e) => setNewPassword(e.target.value)}
          error={password.error}
        />
        <button type="submit" disabled={password.busy}>
          Change password
        </button>
      </form>

      <h2>Delete the account</h2>
      <p>Deletes your account and stored IM accounts. You will be asked to confirm.</p>
      <ProblemAlert error={remove.error} />
      <button type="button" className="danger" onClick={() => void remove.submit()} disabled={remove.busy}>
        Delete my account
      </button>
    </>
  );
}
