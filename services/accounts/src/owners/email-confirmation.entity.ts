/**
 * E-mail confirmation tokens. Only the SHA-256 of a token is stored, so a database leak does not
 * confirm anything; a token is single-use (`usedAt`) and expires (`expiresAt`).
 */
import { Column, Entity, PrimaryColumn } from 'typeorm';

export type ConfirmationPurpose = 'register' | 'email-change';

@Entity({ name: 'email_confirmations' })
export class EmailConfirmationEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid')
  ownerId!: string;

  /** Hex SHA-256 of the token sent by mail (the token has 256 random bits: no salt needed). */
  @Column('text')
  tokenHash!: string;

  @Column('text')
  purpose!: ConfirmationPurpose;

  /** The address this token confirms (the new one for an e-mail change). */
  @Column('text')
  email!: string;

  @Column('timestamptz')
  expiresAt!: Date;

  @Column('timestamptz', { nullable: true })
  usedAt!: Date | null;

  @Column('timestamptz')
  createdAt!: Date;
}
