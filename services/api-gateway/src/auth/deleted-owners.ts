/**
 * The owners deleted recently, whose access tokens must stop working at once (a token lives up to
 * a day — PARLEY_JWT_TTL_SECONDS — and is not checked against accounts on every request). Read
 * from the durable `owner-deleted` facts on OWNER_EVENTS with an ordered consumer that starts one
 * maximum token lifetime back, so a restarted replica knows them too; the replica that answered
 * DELETE /me also marks the owner at once.
 */
import { Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { JetStreamBus } from '@parley/bus';
import { ownerDeletedV1Schema, ownerSubjects, streams } from '@parley/contracts';
import { logger } from '@parley/observability';

type OrderedConsumer = Awaited<ReturnType<JetStreamBus['js']['consumers']['get']>>;
type ConsumerMessages = Awaited<ReturnType<OrderedConsumer['consume']>>;
type OrderedOptions = Exclude<Parameters<JetStreamBus['js']['consumers']['get']>[1], string | undefined>;

/** The longest an access token can live (the upper bound of PARLEY_JWT_TTL_SECONDS). */
const MAX_TOKEN_LIFETIME_MS = 86_400_000;

@Injectable()
export class DeletedOwners implements OnApplicationBootstrap, OnModuleDestroy {
  /** Owner id → when it was deleted (ms). */
  private readonly deleted = new Map<string, number>();
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly bus: JetStreamBus) {}

  async onApplicationBootstrap(): Promise<void> {
    const options = {
      // One subject as a string: nats-server 2.9 knows filter_subject, not filter_subjects.
      filter_subjects: ownerSubjects.deletedAll(),
      // DeliverPolicy.StartTime (the library's enum value; this package does not depend on it).
      deliver_policy: 'by_start_time',
      opt_start_time: new Date(Date.now() - MAX_TOKEN_LIFETIME_MS).toISOString(),
    } as OrderedOptions;
    const consumer = await this.bus.js.consumers.get(streams.ownerEvents().name, options);
    this.messages = await consumer.consume();
    const messages = this.messages;
    this.loop = (async () => {
      for await (const msg of messages) {
        const parsed = ownerDeletedV1Schema.safeParse(msg.json());
        if (parsed.success) this.markDeleted(parsed.data.ownerId, Date.parse(parsed.data.occurredAt));
        else logger().warn({ subject: msg.subject, seq: msg.seq }, 'ignored a malformed owner-deleted fact');
      }
    })().catch((error: unknown) => logger().error({ err: error }, 'owner-deleted feed stopped'));
  }

  async onModuleDestroy(): Promise<void> {
    await this.messages?.close();
    await this.loop;
  }

  markDeleted(ownerId: string, at = Date.now()): void {
    this.deleted.set(ownerId, at);
    // Forget what no token can outlive any more.
    const horizon = Date.now() - MAX_TOKEN_LIFETIME_MS;
    for (const [id, when] of this.deleted) if (when < horizon) this.deleted.delete(id);
  }

  isDeleted(ownerId: string): boolean {
    return this.deleted.has(ownerId);
  }
}
