/**
 * Conference ids: a readable slug of the name plus randomness (`team-sync-k4q7x2`). The id is also
 * the bot's address (`<id>@<component domain>`, an IRC nick base) and a NATS subject token, so it
 * must satisfy conferenceIdSchema: lower-case ASCII letters, digits and dashes, at most 48.
 */
import { randomBytes } from 'node:crypto';

const SLUG_MAX = 40;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** "Équipe Sync — 2026!" → "equipe-sync-2026"; empty when nothing usable is left. */
export function slugify(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, SLUG_MAX)
    .replace(/^-+|-+$/g, '');
}

function randomSuffix(length: number, bytes = randomBytes(length)): string {
  return [...bytes].map((byte) => ALPHABET[byte % ALPHABET.length]).join('');
}

/** A new id for a conference called `name`; 6 random characters make collisions negligible (36^6). */
export function newConferenceId(name: string, random = randomBytes(6)): string {
  return `${slugify(name) || 'conference'}-${randomSuffix(6, random)}`;
}
