/**
 * Request/reply contracts of the archive area (v1): reading a conference's archived events (last N,
 * time window, keyset pages, full-text search, export pages, per-participant counts), the bot's
 * `/history` and `/search` answers, and per-conference archive settings (retention, language).
 * Every answer lists events in seq order; an event is the CONF_EVENTS message exactly as archived.
 * An answer stays under 512 KiB (NATS max_payload is 1 MiB): it may carry fewer events than `limit`
 * (pages then simply continue at `nextCursor`; latest-N answers keep the newest).
 */
import { z } from 'zod';
import { conferenceEventV1Schema, conferenceIdSchema, identitySchema } from './messages.v1.js';
import { defineRpc } from './rpc.js';

/** An archived event: the CONF_EVENTS message as conference-core published it. */
export const archivedEventSchema = conferenceEventV1Schema;
export type ArchivedEvent = z.infer<typeof archivedEventSchema>;

/** Most events one query answer carries; larger reads page with a cursor. */
export const ARCHIVE_MAX_PAGE = 1_000;

/** PostgreSQL text-search configurations a conference may pick as its language (besides `simple`). */
export const ARCHIVE_LANGUAGES = [
  'arabic',
  'armenian',
  'basque',
  'catalan',
  'danish',
  'dutch',
  'english',
  'finnish',
  'french',
  'german',
  'greek',
  'hindi',
  'hungarian',
  'indonesian',
  'irish',
  'italian',
  'lithuanian',
  'nepali',
  'norwegian',
  'portuguese',
  'romanian',
  'russian',
  'serbian',
  'spanish',
  'swedish',
  'tamil',
  'turkish',
  'yiddish',
] as const;
export const archiveLanguageSchema = z.enum(ARCHIVE_LANGUAGES);
export type ArchiveLanguage = z.infer<typeof archiveLanguageSchema>;

const limit = (fallback: number) => z.number().int().min(1).max(ARCHIVE_MAX_PAGE).default(fallback);
const instant = z.iso.datetime({ offset: true });
/** Only `message-accepted` events (true), or messages and notices alike (false, the default). */
const messagesOnly = z.boolean().default(false);
/** Opaque keyset cursor handed out as `nextCursor`; only meaningful for the same conference. */
const cursor = z.string().min(1).max(200);

/** The most recent `limit` events, in seq order. */
export const archiveLastRpc = defineRpc(
  'archive',
  'last',
  z.object({ conferenceId: conferenceIdSchema, limit: limit(20), messagesOnly }),
  z.object({ events: z.array(archivedEventSchema) }),
);

/**
 * Events with since ≤ occurredAt < until. When more than `limit` match, the latest `limit` are
 * returned and `truncated` is true; `total` counts every match.
 */
export const archiveWindowRpc = defineRpc(
  'archive',
  'window',
  z.object({
    conferenceId: conferenceIdSchema,
    since: instant.optional(),
    until: instant.optional(),
    limit: limit(100),
    messagesOnly,
  }),
  z.object({ events: z.array(archivedEventSchema), total: z.number().int(), truncated: z.boolean() }),
);

/**
 * Keyset pages in seq order (the owner's history endpoint): filters since/until/q, `cursor` from the
 * previous page's `nextCursor`; `nextCursor` is null on the last page. With `q` only messages match.
 */
export const archivePageRpc = defineRpc(
  'archive',
  'page',
  z.object({
    conferenceId: conferenceIdSchema,
    since: instant.optional(),
    until: instant.optional(),
    q: z.string().trim().min(1).max(500).optional(),
    limit: limit(100),
    cursor: cursor.optional(),
    messagesOnly,
  }),
  z.object({ events: z.array(archivedEventSchema), nextCursor: cursor.nullable() }),
);

/**
 * Full-text search over message bodies (PostgreSQL `simple` config, plus the conference's language
 * when set). The latest `limit` matches in seq order; `total` counts every match.
 */
export const archiveSearchRpc = defineRpc(
  'archive',
  'search',
  z.object({ conferenceId: conferenceIdSchema, q: z.string().trim().min(1).max(500), limit: limit(20) }),
  z.object({ events: z.array(archivedEventSchema), total: z.number().int(), truncated: z.boolean() }),
);

/**
 * The whole archive, page by page (every event type, seq order): call again with `nextCursor` until
 * it is null. The api-gateway streams the pages as NDJSON, one event per line.
 */
export const archiveExportRpc = defineRpc(
  'archive',
  'export',
  z.object({ conferenceId: conferenceIdSchema, cursor: cursor.optional(), limit: limit(500) }),
  z.object({ events: z.array(archivedEventSchema), nextCursor: cursor.nullable() }),
);

/** Messages sent per participant (identity), most active first. */
export const archiveCountsRpc = defineRpc(
  'archive',
  'counts',
  z.object({ conferenceId: conferenceIdSchema }),
  z.object({
    participants: z.array(
      identitySchema.extend({
        displayName: z.string(),
        messages: z.number().int(),
        lastMessageAt: instant,
      }),
    ),
  }),
);

export const archiveSettingsSchema = z.object({
  conferenceId: conferenceIdSchema,
  /** Events older than this are deleted by the retention job; null keeps them forever. */
  retentionSeconds: z.number().int().positive().nullable(),
  /** Text-search language used beside `simple`; null = `simple` only. */
  language: archiveLanguageSchema.nullable(),
});
export type ArchiveSettings = z.infer<typeof archiveSettingsSchema>;

export const archiveGetSettingsRpc = defineRpc(
  'archive',
  'get-settings',
  z.object({ conferenceId: conferenceIdSchema }),
  archiveSettingsSchema,
);

/** Changes the given settings (absent fields keep their value); answers the settings now in force. */
export const archiveSetSettingsRpc = defineRpc(
  'archive',
  'set-settings',
  z.object({
    conferenceId: conferenceIdSchema,
    retentionSeconds: z
      .number()
      .int()
      .positive()
      .max(100 * 365 * 86_400)
      .nullable()
      .optional(),
    language: archiveLanguageSchema.nullable().optional(),
  }),
  archiveSettingsSchema,
);

/** What the bot says back: one or a few message bodies (lines joined by `\n`), plus the lines. */
const botAnswer = z.object({ messages: z.array(z.string()), lines: z.array(z.string()) });

/**
 * The bot's `/history [args]` for one participant: `args` is the text after the command (`""`,
 * `"20"`, `"5 hours"`, …). Without args: the messages since the participant last left (capped), or
 * the last 20. A malformed argument is answered with one explanatory line (not an RPC error).
 */
export const archiveHistoryCommandRpc = defineRpc(
  'archive',
  'history-command',
  z.object({ conferenceId: conferenceIdSchema, participant: identitySchema, args: z.string().max(200) }),
  botAnswer,
);

/** The bot's `/search <words>`: the latest matching messages, formatted like history lines. */
export const archiveSearchCommandRpc = defineRpc(
  'archive',
  'search-command',
  z.object({ conferenceId: conferenceIdSchema, args: z.string().max(500) }),
  botAnswer,
);
