/** accounts configuration (env vars, validated at start-up). Secrets have no defaults: they must be given. */
import { z } from 'zod';
import { baseConfigShape, databaseConfigShape, loadConfig } from '@parley/runtime';

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** A 256-bit key, base64 in the environment. */
const base64Key = z
  .string()
  .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64')
  .refine((value) => Buffer.from(value, 'base64').length === 32, 'must decode to exactly 32 bytes');

export const configSchema = z.object({
  ...baseConfigShape(8081),
  ...databaseConfigShape('accounts'),
  /** HMAC key of the owners' access tokens (shared with api-gateway, which verifies them). */
  PARLEY_JWT_SECRET: z.string().min(32, 'must be at least 32 characters'),
  /** Access tokens are short-lived: there is no revocation list. */
  PARLEY_JWT_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(900),
  /** The key that encrypts IM passwords now (AES-256-GCM), and its id stored beside each ciphertext. */
  PARLEY_SECRETS_KEY: base64Key,
  PARLEY_SECRETS_KEY_ID: z.string().regex(KEY_ID, 'must be 1–64 of A-Z a-z 0-9 . _ -'),
  /** Earlier keys still needed to decrypt (until `rotate-keys` has run): `id=base64,id=base64`. */
  PARLEY_SECRETS_OLD_KEYS: z
    .string()
    .default('')
    .transform((value, ctx) => {
      const keys: Array<{ id: string; key: string }> = [];
      for (const entry of value.split(',').filter((e) => e.trim() !== '')) {
        const eq = entry.indexOf('=');
        const id = entry.slice(0, eq).trim();
        const key = entry.slice(eq + 1).trim();
        if (eq <= 0 || !KEY_ID.test(id) || !base64Key.safeParse(key).success) {
          ctx.addIssue({
            code: 'custom',
            message: 'must be `id=base64-32-byte-key` entries, comma-separated',
          });
          return z.NEVER;
        }
        keys.push({ id, key });
      }
      return keys;
    }),
  /** smtp://user:pass@host:port (or smtps://); the confirmation mails go through it. */
  PARLEY_SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\/\S+$/, 'must be smtp://[user:pass@]host:port or smtps://…')
    .default('smtp://127.0.0.1:1025'),
  PARLEY_MAIL_FROM: z.string().min(3).default('Parley <no-reply@parley.localhost>'),
  /** The owner console's address as owners reach it (api-gateway serves it); mails link to it. */
  PARLEY_PUBLIC_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .default('http://localhost:8080'),
  PARLEY_CONFIRMATION_TTL_SECONDS: z.coerce.number().int().min(60).default(86_400),
});
export type Config = z.infer<typeof configSchema>;

export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return loadConfig('accounts', configSchema, env);
}
