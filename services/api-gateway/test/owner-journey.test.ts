/**
 * The owner's side of issue 3 through HTTP against the real services: register → mail → confirm →
 * login → me → update → change password → delete; the ways in that must stay shut; owner scoping.
 */
import { SignJWT } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_TOKEN_CLAIMS } from '@parley/contracts';
import { testEnv, testSchema, TestMailbox } from '@parley/testing';
import { createOwner, newEmail, startStack, type Stack } from './support/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.close();
});

/** Registers and returns the token from the confirmation mail. */
async function register(email: string, password = 'correct horse battery', displayName = 'Ada') {
  const seen = stack.mailbox.mails.length;
  const answer = await stack.request('POST', '/api/v1/auth/register', {
    body: { email, password, displayName },
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  const mail = await stack.mailbox.mailTo(email, seen);
  return { answer, mail, token: TestMailbox.tokenIn(mail) };
}

describe('the owner journey', () => {
  it('registers, confirms from the mail, logs in, reads and edits the account, changes the password, deletes it', async () => {
    const email = newEmail('ada');
    const { answer, mail, token } = await register(email, 'correct horse battery', 'Ada Lovelace');
    expect(answer.body).toMatchObject({
      email,
      displayName: 'Ada Lovelace',
      emailConfirmed: false,
      pendingEmail: null,
    });
    expect(answer.body).not.toHaveProperty('password');
    expect(answer.body).not.toHaveProperty('passwordHash');
    expect(mail.subject).toBe('Confirm your Parley account');
    expect(mail.headers.get('from')).toContain('no-reply@parley.test');
    expect(mail.text).toContain('Hello Ada Lovelace');
    // The mail links to the console's confirmation page (PARLEY_PUBLIC_URL, default http://localhost:8080).
    expect(mail.text).toContain(`http://localhost:8080/confirm?token=${token}`);

    const confirmed = await stack.request('POST', '/api/v1/auth/confirm', { body: { token } });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toMatchObject({ id: answer.body.id, emailConfirmed: true });

    const login = await stack.request('POST', '/api/v1/auth/login', {
      body: { email: email.toUpperCase(), password: 'correct horse battery' },
    });
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
    const accessToken: string = login.body.accessToken;

    const me = await stack.request('GET', '/api/v1/me', { token: accessToken });
    expect(me.status).toBe(200);
    expect(me.body).toEqual({
      id: answer.body.id,
      email,
      displayName: 'Ada Lovelace',
      emailConfirmed: true,
      pendingEmail: null,
      createdAt: expect.any(String),
    });

    const renamed = await stack.request('PATCH', '/api/v1/me', {
      token: accessToken,
      body: { displayName: 'Ada K.' },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body.displayName).toBe('Ada K.');
    expect((await stack.request('GET', '/api/v1/me', { token: accessToken })).body.displayName).toBe(
      'Ada K.',
    );

    const wrongCurrent = await stack.request('POST', '/api/v1/me/password', {
      token: accessToken,
      body: { currentPassword: 'not the password', newPassword: 'a brand new password' },
    });
    expect(wrongCurrent.status).toBe(403);
    expect(wrongCurrent.body).toMatchObject({
      type: 'urn:parley:problem:forbidden',
      field: 'currentPassword',
    });

    const changed = await stack.request('POST', '/api/v1/me/password', {
      token: accessToken,
      body: { currentPassword: 'correct horse battery', newPassword: 'a brand new password' },
    });
    expect(changed.status).toBe(204);
    const oldLogin = await stack.request('POST', '/api/v1/auth/login', {
      body: { email, password: 'correct horse battery' },
    });
    expect(oldLogin.status).toBe(401);
    const newLogin = await stack.request('POST', '/api/v1/auth/login', {
      body: { email, password: 'a brand new password' },
    });
    expect(newLogin.status).toBe(200);

    const deleted = await stack.request('DELETE', '/api/v1/me', { token: newLogin.body.accessToken });
    expect(deleted.status).toBe(204);
    const afterDelete = await stack.request('GET', '/api/v1/me', { token: newLogin.body.accessToken });
    expect(afterDelete.status).toBe(404);
    expect(afterDelete.headers.get('content-type')).toContain('application/problem+json');
    const loginAfterDelete = await stack.request('POST', '/api/v1/auth/login', {
      body: { email, password: 'a brand new password' },
    });
    expect(loginAfterDelete.status).toBe(401);
  });

  it('changes the e-mail only once the new address is confirmed', async () => {
    const owner = await createOwner(stack, 'mover');
    const newAddress = newEmail('moved');
    const seen = stack.mailbox.mails.length;
    const patched = await stack.request('PATCH', '/api/v1/me', {
      token: owner.token,
      body: { email: newAddress },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      email: owner.email,
      pendingEmail: newAddress,
      emailConfirmed: true,
    });
    const mail = await stack.mailbox.mailTo(newAddress, seen);
    expect(mail.subject).toBe('Confirm your new e-mail address');

    // Until confirmed, the old address is the login.
    expect(
      (
        await stack.request('POST', '/api/v1/auth/login', {
          body: { email: newAddress, password: owner.password },
        })
      ).status,
    ).toBe(401);
    const confirmed = await stack.request('POST', '/api/v1/auth/confirm', {
      body: { token: TestMailbox.tokenIn(mail) },
    });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toMatchObject({ email: newAddress, pendingEmail: null });
    expect(
      (
        await stack.request('POST', '/api/v1/auth/login', {
          body: { email: newAddress, password: owner.password },
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await stack.request('POST', '/api/v1/auth/login', {
          body: { email: owner.email, password: owner.password },
        })
      ).status,
    ).toBe(401);
  });

  it('refuses a second registration of a confirmed address', async () => {
    const owner = await createOwner(stack, 'taken');
    const again = await stack.request('POST', '/api/v1/auth/register', {
      body: { email: owner.email, password: 'another long password', displayName: 'Squatter' },
    });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ type: 'urn:parley:problem:conflict', field: 'email' });
  });
});

describe('the ways in that stay shut', () => {
  it('answers a wrong password and an unknown e-mail alike with 401', async () => {
    const owner = await createOwner(stack, 'wrongpw');
    const wrong = await stack.request('POST', '/api/v1/auth/login', {
      body: { email: owner.email, password: 'guess guess guess' },
    });
    const unknown = await stack.request('POST', '/api/v1/auth/login', {
      body: { email: newEmail('nobody'), password: 'guess guess guess' },
    });
    for (const answer of [wrong, unknown]) {
      expect(answer.status).toBe(401);
      expect(answer.body).toMatchObject({
        type: 'urn:parley:problem:unauthorized',
        detail: 'the e-mail or the password is wrong',
      });
      expect(answer.body).not.toHaveProperty('accessToken');
    }
  });

  it('does not let an unconfirmed owner log in', async () => {
    const email = newEmail('unconfirmed');
    await register(email, 'unconfirmed password');
    const login = await stack.request('POST', '/api/v1/auth/login', {
      body: { email, password: 'unconfirmed password' },
    });
    expect(login.status).toBe(403);
    expect(login.body).toMatchObject({ type: 'urn:parley:problem:forbidden', status: 403 });
    expect(login.body.detail).toMatch(/confirm your e-mail/);
  });

  it('accepts a confirmation token once only', async () => {
    const email = newEmail('reuse');
    const { token } = await register(email);
    expect((await stack.request('POST', '/api/v1/auth/confirm', { body: { token } })).status).toBe(200);
    const again = await stack.request('POST', '/api/v1/auth/confirm', { body: { token } });
    expect(again.status).toBe(400);
    expect(again.body).toMatchObject({
      type: 'urn:parley:problem:validation-failed',
      field: 'token',
      detail: 'this confirmation token has already been used',
    });
  });

  it('refuses an expired confirmation token, and a new registration mails a fresh one that works', async () => {
    const email = newEmail('expired');
    const { token, answer } = await register(email);
    // The token's lifetime is configuration (a day by default); age it in the database rather than wait.
    const client = new pg.Client({ connectionString: testEnv.databaseUrl() });
    await client.connect();
    try {
      const { rowCount } = await client.query(
        `UPDATE "${testSchema('accounts')}".email_confirmations SET expires_at = now() - interval '1 second' WHERE owner_id = $1`,
        [answer.body.id],
      );
      expect(rowCount).toBe(1);
    } finally {
      await client.end();
    }
    const expired = await stack.request('POST', '/api/v1/auth/confirm', { body: { token } });
    expect(expired.status).toBe(400);
    expect(expired.body).toMatchObject({
      field: 'token',
      detail: 'this confirmation token has expired; ask for a new one',
    });
    expect(
      (
        await stack.request('POST', '/api/v1/auth/login', {
          body: { email, password: 'correct horse battery' },
        })
      ).status,
    ).toBe(403);

    const { token: fresh } = await register(email);
    expect(fresh).not.toBe(token);
    expect((await stack.request('POST', '/api/v1/auth/confirm', { body: { token: fresh } })).status).toBe(
      200,
    );
  });

  it('refuses an unknown confirmation token', async () => {
    const answer = await stack.request('POST', '/api/v1/auth/confirm', { body: { token: 'A'.repeat(43) } });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ field: 'token', detail: 'this confirmation token is not valid' });
  });

  it('answers 401 with WWW-Authenticate to a missing, forged, expired or misdirected access token', async () => {
    const owner = await createOwner(stack, 'bearer');
    const key = new TextEncoder().encode(stack.secrets.jwtSecret);
    const sign = (claims: { exp?: number; aud?: string; secret?: Uint8Array }) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(owner.id)
        .setIssuer(ACCESS_TOKEN_CLAIMS.issuer)
        .setAudience(claims.aud ?? ACCESS_TOKEN_CLAIMS.audience)
        .setIssuedAt()
        .setExpirationTime(claims.exp ?? '5m')
        .sign(claims.secret ?? key);
    // The real token works; each variation of it does not.
    expect((await stack.request('GET', '/api/v1/me', { token: await sign({}) })).status).toBe(200);
    const [header, payload] = owner.token.split('.');
    const refused = {
      missing: undefined,
      'not a JWT': 'not-a-jwt',
      'forged signature': `${header}.${payload}.${'A'.repeat(43)}`,
      expired: await sign({ exp: Math.floor(Date.now() / 1000) - 60 }),
      'another audience': await sign({ aud: 'someone-else' }),
      'another secret': await sign({ secret: new TextEncoder().encode('x'.repeat(40)) }),
    };
    for (const [what, token] of Object.entries(refused)) {
      const answer = await stack.request('GET', '/api/v1/me', { token });
      expect(answer.status, what).toBe(401);
      expect(answer.headers.get('www-authenticate')).toBe('Bearer');
      expect(answer.body.type).toBe('urn:parley:problem:unauthorized');
    }
  });

  it('leaves only the probes, the metrics and the API documentation open without a token', async () => {
    for (const path of ['/health/live', '/health/ready', '/metrics', '/docs/json']) {
      expect((await stack.request('GET', path)).status, path).toBe(200);
    }
  });
});

describe('owner scoping', () => {
  it('stores IM accounts without ever returning their password', async () => {
    const owner = await createOwner(stack, 'im');
    const created = await stack.request('POST', '/api/v1/im-accounts', {
      token: owner.token,
      body: { network: 'xmpp', address: 'Ada@Example.org', password: 'xmpp-secret-1' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.any(String),
      network: 'xmpp',
      address: 'ada@example.org',
      createdAt: expect.any(String),
    });
    const irc = await stack.request('POST', '/api/v1/im-accounts', {
      token: owner.token,
      body: { network: 'irc', address: 'ada@irc.example.org:6697', password: 'irc-secret-1' },
    });
    expect(irc.status).toBe(201);
    const list = await stack.request('GET', '/api/v1/im-accounts', { token: owner.token });
    expect(list.status).toBe(200);
    expect(list.body.items.map((i: { address: string }) => i.address)).toEqual([
      'ada@example.org',
      'ada@irc.example.org:6697',
    ]);
    expect(JSON.stringify(list.body)).not.toContain('secret');
    const one = await stack.request('GET', `/api/v1/im-accounts/${irc.body.id}`, { token: owner.token });
    expect(one.body).toEqual(irc.body);

    const duplicate = await stack.request('POST', '/api/v1/im-accounts', {
      token: owner.token,
      body: { network: 'xmpp', address: 'ada@example.org', password: 'again' },
    });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.field).toBe('address');

    expect(
      (await stack.request('DELETE', `/api/v1/im-accounts/${irc.body.id}`, { token: owner.token })).status,
    ).toBe(204);
    const after = await stack.request('GET', '/api/v1/im-accounts', { token: owner.token });
    expect(after.body.items).toHaveLength(1);
  });

  it("answers 404 to every owner endpoint tried on another owner's data, and changes nothing", async () => {
    const alice = await createOwner(stack, 'alice');
    const mallory = await createOwner(stack, 'mallory');
    const imAccount = await stack.request('POST', '/api/v1/im-accounts', {
      token: alice.token,
      body: { network: 'xmpp', address: 'alice@example.org', password: 'alice-im-secret' },
    });
    expect(imAccount.status).toBe(201);
    const id = imAccount.body.id as string;

    const probes = [
      await stack.request('GET', `/api/v1/im-accounts/${id}`, { token: mallory.token }),
      await stack.request('DELETE', `/api/v1/im-accounts/${id}`, { token: mallory.token }),
    ];
    for (const answer of probes) {
      expect(answer.status).toBe(404);
      expect(answer.body).toMatchObject({
        type: 'urn:parley:problem:not-found',
        detail: 'no such IM account',
      });
    }
    // The collection and "me" endpoints only ever show the caller's own data.
    const malloryList = await stack.request('GET', '/api/v1/im-accounts', { token: mallory.token });
    expect(malloryList.body.items).toEqual([]);
    const malloryMe = await stack.request('GET', '/api/v1/me', { token: mallory.token });
    expect(malloryMe.body.id).toBe(mallory.id);
    expect(JSON.stringify(malloryMe.body)).not.toContain(alice.email);
    // Mallory's edits touch Mallory only.
    await stack.request('PATCH', '/api/v1/me', { token: mallory.token, body: { displayName: 'hijacked' } });
    expect((await stack.request('DELETE', '/api/v1/me', { token: mallory.token })).status).toBe(204);

    const aliceMe = await stack.request('GET', '/api/v1/me', { token: alice.token });
    expect(aliceMe.body).toMatchObject({ id: alice.id, displayName: alice.displayName });
    const aliceList = await stack.request('GET', '/api/v1/im-accounts', { token: alice.token });
    expect(aliceList.body.items.map((i: { id: string }) => i.id)).toEqual([id]);

    // Once Mallory is deleted, every owner endpoint with Mallory's still-unexpired token answers 404.
    const afterDeletion = [
      await stack.request('GET', '/api/v1/me', { token: mallory.token }),
      await stack.request('PATCH', '/api/v1/me', { token: mallory.token, body: { displayName: 'x' } }),
      await stack.request('POST', '/api/v1/me/password', {
        token: mallory.token,
        body: { currentPassword: mallory.password, newPassword: 'whatever password' },
      }),
      await stack.request('DELETE', '/api/v1/me', { token: mallory.token }),
      await stack.request('POST', '/api/v1/im-accounts', {
        token: mallory.token,
        body: { network: 'xmpp', address: 'mallory@example.org', password: 'x' },
      }),
      await stack.request('GET', `/api/v1/im-accounts/${id}`, { token: mallory.token }),
      await stack.request('DELETE', `/api/v1/im-accounts/${id}`, { token: mallory.token }),
    ];
    expect(afterDeletion.map((a) => a.status)).toEqual([404, 404, 404, 404, 404, 404, 404]);
  });
});
