/**
 * Encryption of secrets at rest (IM passwords): AES-256-GCM under a key ring. Each sealed value
 * keeps the id of the key that sealed it, so keys can rotate: new values use the current key,
 * old values stay readable while their key is configured, and `rotate-keys` re-seals them.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** What is stored for one secret. */
export interface SealedSecret {
  keyId: string;
  /** 96-bit random nonce, never reused with the same key (random nonces: safe far beyond 2^32 seals per key). */
  iv: Buffer;
  ciphertext: Buffer;
  /** GCM authentication tag (128 bits). */
  tag: Buffer;
}

export class KeyRing {
  private readonly keys = new Map<string, Buffer>();

  /** `current` seals; `previous` only open. Keys are base64 of 32 bytes. */
  constructor(current: { id: string; key: string }, previous: Array<{ id: string; key: string }> = []) {
    for (const { id, key } of [...previous, current]) {
      const bytes = Buffer.from(key, 'base64');
      if (bytes.length !== 32) throw new Error(`secrets key "${id}" must be 32 bytes`);
      this.keys.set(id, bytes);
    }
    this.currentKeyId = current.id;
  }

  readonly currentKeyId: string;

  /**
   * Encrypts `plaintext`, binding it to `context` (authenticated, not stored: e.g. the row id), so
   * a ciphertext copied into another row does not decrypt there.
   */
  seal(plaintext: string, context: string): SealedSecret {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key(this.currentKeyId), iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return { keyId: this.currentKeyId, iv, ciphertext, tag: cipher.getAuthTag() };
  }

  /** Decrypts; throws when the key is unknown or the value (or its context) was tampered with. */
  open(sealed: SealedSecret, context: string): string {
    const decipher = createDecipheriv('aes-256-gcm', this.key(sealed.keyId), sealed.iv);
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(sealed.tag);
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString('utf8');
  }

  private key(id: string): Buffer {
    const key = this.keys.get(id);
    if (!key) throw new Error(`secrets key "${id}" is not configured (PARLEY_SECRETS_OLD_KEYS)`);
    return key;
  }
}

/** The key ring described by the accounts configuration. */
export function keyRingFromConfig(config: {
  PARLEY_SECRETS_KEY: string;
  PARLEY_SECRETS_KEY_ID: string;
  PARLEY_SECRETS_OLD_KEYS: Array<{ id: string; key: string }>;
}): KeyRing {
  return new KeyRing(
    { id: config.PARLEY_SECRETS_KEY_ID, key: config.PARLEY_SECRETS_KEY },
    config.PARLEY_SECRETS_OLD_KEYS,
  );
}
