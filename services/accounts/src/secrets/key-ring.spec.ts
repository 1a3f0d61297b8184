import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeyRing } from './key-ring.js';

const newKey = () => randomBytes(32).toString('base64');

describe('KeyRing', () => {
  it('round-trips a secret and does not keep it in the clear', () => {
    const ring = new KeyRing({ id: 'k1', key: newKey() });
    const sealed = ring.seal('hunter2-password', 'row-1');
    expect(sealed.keyId).toBe('k1');
    expect(sealed.ciphertext.toString('utf8')).not.toContain('hunter2');
    expect(ring.open(sealed, 'row-1')).toBe('hunter2-password');
  });

  it('refuses a ciphertext moved to another context', () => {
    const ring = new KeyRing({ id: 'k1', key: newKey() });
    const sealed = ring.seal('secret', 'row-1');
    expect(() => ring.open(sealed, 'row-2')).toThrow();
  });

  it('opens values sealed under a previous key and seals new ones under the current key', () => {
    const k1 = { id: 'k1', key: newKey() };
    const old = new KeyRing(k1).seal('secret', 'row-1');
    const ring = new KeyRing({ id: 'k2', key: newKey() }, [k1]);
    expect(ring.open(old, 'row-1')).toBe('secret');
    expect(ring.seal('secret', 'row-1').keyId).toBe('k2');
  });

  it('names the missing key when a value was sealed under a key no longer configured', () => {
    const old = new KeyRing({ id: 'k1', key: newKey() }).seal('secret', 'row-1');
    const ring = new KeyRing({ id: 'k2', key: newKey() });
    expect(() => ring.open(old, 'row-1')).toThrow(/"k1" is not configured/);
  });
});
