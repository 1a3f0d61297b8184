/**
 * Contact imports: POST /api/v1/im-accounts/{id}/imports starts one (202, the queued job),
 * GET /api/v1/imports/{id} reads it, GET /api/v1/imports/{id}/events follows it as server-sent
 * events. Every route is the owner's own: another owner's account or import is not found.
 */
import { Get, Post, Res, type BeforeApplicationShutdown } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { JetStreamBus } from '@parley/bus';
import {
  accountsIdSchema,
  contactSubjects,
  contactsRpc,
  importEventSchema,
  importJobIdSchema,
  importJobViewSchema,
  type ImportEvent,
} from '@parley/contracts';
import { logger } from '@parley/observability';
import { z } from 'zod';
import type { AuthenticatedOwner } from '../auth/access-token.verifier.js';
import { CurrentOwner } from '../auth/current-owner.decorator.js';
import { ApiController, Endpoint, ValidParam } from '../http/endpoint.decorators.js';
import { startEventStream } from '../http/event-stream.js';
import { RpcGateway } from '../http/rpc-gateway.js';

/** A comment line this often keeps proxies from closing a quiet stream. */
const KEEP_ALIVE_MS = 15_000;
/** A feed whose import never ends (its process died) is closed after this long. */
const MAX_FEED_MS = 15 * 60_000;

/** One SSE event of the feed (`event:` is its `type`), documented per type. */
const importFeedEventSchema = z.discriminatedUnion('type', [
  importEventSchema.extend({ type: z.literal('start').describe('the import started: logging in') }),
  importEventSchema.extend({ type: z.literal('progress').describe('contacts read, then saved, so far') }),
  importEventSchema.extend({
    type: z.literal('end').describe('done (with counts) or failed (with the reason)'),
  }),
]);

@ApiController('im-accounts/:id/imports')
export class AccountImportsController {
  constructor(private readonly rpc: RpcGateway) {}

  @Post()
  @Endpoint({
    tag: 'contacts',
    summary: 'Import the contact list of one of my IM accounts',
    description:
      'Answers the queued import job at once (202); follow it with GET /imports/{id} or its events. The service logs in to the network as the account (XMPP: a second session, the owner’s own client stays connected), reads the contact list with names and groups, and saves it: a re-import updates the saved list (added, changed, removed) and never duplicates it. A network without contact lists (IRC) or a wrong password ends the job as `failed` with a reason, not as an error of this request. 409 when an import of the account is still running.',
    status: 202,
    response: importJobViewSchema,
    errors: ['not-found', 'conflict'],
  })
  start(@CurrentOwner() owner: AuthenticatedOwner, @ValidParam('id', accountsIdSchema) id: string) {
    return this.rpc.call(contactsRpc.startImport, { ownerId: owner.id, imAccountId: id });
  }
}

@ApiController('imports')
export class ImportsController implements BeforeApplicationShutdown {
  private readonly open = new Set<() => void>();

  constructor(
    private readonly rpc: RpcGateway,
    private readonly bus: JetStreamBus,
  ) {}

  @Get(':id')
  @Endpoint({
    tag: 'contacts',
    summary: 'One of my imports: state, progress, counts or the reason it failed',
    description:
      '`state` is queued → running → done (with `counts`: added, changed, removed, unchanged) or failed (with `failure`: a code and a message such as "wrong password", "server unreachable", "not supported: IRC has no contact lists").',
    status: 200,
    response: importJobViewSchema,
    errors: ['not-found'],
  })
  get(@CurrentOwner() owner: AuthenticatedOwner, @ValidParam('id', importJobIdSchema) id: string) {
    return this.rpc.call(contactsRpc.getImport, { ownerId: owner.id, jobId: id });
  }

  @Get(':id/events')
  @Endpoint({
    tag: 'contacts',
    summary: 'Follow an import as it runs (server-sent events)',
    description:
      'Every step of the import as one SSE event — `start` (logging in), `progress` (contacts read, then saved), `end` (done or failed) — with `id:` its sequence number and `data:` the step with the job as it stands after it. Steps that happened before the request come first, so a late client misses nothing; the stream ends after `end`.',
    status: 200,
    response: importFeedEventSchema,
    mediaType: 'text/event-stream',
    errors: ['not-found'],
  })
  async events(
    @CurrentOwner() owner: AuthenticatedOwner,
    @ValidParam('id', importJobIdSchema) id: string,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    // Subscribe before reading the past, so no step falls between the two.
    const live: ImportEvent[] = [];
    let wake: (() => void) | undefined;
    const subscription = this.bus.nc.subscribe(contactSubjects.importEvents(id), {
      callback: (error, msg) => {
        if (error) return;
        const parsed = importEventSchema.safeParse(msg.json());
        if (parsed.success) live.push(parsed.data);
        wake?.();
      },
    });
    let past: ImportEvent[];
    try {
      ({ events: past } = await this.rpc.call(contactsRpc.importEvents, { ownerId: owner.id, jobId: id }));
    } catch (error) {
      subscription.unsubscribe();
      throw error;
    }

    const res = startEventStream(reply);
    let closed = false;
    const end = () => {
      if (closed) return;
      closed = true;
      clearInterval(keepAlive);
      clearTimeout(limit);
      subscription.unsubscribe();
      this.open.delete(end);
      wake?.();
      if (!res.writableEnded) res.end();
    };
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
    const limit = setTimeout(end, MAX_FEED_MS);
    this.open.add(end);
    res.on('close', end);

    let lastSeq = 0;
    const send = (event: ImportEvent) => {
      if (event.seq <= lastSeq) return false;
      lastSeq = event.seq;
      res.write(`id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
      return event.type === 'end';
    };
    try {
      for (const event of past) if (send(event)) return end();
      while (!closed) {
        const next = live.shift();
        if (next) {
          if (next.seq > lastSeq + 1) {
            // A step missed on core NATS: read the past again and send what is missing, in order.
            const { events } = await this.rpc.call(contactsRpc.importEvents, {
              ownerId: owner.id,
              jobId: id,
            });
            for (const event of events) if (send(event)) return end();
          }
          if (send(next)) return end();
          continue;
        }
        await new Promise<void>((resolve) => (wake = resolve));
      }
    } catch (error) {
      logger().warn({ err: error, jobId: id }, 'import feed ended');
      end();
    }
  }

  /** Ends every open feed before the HTTP server closes, which would otherwise wait for them. */
  beforeApplicationShutdown(): void {
    for (const end of [...this.open]) end();
  }
}
