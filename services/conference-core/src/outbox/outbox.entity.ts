/**
 * The outbox: bus messages decided in a database transaction, published after it commits by the
 * relay (outbox.relay.ts). Writing them with the facts they announce is what makes a crash lose
 * nothing: an unsent row is published on the next pass, with the same Nats-Msg-Id.
 */
import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type OutboxStream = 'im-outbound' | 'conf-events';

@Entity({ name: 'outbox' })
export class OutboxEntity {
  /** Publication order: rows of one conference are written under its row lock, so ids follow commit order. */
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ type: 'text' })
  stream!: OutboxStream;

  @Column({ type: 'text' })
  subject!: string;

  @Column({ type: 'text' })
  msgId!: string;

  @Column({ type: 'jsonb' })
  payload!: Record<string, unknown>;

  /** The conference it belongs to (null in rows written before it was recorded). */
  @Column({ type: 'text', nullable: true })
  conferenceId!: string | null;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  /** The relay's first attempt to publish it (see outbox.relay.ts: republishing after the duplicate window). */
  @Column({ type: 'timestamptz', nullable: true })
  attemptedAt!: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  sentAt!: Date | null;
}
