/** Confirmation tokens: 256 random bits for the mail, their SHA-256 for the database. */
import { createHash, randomBytes } from 'node:crypto';

export function newConfirmationToken(): { token: string; tokenHash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, tokenHash: hashConfirmationToken(token) };
}

export function hashConfirmationToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
