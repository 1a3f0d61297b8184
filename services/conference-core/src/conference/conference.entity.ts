/** TypeORM entities of the `conference` schema: conferences and their participants. */
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { ConferenceState, JoinPolicy, Network, ParticipantState } from '@parley/contracts';

/** bigint columns come back from pg as strings; our values stay far below 2^53. */
const bigintAsNumber = { to: (value: number) => value, from: (value: string | null) => Number(value ?? 0) };

@Entity({ name: 'conference' })
@Index(['ownerId', 'createdAt'])
export class ConferenceEntity {
  @PrimaryColumn({ type: 'text' })
  id!: string;

  @Column({ type: 'text' })
  ownerId!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text' })
  subject!: string;

  @Column({ type: 'integer' })
  ttlSeconds!: number;

  @Column({ type: 'text' })
  joinPolicy!: JoinPolicy;

  @Column({ type: 'text', nullable: true })
  ownerImAccountId!: string | null;

  @Column({ type: 'text' })
  state!: ConferenceState;

  /** The last conference-event seq handed out; incremented in the transaction that records the fact. */
  @Column({ type: 'bigint', transformer: bigintAsNumber })
  lastSeq!: number;

  /**
   * Bumped by every change of a participant or of their presence (ConferenceStore): a roster this
   * process remembers at the version the locked row still has is not read again (roster-cache.ts).
   */
  @Column({ type: 'bigint', transformer: bigintAsNumber, default: 0 })
  rosterVersion!: number;

  @Column({ type: 'timestamptz' })
  createdAt!: Date;

  @Column({ type: 'timestamptz' })
  updatedAt!: Date;

  @Column({ type: 'timestamptz', nullable: true })
  startedAt!: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  terminatedAt!: Date | null;

  @Column({ type: 'text', nullable: true })
  terminatedReason!: 'closed' | 'ttl-expired' | null;

  /** Time-to-live: when the conference ends unless a participant becomes active (null while one is). */
  @Column({ type: 'timestamptz', nullable: true })
  idleDeadline!: Date | null;
}

@Entity({ name: 'participant' })
@Index(['conferenceId', 'network', 'address'], { unique: true })
@Index(['network', 'address'])
export class ParticipantEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'text' })
  conferenceId!: string;

  @Column({ type: 'text' })
  network!: Network;

  /** Normalized (lower-case) so one identity is one participant. */
  @Column({ type: 'text' })
  address!: string;

  @Column({ type: 'text' })
  displayName!: string;

  @Column({ type: 'text' })
  state!: ParticipantState;

  /**
   * The inviter, denormalized: the invitation tree stays readable after the owner cleans the
   * inviter from the list. All null = invited by the owner (or joined through the join policy).
   */
  @Column({ type: 'uuid', nullable: true })
  invitedById!: string | null;

  @Column({ type: 'text', nullable: true })
  invitedByNetwork!: Network | null;

  @Column({ type: 'text', nullable: true })
  invitedByAddress!: string | null;

  @Column({ type: 'text', nullable: true })
  invitedByName!: string | null;

  @Column({ type: 'timestamptz' })
  invitedAt!: Date;

  @Column({ type: 'timestamptz', nullable: true })
  joinedAt!: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  leftAt!: Date | null;

  @Column({ type: 'integer' })
  messageCount!: number;

  /** This participant is the owner (their IM account represents them in the conference). */
  @Column({ type: 'boolean', default: false })
  isOwner!: boolean;

  @Column({ type: 'timestamptz' })
  updatedAt!: Date;
}
