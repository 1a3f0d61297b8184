/** The owners table: one row per registered owner (password as an argon2id hash only). */
import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'owners' })
export class OwnerEntity {
  @PrimaryColumn('uuid')
  id!: string;

  /** Lower-cased; unique. The address the owner logs in with. */
  @Column('text')
  email!: string;

  @Column('text')
  displayName!: string;

  /** PHC string of argon2id (`$argon2id$v=19$m=…`), never the password. */
  @Column('text')
  passwordHash!: string;

  @Column('timestamptz', { nullable: true })
  emailConfirmedAt!: Date | null;

  /** A new e-mail waiting for confirmation (login keeps using `email` until then). */
  @Column('text', { nullable: true })
  pendingEmail!: string | null;

  @Column('timestamptz')
  createdAt!: Date;

  @Column('timestamptz')
  updatedAt!: Date;
}
