/**
 * /api/v1/conferences/{id}/history: the owner reads, searches and exports a conference's archive.
 * Ownership is conference-core's to say (its `get` answers not-found for someone else's
 * conference); only then is the archive asked, which knows conferences but not owners.
 */
import { Get, Header } from '@nestjs/common';
import { archiveExportRpc, archivedEventSchema, archivePageRpc, conferencesRpc } from '@parley/contracts';
import type { AuthenticatedOwner } from '../auth/access-token.verifier.js';
import { CurrentOwner } from '../auth/current-owner.decorator.js';
import { conferenceIdParam } from '../conferences/conference-http.schemas.js';
import { ApiController, Endpoint, ValidParam, ValidQuery } from '../http/endpoint.decorators.js';
import { RpcGateway } from '../http/rpc-gateway.js';
import { historyQuerySchema, type HistoryQuery } from './history-query.schema.js';

/** Events per export page: well under the archive's page limit and NATS's payload cap. */
const EXPORT_PAGE = 500;

@ApiController('conferences/:id/history')
export class HistoryController {
  constructor(private readonly rpc: RpcGateway) {}

  private async checkOwner(ownerId: string, conferenceId: string): Promise<void> {
    await this.rpc.call(conferencesRpc.get, { ownerId, conferenceId });
  }

  @Get()
  @Endpoint({
    tag: 'history',
    summary: 'Read or search the archive, page by page in seq order',
    description:
      'Messages and notices (joined, left, …) in the order the conference accepted them. Follow `nextCursor` (null on the last page) with the same filters. With `q` only messages whose words match are returned.',
    status: 200,
    response: archivePageRpc.response,
    errors: ['not-found', 'unavailable'],
  })
  async page(
    @CurrentOwner() owner: AuthenticatedOwner,
    @ValidParam('id', conferenceIdParam) id: string,
    @ValidQuery(historyQuerySchema) query: HistoryQuery,
  ) {
    await this.checkOwner(owner.id, id);
    return this.rpc.call(archivePageRpc, { conferenceId: id, ...query });
  }

  @Get('export')
  @Header('Content-Type', 'application/x-ndjson; charset=utf-8')
  @Endpoint({
    tag: 'history',
    summary: 'The whole archive as NDJSON: one event per line, in seq order',
    description:
      'Streamed page by page from the archive while the client reads (never held in memory whole). An empty archive is an empty body. If the archive fails mid-way the connection is cut, so a download without its final newline is incomplete.',
    status: 200,
    response: archivedEventSchema,
    mediaType: 'application/x-ndjson',
    errors: ['not-found', 'unavailable'],
  })
  async export(@CurrentOwner() owner: AuthenticatedOwner, @ValidParam('id', conferenceIdParam) id: string) {
    await this.checkOwner(owner.id, id);
    return this.exportPages(id);
  }

  /**
   * One chunk per archive page. Nest streams an async iterable with backpressure and waits for the
   * first chunk before sending headers, so a failure on the first page is still a problem answer.
   */
  private async *exportPages(conferenceId: string): AsyncGenerator<string> {
    let cursor: string | undefined;
    do {
      const page = await this.rpc.call(archiveExportRpc, {
        conferenceId,
        limit: EXPORT_PAGE,
        ...(cursor ? { cursor } : {}),
      });
      if (page.events.length > 0) yield page.events.map((event) => `${JSON.stringify(event)}\n`).join('');
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }
}
