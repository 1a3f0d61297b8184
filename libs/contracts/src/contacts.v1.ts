/**
 * Contracts of contact import (v1): the owner's saved contacts and the import jobs that fill them
 * (answered by contact-import), the progress events of a job (core NATS, turned into server-sent
 * events by api-gateway), and the one request a network gateway answers for an import: fetch the
 * contact list of an account with its credentials (`gatewayContactsRpc(network).fetchContacts`).
 */
import { z } from 'zod';
import { accountsIdSchema } from './accounts.v1.js';
import { busPrefix } from './namespace.js';
import { networkSchema, type Network } from './networks.js';
import { defineRpc } from './rpc.js';

/** Contact ids per invitation request (`{contactIds}`), like the by-address form. */
export const MAX_CONTACT_IDS_PER_REQUEST = 500;
/** The most contacts one list answer carries. */
export const MAX_CONTACTS_PER_PAGE = 5_000;

const isoDate = z.iso.datetime({ offset: true });
const ownerId = accountsIdSchema;
export const contactIdSchema = z.uuid('a contact id is a UUID');
export const importJobIdSchema = z.uuid('an import id is a UUID');

/** One entry of a network's contact list, as a gateway reads it. */
export const rosterContactSchema = z.object({
  address: z.string().min(1).max(320),
  /** The name the owner gave the contact, if any. */
  name: z.string().max(200).optional(),
  groups: z.array(z.string().max(200)).max(100),
});
export type RosterContact = z.infer<typeof rosterContactSchema>;

/** A saved contact of an owner: unique per (owner, network, address). */
export const contactViewSchema = z.object({
  id: contactIdSchema,
  network: networkSchema,
  address: z.string(),
  name: z.string().nullable(),
  groups: z.array(z.string()),
  /** The IM account whose import saved (or last updated) it. */
  imAccountId: accountsIdSchema,
  updatedAt: isoDate,
});
export type ContactView = z.infer<typeof contactViewSchema>;

export const IMPORT_STATES = ['queued', 'running', 'done', 'failed'] as const;
export const importStateSchema = z.enum(IMPORT_STATES);

/**
 * Why an import failed, as a stable code; the job's `failure.message` says it to a person
 * ("wrong password", "server unreachable", "not supported: IRC has no contact lists").
 */
export const IMPORT_FAILURES = [
  'wrong-password',
  'server-unreachable',
  'not-supported',
  'account-not-found',
  'interrupted',
  'internal',
] as const;
export const importFailureCodeSchema = z.enum(IMPORT_FAILURES);
export type ImportFailureCode = z.infer<typeof importFailureCodeSchema>;

export const importJobViewSchema = z.object({
  id: importJobIdSchema,
  imAccountId: accountsIdSchema,
  network: networkSchema,
  /** The account's address (never its password). */
  address: z.string(),
  state: importStateSchema,
  /** Contacts read from the network so far. */
  contactsRead: z.number().int().min(0),
  /** Contacts saved so far (of `contactsRead`). */
  contactsSaved: z.number().int().min(0),
  /** What the import changed in the saved list; set when it is done. */
  counts: z
    .object({
      added: z.number().int().min(0),
      changed: z.number().int().min(0),
      removed: z.number().int().min(0),
      unchanged: z.number().int().min(0),
    })
    .nullable(),
  failure: z.object({ code: importFailureCodeSchema, message: z.string() }).nullable(),
  createdAt: isoDate,
  startedAt: isoDate.nullable(),
  finishedAt: isoDate.nullable(),
});
export type ImportJobView = z.infer<typeof importJobViewSchema>;

/**
 * One step of an import, in order (`seq` from 1): `start` (logging in), `progress` (contacts read,
 * then saved), `end` (done or failed). Every event carries the job as it is after the step.
 */
export const importEventSchema = z.object({
  jobId: importJobIdSchema,
  seq: z.number().int().min(1),
  type: z.enum(['start', 'progress', 'end']),
  job: importJobViewSchema,
  occurredAt: isoDate,
});
export type ImportEvent = z.infer<typeof importEventSchema>;

/**
 * Core NATS subjects of import progress (not a stream: contact-import keeps every job's events in
 * its own schema, and `contactsRpc.importEvents` replays them, so a late subscriber misses nothing).
 */
