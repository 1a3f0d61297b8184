/**
 * `node services/accounts/dist/rotate-keys.js`: re-encrypts every stored IM password under the
 * current key (PARLEY_SECRETS_KEY / _KEY_ID), reading the old ones from PARLEY_SECRETS_OLD_KEYS.
 * Same configuration as the service; exits non-zero (rows under an unknown key stay untouched)
 * when a key is missing. Afterwards the old key can be dropped from the configuration.
 */
import { ConfigError } from '@parley/runtime';
import { createServiceDataSource, initializeAndMigrate } from '@parley/persistence';
import { entities } from './entities.js';
import { loadServiceConfig } from './config.js';
import { migrations } from './migrations/index.js';
import { keyRingFromConfig } from './secrets/key-ring.js';
import { rotateKeys } from './secrets/key-rotation.js';

try {
  const config = loadServiceConfig();
  const dataSource = await initializeAndMigrate(
    createServiceDataSource({
      url: config.PARLEY_DATABASE_URL,
      schema: config.PARLEY_DATABASE_SCHEMA,
      entities,
      migrations,
      poolSize: 2,
    }),
  );
  try {
    const report = await rotateKeys(dataSource, keyRingFromConfig(config));
    process.stdout.write(
      `rotate-keys: ${report.rotated} IM password(s) re-encrypted under key "${config.PARLEY_SECRETS_KEY_ID}"; ` +
        `${report.remaining} left under other keys\n`,
    );
    if (report.remaining > 0) process.exitCode = 1;
  } finally {
    await dataSource.destroy();
  }
} catch (error) {
  process.stderr.write(
    error instanceof ConfigError ? `${error.message}\n` : `rotate-keys failed: ${(error as Error).message}\n`,
  );
  process.exitCode = 1;
}
