import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@parley/runtime';
import { loadServiceConfig } from './config.js';

const secrets = {
  PARLEY_JWT_SECRET: 'j'.repeat(32),
  PARLEY_SECRETS_KEY: randomBytes(32).toString('base64'),
  PARLEY_SECRETS_KEY_ID: 'k1',
};

describe('accounts configuration', () => {
  it('has no built-in secrets: it names each missing one', () => {
    try {
      loadServiceConfig({});
      expect.unreachable('the configuration loaded without secrets');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as Error).message;
      for (const name of ['PARLEY_JWT_SECRET', 'PARLEY_SECRETS_KEY', 'PARLEY_SECRETS_KEY_ID'])
        expect(message).toContain(name);
    }
  });

  it('refuses a secrets key that is not 32 bytes of base64', () => {
    expect(() =>
      loadServiceConfig({ ...secrets, PARLEY_SECRETS_KEY: randomBytes(16).toString('base64') }),
    ).toThrow(/PARLEY_SECRETS_KEY: must decode to exactly 32 bytes/);
  });

  it('reads the old keys of a rotation as id=key pairs', () => {
    const old = randomBytes(32).toString('base64');
    const config = loadServiceConfig({ ...secrets, PARLEY_SECRETS_OLD_KEYS: `k0=${old}` });
    expect(config.PARLEY_SECRETS_OLD_KEYS).toEqual([{ id: 'k0', key: old }]);
    expect(() => loadServiceConfig({ ...secrets, PARLEY_SECRETS_OLD_KEYS: 'k0' })).toThrow(
      /PARLEY_SECRETS_OLD_KEYS/,
    );
  });

  it('links mails to the console at PARLEY_PUBLIC_URL, http://localhost:8080 unless told', () => {
    expect(loadServiceConfig(secrets).PARLEY_PUBLIC_URL).toBe('http://localhost:8080');
    expect(
      loadServiceConfig({ ...secrets, PARLEY_PUBLIC_URL: 'https://parley.example.org' }).PARLEY_PUBLIC_URL,
    ).toBe('https://parley.example.org');
    expect(() => loadServiceConfig({ ...secrets, PARLEY_PUBLIC_URL: 'parley.example.org' })).toThrow(
      /PARLEY_PUBLIC_URL/,
    );
  });
});
