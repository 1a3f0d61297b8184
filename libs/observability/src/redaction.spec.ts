import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { redactUrl, scrubSecrets } from './redaction.js';

/** Logs through a real Parley logger into memory; returns the parsed lines and the raw text. */
function capture(write: (log: ReturnType<typeof createLogger>) => void) {
  const lines: string[] = [];
  const log = createLogger('spec', 'debug', { write: (line: string) => lines.push(line) });
  write(log);
  return { text: lines.join(''), records: lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('log redaction', () => {
  it('redacts passwords, tokens and secrets by key, at the top and nested in bodies and arrays', () => {
    const { text, records } = capture((log) =>
      log.debug(
        {
          password: 'pw-top',
          request: { email: 'ada@example.org', password: 'pw-body', newPassword: 'pw-new' },
          reply: { data: { accessToken: 'tok-reply', tokenType: 'Bearer', expiresIn: 900 } },
          items: [{ address: 'ada@xmpp.example', credentials: { password: 'im-secret' } }],
          deep: { a: { b: { c: { secret: 'deep-secret' } } } },
          env: { PARLEY_JWT_SECRET: 'jwt-secret-value', PARLEY_XMPP_COMPONENT_SECRET: 'component-secret' },
        },
        'rpc',
      ),
    );
    for (const secret of [
      'pw-top',
      'pw-body',
      'pw-new',
      'tok-reply',
      'im-secret',
      'deep-secret',
      'jwt-secret-value',
      'component-secret',
    ]) {
      expect(text).not.toContain(secret);
    }
    const record = records[0]!;
    expect(record.password).toBe('[REDACTED]');
    expect(record.request).toEqual({
      email: 'ada@example.org',
      password: '[REDACTED]',
      newPassword: '[REDACTED]',
    });
    expect(record.reply).toEqual({
      data: { accessToken: '[REDACTED]', tokenType: 'Bearer', expiresIn: 900 },
    });
  });

  it('redacts authorization and cookie headers of a logged request', () => {
    const { text, records } = capture((log) =>
      log.info(
        {
          req: {
            method: 'GET',
            url: '/api/v1/me',
            headers: {
              authorization: 'Bearer abc.def.ghi',
              cookie: 'sid=s3cr3t',
              'set-cookie': 'sid=n3w',
              host: 'x',
            },
          },
        },
        'request completed',
      ),
    );
    expect(text).not.toContain('abc.def.ghi');
    expect(text).not.toContain('s3cr3t');
    expect(text).not.toContain('n3w');
    expect((records[0]!.req as { headers: Record<string, string> }).headers).toEqual({
      authorization: '[REDACTED]',
      cookie: '[REDACTED]',
      'set-cookie': '[REDACTED]',
      host: 'x',
    });
  });

  it('keeps a URL but not the password in it', () => {
    const { records } = capture((log) =>
      log.info(
        { PARLEY_DATABASE_URL: 'postgres://parley:db-pass@db:5432/parley', url: 'http://127.0.0.1:8080' },
        'x',
      ),
    );
    expect(records[0]!.PARLEY_DATABASE_URL).toBe('postgres://parley:[REDACTED]@db:5432/parley');
    expect(records[0]!.url).toBe('http://127.0.0.1:8080');
  });

  it('scrubs credentials out of messages and error messages', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
    const { text } = capture((log) => {
      log.warn(`could not reach nats://archive:nats-pass@nats:4222 with Authorization: Bearer ${jwt}`);
      log.error(
        { err: new Error(`login failed for smtp://mailer:smtp-pass@mail:587 token ${jwt}`) },
        'failed',
      );
    });
    for (const secret of ['nats-pass', 'smtp-pass', jwt]) expect(text).not.toContain(secret);
    expect(text).toContain('nats://archive:[REDACTED]@nats:4222');
  });

  it("drops a failed query's bound values, keeping the query", () => {
    const error = Object.assign(new Error('duplicate key'), {
      query: 'INSERT INTO owners (email, password_hash) VALUES ($1, $2)',
      parameters: ['ada@example.org', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA'],
    });
    const { text, records } = capture((log) => log.error({ err: error }, 'query failed'));
    expect(text).not.toContain('argon2id');
    expect((records[0]!.err as { query: string }).query).toContain('INSERT INTO owners');
  });

  it('leaves ordinary text alone', () => {
    expect(scrubSecrets('alice (xmpp) joined; see https://example.org/a:b')).toBe(
      'alice (xmpp) joined; see https://example.org/a:b',
    );
  });
});

describe('request URLs in logs', () => {
  it('redacts secret query parameters and keeps the others', () => {
    expect(redactUrl('/api/v1/conferences/c1/events?access_token=abc123&since=5')).toBe(
      '/api/v1/conferences/c1/events?access_token=[REDACTED]&since=5',
    );
    expect(redactUrl('/api/v1/me')).toBe('/api/v1/me');
  });
});
