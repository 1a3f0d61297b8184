/** Register, confirm the e-mail from the mail's link, log in: the owner's way in, in the product's order. */
import { useState, type FormEvent } from 'react';
import { api, call } from '../api/client';
import { session } from '../api/session';
import { Link, navigate } from '../router';
import { Field, Notice, Page, ProblemAlert, useSubmit } from '../ui';

export function RegisterPage() {
  const [email, setEmail] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [password, setPassword] = useState('');
  const [sentTo, setSentTo] = useState<string | null>(null);
  const { busy, error, submit } = useSubmit(async () => {
    const profile = await call(api.POST('/api/v1/auth/register', { body: { email, displayName, password } }));
    setSentTo(profile.email);
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void submit();
  };
  if (sentTo) {
    return (
      <Page title="Check your mail">
        <Notice>
          We sent a confirmation mail to <strong>{sentTo}</strong>. Open the link in it to confirm your
          address, then log in.
        </Notice>
        <p>
          <Link to="/login">Go to the login page</Link>
        </p>
      </Page>
    );
  }
  return (
    <Page title="Register">
      <p>Create an owner account to set up conferences. We send a mail to confirm your address.</p>
      <form onSubmit={onSubmit} noValidate>
        <ProblemAlert error={error} />
        <Field
          label="E-mail"
          name="email"
          type="email"
          autoComplete="email"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={error}
        />
        <Field
          label="Display name"
          name="displayName"
          autoComplete="name"
          required
          value={displayName}
          onChange={(e) => setDisplayName(e.target.value)}
          error={error}
        />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          hint="At least 10 characters."
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={error}
        />
        <button type="submit" disabled={busy}>
          {busy ? 'Registering…' : 'Register'}
        </button>
      </form>
      <p>
        Already registered? <Link to="/login">Log in</Link>.
      </p>
    </Page>
  );
}

/**
 * Opened from the confirmation mail (`/confirm?token=…`). Confirming takes a click rather than
 * happening on load, so a mail scanner that fetches links does not use up the token.
 */
export function ConfirmPage({ token }: { token: string }) {
  const [confirmed, setConfirmed] = useState<string | null>(null);
  const { busy, error, submit } = useSubmit(async () => {
    const profile = await call(api.POST('/api/v1/auth/confirm', { body: { token } }));
    setConfirmed(profile.email);
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void submit();
  };
  return (
    <Page title="Confirm your e-mail">
      {confirmed ? (
        <>
          <Notice>
            <strong>{confirmed}</strong> is confirmed.
          </Notice>
          <p>
            <Link to="/login">Log in</Link>
          </p>
        </>
      ) : !token ? (
        <ProblemAlert
          error={new Error('This page needs the link from your confirmation mail; the token is missing.')}
        />
      ) : (
        <form onSubmit={onSubmit}>
          <ProblemAlert error={error} />
          <p>Confirm the e-mail address of your Parley account.</p>
          <button type="submit" disabled={busy}>
            {busy ? 'Confirming…' : 'Confirm my e-mail'}
          </button>
        </form>
      )}
    </Page>
  );
}

export function LoginPage({ notice }: { notice?: string }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { busy, error, submit } = useSubmit(async () => {
    const login = await call(api.POST('/api/v1/auth/login', { body: { email, password } }));
    session.start(login.accessToken, login.expiresIn);
    navigate('/conferences');
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void submit();
  };
  return (
    <Page title="Log in">
      {notice && <Notice>{notice}</Notice>}
      <form onSubmit={onSubmit} noValidate>
        <ProblemAlert error={error} />
        <Field
          label="E-mail"
          name="email"
          type="email"
          autoComplete="username"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={error}
        />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={error}
        />
        <button type="submit" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
      <p>
        New here? <Link to="/register">Register</Link>.
      </p>
    </Page>
  );
}
