/** The owners' IM accounts; the password is sealed with AES-256-GCM (see secrets/key-ring.ts). */
import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { Network } from '@parley/contracts';
import type { SealedSecret } from '../secrets/key-ring.js';

@Entity({ name: 'im_accounts' })
export class ImAccountEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid')
  ownerId!: string;

  @Column('text')
  network!: Network;

  /** Normalised (`normalizeAddress`), unique per owner and network. */
  @Column('text')
  address!: string;

  @Column('bytea')
  passwordCiphertext!: Buffer;

  @Column('bytea')
  passwordIv!: Buffer;

  @Column('bytea')
  passwordTag!: Buffer;

  /** Which configured key sealed the password. */
  @Column('text')
  keyId!: string;

  @Column('timestamptz')
  createdAt!: Date;

  @Column('timestamptz')
  updatedAt!: Date;
}

/** The sealed password of a row, as the key ring reads it. */
export function sealedPassword(row: ImAccountEntity): SealedSecret {
  return { keyId: row.keyId, iv: row.passwordIv, ciphertext: row.passwordCiphertext, tag: row.passwordTag };
}

/** The authenticated context of a sealed password: the row it belongs to. */
export function passwordContext(row: Pick<ImAccountEntity, 'id'>): string {
  return `im_accounts:${row.id}:password`;
}
