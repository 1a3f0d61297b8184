/**
 * What a log line must never carry (issue 13): passwords, tokens, authorization headers, cookies,
 * keys and secrets. Redaction is by key — pino's `redact` with every sensitive key at any depth
 * up to REDACT_DEPTH (wildcards), so a request body or an RPC payload logged whole shows
 * `[REDACTED]` where its password was — plus a scrub of free text (messages, error messages and
 * stacks, URLs) for what has a recognisable shape: credentials in a URL, bearer tokens, JWTs.
 */
import type { LoggerOptions } from 'pino';

/**
 * Keys whose value is a secret wherever they appear (exact, case-sensitive names, as in our
 * contracts, HTTP headers — lower-cased by Node — and configuration variables).
 */
export const SENSITIVE_KEYS = [
  'password',
  'currentPassword',
  'newPassword',
  'passwordHash',
  'passwd',
  'pass',
  'secret',
  'clientSecret',
  'componentSecret',
  'token',
  'accessToken',
  'refreshToken',
  'idToken',
  'apiKey',
  'privateKey',
  'key',
  'ciphertext',
  'credentials',
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  // A failed SQL query's bound values (TypeORM's QueryFailedError): password hashes, ciphertexts,
  // token hashes, message bodies. The query text stays.
  'parameters',
  'PARLEY_JWT_SECRET',
  'PARLEY_SECRETS_KEY',
  'PARLEY_SECRETS_OLD_KEYS',
  'PARLEY_XMPP_COMPONENT_SECRET',
] as const;

/** Keys holding a URL that may carry credentials (`scheme://user:password@host`): only the password goes. */
export const URL_KEYS = [
  'PARLEY_NATS_URL',
  'PARLEY_DATABASE_URL',
  'PARLEY_SMTP_URL',
  'natsUrl',
  'databaseUrl',
  'smtpUrl',
  'url',
  'servers',
] as const;

/** How deep under the log object a sensitive key is still found (`*.*.*.*.password`). */
export const REDACT_DEPTH = 5;

export const REDACTED = '[REDACTED]';

function pathTo(key: string, depth: number): string {
  const last = /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
  const prefix = Array.from({ length: depth }, () => '*').join('.');
  return depth === 0 ? (last.startsWith('.') ? key : last) : `${prefix}${last}`;
}

/** Every redact path: each key at the top and under up to REDACT_DEPTH wildcard levels. */
export function redactPaths(): string[] {
  const keys = [...SENSITIVE_KEYS, ...URL_KEYS];
  return keys.flatMap((key) => Array.from({ length: REDACT_DEPTH + 1 }, (_, depth) => pathTo(key, depth)));
}

const URL_KEY_SET = new Set<string>(URL_KEYS);

/** `scheme://user:password@host` → `scheme://user:[REDACTED]@host`. */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):[^\s@/]*@/gi;
/** `Bearer <token>` (an authorization header value written into a message). */
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g;
/** A JWT: three base64url parts, the first two starting with `eyJ` (`{"`). */
const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}/g;

/** Removes what looks like a credential from free text (messages, error messages, URLs). */
export function scrubSecrets(text: string): string {
  return text
    .replace(URL_CREDENTIALS, `$1:${REDACTED}@`)
    .replace(BEARER, `$1 ${REDACTED}`)
    .replace(JWT, REDACTED);
}

/**
 * The censor: a URL keeps its shape without its password (an operator still sees which server);
 * every other sensitive value becomes `[REDACTED]`, whatever its type.
 */
export function censor(value: unknown, path: Array<string | symbol>): unknown {
  const key = path[path.length - 1];
  if (typeof key === 'string' && URL_KEY_SET.has(key)) {
    if (typeof value === 'string') return scrubSecrets(value);
    if (Array.isArray(value)) return value.map((v) => (typeof v === 'string' ? scrubSecrets(v) : v));
    return value;
  }
  return value === undefined ? undefined : REDACTED;
}

/** The pino `redact` option Parley's loggers use. */
export function redactOptions(): NonNullable<LoggerOptions['redact']> {
  return { paths: redactPaths(), censor };
}

/** Query parameters whose value is a secret (an SSE client may carry its token as `access_token`). */
const SENSITIVE_QUERY = /(pass|secret|token|key|auth|code|signature|sig|credential)/i;

/** A request URL fit for a log line: sensitive query values redacted, URL credentials scrubbed. */
export function redactUrl(url: string): string {
  const question = url.indexOf('?');
  if (question < 0) return scrubSecrets(url);
  const query = url
    .slice(question + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair;
      let name = pair.slice(0, eq);
      try {
        name = decodeURIComponent(name);
      } catch {
        // A malformed name is logged as it came; only its value can be a secret.
      }
      return SENSITIVE_QUERY.test(name) ? `${pair.slice(0, eq)}=${REDACTED}` : pair;
    })
    .join('&');
  return scrubSecrets(`${url.slice(0, question)}?${query}`);
}
