/**
 * GET /api/v1/conferences/{id}/events: the live feed of one of my conferences as server-sent events.
 * Ownership is conference-core's to say (its `get` answers not-found for someone else's
 * conference), checked before the stream opens, so a refusal is an ordinary problem answer.
 */
import { Get, Inject, Res, type BeforeApplicationShutdown } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { DomainError, JetStreamBus } from '@parley/bus';
import { conferencesRpc, type ConferenceEventV1 } from '@parley/contracts';
import { logger } from '@parley/observability';
import type { AuthenticatedOwner } from '../auth/access-token.verifier.js';
import { CurrentOwner } from '../auth/current-owner.decorator.js';
import { conferenceIdParam } from '../conferences/conference-http.schemas.js';
import { CONFIG, type Config } from '../config.js';
import { ApiController, Endpoint, ValidHeader, ValidParam } from '../http/endpoint.decorators.js';
import { startEventStream } from '../http/event-stream.js';
import { RpcGateway } from '../http/rpc-gateway.js';
import { ConferenceFeed } from './conference-feed.js';
import { liveFeedMetrics } from './live-feed.metrics.js';
import { lastEventIdSchema, liveFeedEventSchema, type PresenceFeedEvent } from './live-feed.schemas.js';

/** How long a browser waits before reconnecting after the connection drops (SSE `retry:`). */
const RECONNECT_MS = 2_000;

@ApiController('conferences/:id/events')
export class LiveFeedController implements BeforeApplicationShutdown {
  private readonly open = new Set<() => void>();

  constructor(
    private readonly rpc: RpcGateway,
    private readonly bus: JetStreamBus,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  @Get()
  @Endpoint({
    tag: 'live feed',
    summary: 'The live feed of a conference (server-sent events)',
    description:
      'Each fact of the conference as it happens — messages, invitations, joins, leaves, pauses, start, end — as one SSE event: `event:` is its `type`, `id:` its `seq`, `data:` the fact as JSON (the same shape the archive exports). Presence changes of its participants come as `event: presence` without an id. To resume after a disconnect, send `Last-Event-ID` with the last id received: the facts after it follow, once each, in order (`0` replays every fact the bus still holds, 30 days); without it the feed starts with the next fact. A comment line (`: keep-alive`) is sent when nothing else has been for a while.',
    status: 200,
    response: liveFeedEventSchema,
    mediaType: 'text/event-stream',
    errors: ['not-found', 'unavailable'],
  })
  async events(
    @CurrentOwner() owner: AuthenticatedOwner,
    @ValidParam('id', conferenceIdParam) id: string,
    @ValidHeader('Last-Event-ID', lastEventIdSchema) after: number | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await this.rpc.call(conferencesRpc.get, { ownerId: owner.id, conferenceId: id });
    const { participants } = await this.rpc.call(conferencesRpc.listParticipants, {
      ownerId: owner.id,
      conferenceId: id,
    });
    const feed = new ConferenceFeed(this.bus, id, after, participants);
    try {
      await feed.open();
    } catch (error) {
      feed.stop();
      logger().error({ err: error, conferenceId: id }, 'live feed could not open its consumers');
      throw new DomainError('unavailable', 'the live feed is unavailable; try again');
    }

    // From here on the answer is ours, written as the events come.
    const res = startEventStream(reply);
    let lastWrite = Date.now();
    const write = (chunk: string): Promise<void> => {
      lastWrite = Date.now();
      if (res.write(chunk)) return Promise.resolve();
      return new Promise((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    };
    const keepAlive = setInterval(() => {
      if (Date.now() - lastWrite >= this.config.PARLEY_FEED_KEEPALIVE_MS / 2) void write(': keep-alive\n\n');
    }, this.config.PARLEY_FEED_KEEPALIVE_MS / 2);
    const end = () => {
      clearInterval(keepAlive);
      clearTimeout(expiry);
      feed.stop();
      if (this.open.delete(end)) liveFeedMetrics.open.dec();
      if (!res.writableEnded) res.end();
    };
    // The token that opened the feed is its only credential: when it expires the feed ends, and the
    // client's reconnect has to bring a valid one.
    const expiry = setTimeout(end, Math.max(0, owner.expiresAt - Date.now()));
    this.open.add(end);
    liveFeedMetrics.open.inc();
    res.on('close', end);
    await write(`retry: ${RECONNECT_MS}\n: live feed of ${id}\n\n`);

    feed
      .run({
        fact: (event: ConferenceEventV1) => {
          liveFeedMetrics.sent.inc({ kind: 'fact' });
          return write(`id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
        },
        presence: (event: PresenceFeedEvent) => {
          liveFeedMetrics.sent.inc({ kind: 'presence' });
          return write(`event: presence\ndata: ${JSON.stringify(event)}\n\n`);
        },
      })
      .catch((error: unknown) => logger().warn({ err: error, conferenceId: id }, 'live feed ended'))
      // The bus went away or the feed failed: end the answer, the client reconnects with Last-Event-ID.
      .finally(end);
  }

  /** Ends every open feed before the HTTP server closes, which would otherwise wait for them. */
  beforeApplicationShutdown(): void {
    for (const end of [...this.open]) end();
  }
}
