/**
 * The outbox's fast path: a decision's rows published by the process that committed them, right
 * after the commit, instead of the relay reading them back from PostgreSQL (ADR 0008). It saves
 * the relay's read and its UPDATE of every row on every message (docs/performance.md) and keeps
 * every guarantee of the relay:
 *
 * - **Durable first.** The rows are committed before anything is published; a process that dies
 *   in between leaves them unsent, and the relay publishes them (the partition's next owner drains
 *   the outbox before it consumes). A row is published with its Nats-Msg-Id, so a second copy
 *   within JetStream's duplicate window is dropped; and it is recorded as attempted when inserted
 *   (handOverInsert), so a relay that finds it unsent later than that looks it up first.
 * - **In order.** A conference's rows are handed over only when the decision's transaction, with
 *   the conference row locked, saw no unsent row of that conference but rows handed over here
 *   (and not failed): every earlier row is then stored, or ahead of these in this process's chain
 *   for the conference. Anything else — a row another replica or an owner command committed,
 *   a hand-over that failed — leaves the decision's rows to the relay (kick), which publishes in id
 *   order, until a pass has published them all.
 * - **A failure stops the chain.** A publish that fails leaves its rows, and the rows handed over
 *   behind them, to the relay.
 */
import { logger } from '@parley/observability';
import type { OutboxMessage, OutboxRow } from './outbox.relay.js';

/** The conference an outbox message belongs to (its payload's `conferenceId`). */
export function conferenceOf(message: { payload: object }): string | null {
  const { conferenceId } = message.payload as { conferenceId?: unknown };
  return typeof conferenceId === 'string' ? conferenceId : null;
}

/** What the hand-over needs of the relay. */
export interface HandOverRelay {
  publishInOrder(rows: OutboxRow[]): Promise<void>;
  markSent(ids: string[]): Promise<void>;
  kick(): void;
}

/** An outbox message with the id its row was given (handOverInsert answers them). */
export interface InsertedMessage {
  id: string;
  message: OutboxMessage;
}

/**
 * A row handed over stays known this long after its mark: a decision whose transaction listed it
 * unsent just before the mark committed still hands its rows over. (Forgetting a stored row only
 * ever sends a decision to the relay.)
 */
const KNOWN_AFTER_MARK_MS = 5_000;

export class OutboxHandOver {
  /** Per conference: ids of rows handed over here, still on their way or stored (not failed). */
  private readonly known = new Map<string, Set<string>>();
  /** Per conference: the last hand-over's publish (true: published). */
  private readonly chains = new Map<string, Promise<boolean>>();
  /** Marks still running (awaited when stopping). */
  private readonly marks = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly relay: HandOverRelay) {}

  /**
   * After a decision of `conferenceId` committed `rows`: publishes them here when `unsentBefore` —
   * the conference's unsent rows its transaction saw with the row locked (null: not known) — are
   * all known here (stored, or ahead in the chain: one that fails fails those behind it too);
   * otherwise asks the relay for a pass.
   */
  committed(conferenceId: string, unsentBefore: readonly string[] | null, rows: InsertedMessage[]): void {
    if (rows.length === 0) return;
    if (this.stopped) return; // left unsent: the partition's next owner relays them
    if (
      !this.mayTake(conferenceId, unsentBefore) ||
      rows.some(({ message }) => conferenceOf(message) !== conferenceId)
    ) {
      this.relay.kick();
      return;
    }
    const ids = rows.map((row) => row.id);
    const mine = this.known.get(conferenceId) ?? new Set<string>();
    for (const id of ids) mine.add(id);
    this.known.set(conferenceId, mine);
    const before = this.chains.get(conferenceId) ?? Promise.resolve(true);
    const chain = before.then((published) => this.publish(conferenceId, published, rows));
    this.chains.set(conferenceId, chain);
    void chain.then(() => {
      if (this.chains.get(conferenceId) === chain) this.chains.delete(conferenceId);
    });
  }

  /**
   * Whether a decision of `conferenceId` whose transaction saw `unsentBefore` may hand its rows
   * over: every unsent row it saw is one handed over here, stored or ahead in the chain. Asked in
   * the transaction (to write the rows as handOverInsert does) and again by committed(): the rows
   * it saw were committed before it, so in between one can stop being known but not start, and a
   * "no" here is a "no" there.
   */
  mayTake(conferenceId: string, unsentBefore: readonly string[] | null): unsentBefore is readonly string[] {
    if (unsentBefore === null || this.stopped) return false;
    const known = this.known.get(conferenceId);
    return unsentBefore.every((id) => known?.has(id));
  }

  /** Waits for every hand-over and mark in progress; later ones are left to the relay. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.chains.values());
    await Promise.all(this.marks);
  }

  private async publish(
    conferenceId: string,
    earlierPublished: boolean,
    rows: InsertedMessage[],
  ): Promise<boolean> {
    const ids = rows.map((row) => row.id);
    if (!earlierPublished || this.stopped) return this.leaveToRelay(conferenceId, ids);
    try {
      await this.relay.publishInOrder(
        rows.map(({ id, message }) => ({
          id,
          stream: message.stream,
          subject: message.subject,
          msg_id: message.msgId,
          payload: message.payload,
          attempted_at: null,
          uncertain: false,
        })),
      );
    } catch (error) {
      logger().warn({ err: error, conferenceId }, 'outbox hand-over failed; the relay publishes the rows');
      return this.leaveToRelay(conferenceId, ids);
    }
    const mark = this.relay
      .markSent(ids)
      .catch((error: unknown) =>
        // Published but still unsent: a later pass publishes them again (dropped as duplicates).
        logger().warn({ err: error }, 'could not mark handed-over outbox rows sent'),
      )
      .finally(() => {
        this.marks.delete(mark);
        setTimeout(() => this.forget(conferenceId, ids), KNOWN_AFTER_MARK_MS).unref();
      });
    this.marks.add(mark);
    return true;
  }

  private leaveToRelay(conferenceId: string, ids: string[]): false {
    this.forget(conferenceId, ids);
    this.relay.kick();
    return false;
  }

  private forget(conferenceId: string, ids: string[]): void {
    const known = this.known.get(conferenceId);
    if (!known) return;
    for (const id of ids) known.delete(id);
    if (known.size === 0) this.known.delete(conferenceId);
  }
}
