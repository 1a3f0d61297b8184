/**
 * Owner password hashing: argon2id (@node-rs/argon2, N-API, prebuilt for Node 24) with the OWASP
 * 2024 minimum (19 MiB, 2 passes, 1 lane) — fast enough for a login, costly for a GPU farm.
 */
import { hash, verify } from '@node-rs/argon2';

// `Algorithm` is a const enum in the package's typings, which isolatedModules cannot inline.
const ARGON2ID = 2;
const OPTIONS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS as Parameters<typeof hash>[1]);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

/**
 * A valid hash of a password nobody has: verified against when the e-mail is unknown, so a login
 * for a missing owner costs the same time as one for an existing owner (no account enumeration).
 */
let decoy: Promise<string> | undefined;
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword(`decoy-${Math.random()}-${Date.now()}`);
  return decoy;
}