export const contactSubjects = {
  importEvents: (jobId: string) => `${busPrefix()}.contacts.imports.${jobId}`,
  importEventsAll: () => `${busPrefix()}.contacts.imports.*`,
};

// --- HTTP query and bodies ---------------------------------------------------------------------

export const contactListQuerySchema = z.strictObject({
  network: networkSchema.optional(),
  /** Contacts in this group (exact name). */
  group: z.string().trim().min(1).max(200).optional(),
  /** Free text: part of the address or the name, case-insensitive. */
  q: z.string().trim().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_CONTACTS_PER_PAGE).default(1_000),
});

export const contactIdsBodySchema = z.strictObject({
  contactIds: z.array(contactIdSchema).min(1).max(MAX_CONTACT_IDS_PER_REQUEST),
});

// --- RPCs (contact-import) -----------------------------------------------------------------------

const jobRef = z.strictObject({ ownerId, jobId: importJobIdSchema });

export const contactsRpc = {
  /** Queues an import of one of the owner's IM accounts; answers the job (state `queued`). */
  startImport: defineRpc(
    'contact-import',
    'imports.start',
    z.strictObject({ ownerId, imAccountId: accountsIdSchema }),
    importJobViewSchema,
  ),
  getImport: defineRpc('contact-import', 'imports.get', jobRef, importJobViewSchema),
  /** Every event of a job so far, in order (the SSE feed replays them before the live ones). */
  importEvents: defineRpc(
    'contact-import',
    'imports.events',
    jobRef,
    z.object({ events: z.array(importEventSchema) }),
  ),
  list: defineRpc(
    'contact-import',
    'contacts.list',
    contactListQuerySchema.extend({ ownerId }),
    z.object({ items: z.array(contactViewSchema) }),
  ),
  /** The owner's contacts among `contactIds` (unknown ids and other owners' are simply absent). */
  resolve: defineRpc(
    'contact-import',
    'contacts.resolve',
    z.strictObject({ ownerId, contactIds: contactIdsBodySchema.shape.contactIds }),
    z.object({ contacts: z.array(contactViewSchema) }),
  ),
  /**
   * Whether an address is among the owner's saved contacts (conference-core: the `owner-contacts`
   * join policy). Addresses are compared as `normalizeAddress` does.
   */
  isContact: defineRpc(
    'contact-import',
    'contacts.isContact',
    z.strictObject({ ownerId, network: networkSchema, address: z.string().min(1).max(1000) }),
    z.object({ isContact: z.boolean(), displayName: z.string().optional() }),
  ),
  /**
   * The owners who have this address among their saved contacts (conference-core: which
   * `owner-contacts` conferences an address may see in service discovery and join).
   */
  ownersWithContact: defineRpc(
    'contact-import',
    'contacts.ownersWithContact',
    z.strictObject({ network: networkSchema, address: z.string().min(1).max(1000) }),
    z.object({ ownerIds: z.array(accountsIdSchema) }),
  ),
};

// --- The gateways' part --------------------------------------------------------------------------

/** What a gateway answers to a fetch: the list, or why not, in words a person understands. */
export const fetchContactsResponseSchema = z.discriminatedUnion('outcome', [
  z.object({ outcome: z.literal('ok'), contacts: z.array(rosterContactSchema) }),
  z.object({
    outcome: z.literal('failed'),
    code: z.enum(['wrong-password', 'server-unreachable', 'not-supported']),
    message: z.string(),
  }),
]);
export type FetchContactsResponse = z.infer<typeof fetchContactsResponseSchema>;

/**
 * The RPC a network's gateway answers for contact import. The request carries the account's
 * decrypted password: contact-import reads it from accounts for this one request only (NATS
 * permissions let no other service ask for credentials), and nobody logs it.
 */
export function gatewayContactsRpc(network: Network) {
  return {
    fetchContacts: defineRpc(
      `gateway-${network}`,
      'fetchContacts',
      z.strictObject({
        address: z.string().min(1).max(320),
        password: z.string().min(1).max(1024),
      }),
      fetchContactsResponseSchema,
    ),
  };
}

/** How long contact-import waits for a gateway's fetch (a login, a roster, a logout). */
export const FETCH_CONTACTS_TIMEOUT_MS = 60_000;
