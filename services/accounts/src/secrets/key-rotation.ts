/**
 * Re-seals every IM password that is not under the current key (the work of `rotate-keys`).
 * Batches of rows are locked (SKIP LOCKED, so a second run or a live service is not blocked) and
 * rewritten in one transaction each; the run is idempotent and can be repeated after a failure.
 */
import type { DataSource } from 'typeorm';
import { Not } from 'typeorm';
import { ImAccountEntity, passwordContext, sealedPassword } from '../im-accounts/im-account.entity.js';
import type { KeyRing } from './key-ring.js';

export interface RotationReport {
  rotated: number;
  /** Rows under the current key before and after (nothing left behind when the run succeeds). */
  remaining: number;
}

export async function rotateKeys(
  dataSource: DataSource,
  keyRing: KeyRing,
  batchSize = 200,
): Promise<RotationReport> {
  let rotated = 0;
  for (;;) {
    const done = await dataSource.transaction(async (manager) => {
      const rows = await manager.find(ImAccountEntity, {
        where: { keyId: Not(keyRing.currentKeyId) },
        order: { id: 'ASC' },
        take: batchSize,
        lock: { mode: 'pessimistic_write', onLocked: 'skip_locked' },
      });
      for (const row of rows) {
        const resealed = keyRing.seal(
          keyRing.open(sealedPassword(row), passwordContext(row)),
          passwordContext(row),
        );
        await manager.update(
          ImAccountEntity,
          { id: row.id, keyId: row.keyId },
          {
            passwordCiphertext: resealed.ciphertext,
            passwordIv: resealed.iv,
            passwordTag: resealed.tag,
            keyId: resealed.keyId,
            updatedAt: new Date(),
          },
        );
      }
      rotated += rows.length;
      return rows.length < batchSize;
    });
    if (done) break;
  }
  const remaining = await dataSource.manager.count(ImAccountEntity, {
    where: { keyId: Not(keyRing.currentKeyId) },
  });
  return { rotated, remaining };
}
