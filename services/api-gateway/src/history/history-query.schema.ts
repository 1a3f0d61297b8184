/**
 * The query of the owner's history endpoint: a time window, full-text words and keyset paging,
 * with the archive's own limits (`archivePageRpc`). Query values arrive as strings, so `limit` is
 * coerced; unknown parameters are rejected like unknown body fields.
 */
import { z } from 'zod';
import { ARCHIVE_MAX_PAGE, archivePageRpc } from '@parley/contracts';

const page = archivePageRpc.request.shape;

export const historyQuerySchema = z
  .strictObject({
    since: page.since.describe('only events at or after this instant (ISO 8601 with offset)'),
    until: page.until.describe('only events before this instant (ISO 8601 with offset)'),
    q: page.q.describe('full-text search words; only messages match'),
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(ARCHIVE_MAX_PAGE)
      .default(100)
      .describe(`events per page (1–${ARCHIVE_MAX_PAGE}); a page may carry fewer, follow nextCursor`),
    cursor: page.cursor.describe('the nextCursor of the previous page'),
  })
  .refine((query) => !query.since || !query.until || Date.parse(query.since) <= Date.parse(query.until), {
    message: 'until must not be before since',
    path: ['until'],
  });
export type HistoryQuery = z.infer<typeof historyQuerySchema>;
