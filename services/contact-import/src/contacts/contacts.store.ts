/**
 * All SQL of contact-import: saved contacts, import jobs and their progress events (schema
 * `contacts`). Every query is scoped by owner; ids of another owner read as absent.
 */
import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import {
  uuidv7,
  type ContactView,
  type ImportEvent,
  type ImportFailureCode,
  type ImportJobView,
  type Network,
} from '@parley/contracts';
import type { ContactListChanges, SavedContact } from './contact-list.rules.js';

interface ContactRow {
  id: string;
  network: Network;
  address: string;
  name: string | null;
  groups: string[];
  im_account_id: string;
  updated_at: Date;
}

interface JobRow {
  id: string;
  owner_id: string;
  im_account_id: string;
  network: Network;
  address: string;
  state: ImportJobView['state'];
  contacts_read: number;
  contacts_saved: number;
  added: number | null;
  changed: number | null;
  removed: number | null;
  unchanged: number | null;
  failure_code: ImportFailureCode | null;
  failure_message: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const toContactView = (row: ContactRow): ContactView => ({
  id: row.id,
  network: row.network,
  address: row.address,
  name: row.name,
  groups: row.groups,
  imAccountId: row.im_account_id,
  updatedAt: row.updated_at.toISOString(),
});

const toJobView = (row: JobRow): ImportJobView => ({
  id: row.id,
  imAccountId: row.im_account_id,
  network: row.network,
  address: row.address,
  state: row.state,
  contactsRead: row.contacts_read,
  contactsSaved: row.contacts_saved,
  counts:
    row.added === null
      ? null
      : { added: row.added, changed: row.changed!, removed: row.removed!, unchanged: row.unchanged! },
  failure: row.failure_code ? { code: row.failure_code, message: row.failure_message ?? '' } : null,
  createdAt: row.created_at.toISOString(),
  startedAt: row.started_at?.toISOString() ?? null,
  finishedAt: row.finished_at?.toISOString() ?? null,
});

/** `%` and `_` are literal in a free-text search. */
const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** A job left queued or running this long was lost with the process that ran it. */
export const STALE_JOB_MS = 10 * 60_000;

export interface JobUpdate {
  state?: ImportJobView['state'];
  contactsRead?: number;
  contactsSaved?: number;
  counts?: { added: number; changed: number; removed: number; unchanged: number };
  failure?: { code: ImportFailureCode; message: string };
}

@Injectable()
export class ContactsStore {
  constructor(private readonly dataSource: DataSource) {}

  // ---- contacts -------------------------------------------------------------------------------

  async list(
    ownerId: string,
    filter: { network?: Network; group?: string; q?: string; limit: number },
  ): Promise<ContactView[]> {
    const where = ['owner_id = $1'];
    const params: unknown[] = [ownerId];
    if (filter.network) {
      params.push(filter.network);
      where.push(`network = $${params.length}`);
    }
    if (filter.group) {
      params.push(filter.group);
      // `@>` is what the GIN index on groups serves.
      where.push(`groups @> ARRAY[$${params.length}]::text[]`);
    }
    if (filter.q) {
      params.push(likePattern(filter.q));
      where.push(`(address ILIKE $${params.length} OR name ILIKE $${params.length})`);
    }
    params.push(filter.limit);
    const rows: ContactRow[] = await this.dataSource.query(
      `SELECT * FROM contacts WHERE ${where.join(' AND ')}
       ORDER BY lower(coalesce(name, address)), address LIMIT $${params.length}`,
      params,
    );
    return rows.map(toContactView);
  }

  async byIds(ownerId: string, ids: string[]): Promise<ContactView[]> {
    const rows: ContactRow[] = await this.dataSource.query(
      'SELECT * FROM contacts WHERE owner_id = $1 AND id = ANY ($2::uuid[])',
      [ownerId, ids],
    );
    return rows.map(toContactView);
  }

  async byAddress(ownerId: string, network: Network, address: string): Promise<ContactView | null> {
    const rows: ContactRow[] = await this.dataSource.query(
      'SELECT * FROM contacts WHERE owner_id = $1 AND network = $2 AND address = $3',
      [ownerId, network, address],
    );
    return rows[0] ? toContactView(rows[0]) : null;
  }

  async ownersWithContact(network: Network, address: string): Promise<string[]> {
    const rows: Array<{ owner_id: string }> = await this.dataSource.query(
      'SELECT DISTINCT owner_id FROM contacts WHERE network = $1 AND address = $2 ORDER BY owner_id',
      [network, address],
    );
    return rows.map((r) => r.owner_id);
  }

  /** Runs `fn` in one transaction that holds the owner's contact list (one import writes it at a time). */
  inOwnerLock<T>(ownerId: string, fn: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query("SELECT pg_advisory_xact_lock(hashtext('contacts:' || $1))", [ownerId]);
      return fn(manager);
    });
  }

  /** The saved contacts an import of `imAccountId` may touch: listed addresses, and its own. */
  async savedFor(
    manager: EntityManager,
    ownerId: string,
    network: Network,
    imAccountId: string,
    addresses: string[],
  ): Promise<SavedContact[]> {
    const rows: ContactRow[] = await manager.query(
      `SELECT * FROM contacts WHERE owner_id = $1 AND network = $2
         AND (address = ANY ($3::text[]) OR im_account_id = $4)`,
      [ownerId, network, addresses, imAccountId],
    );
    return rows.map((r) => ({
      id: r.id,
      address: r.address,
      name: r.name,
      groups: r.groups,
      imAccountId: r.im_account_id,
    }));
  }

  async insertContacts(
    manager: EntityManager,
    ownerId: string,
    network: Network,
    imAccountId: string,
    contacts: ContactListChanges['add'],
  ): Promise<void> {
    if (contacts.length === 0) return;
    await manager.query(
      `INSERT INTO contacts (id, owner_id, network, address, name, groups, im_account_id)
       SELECT c.id, $1, $2, c.address, c.name, c.groups, $3
       FROM jsonb_to_recordset($4::jsonb) AS c(id uuid, address text, name text, groups text[])`,
      [
        ownerId,
        network,
        imAccountId,
        // PostgreSQL ≥ 10 turns JSON arrays into array columns.
        JSON.stringify(contacts.map((c) => ({ id: uuidv7(), ...c }))),
      ],
    );
  }

  async updateContacts(
    manager: EntityManager,
    imAccountId: string,
    contacts: ContactListChanges['update'],
  ): Promise<void> {
    if (contacts.length === 0) return;
    await manager.query(
      `UPDATE contacts SET name = c.name, groups = c.groups, im_account_id = $1, updated_at = now()
       FROM jsonb_to_recordset($2::jsonb) AS c(id uuid, name text, groups text[])
       WHERE contacts.id = c.id`,
      [imAccountId, JSON.stringify(contacts.map((c) => ({ id: c.id, name: c.name, groups: c.groups })))],
    );
  }

  async removeContacts(manager: EntityManager, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await manager.query('DELETE FROM contacts WHERE id = ANY ($1::uuid[])', [ids]);
  }

  // ---- import jobs ----------------------------------------------------------------------------

  /** A new queued job, or null when the account has an import queued or running already. */
  async createJob(job: {
    ownerId: string;
    imAccountId: string;
    network: Network;
    address: string;
  }): Promise<ImportJobView | null> {
    return this.dataSource.transaction(async (manager) => {
      // An import lost with its process must not block the account for ever.
      await manager.query(
        `UPDATE import_jobs SET state = 'failed', failure_code = 'interrupted',
           failure_message = 'the import was interrupted; start it again', finished_at = now()
         WHERE im_account_id = $1 AND state IN ('queued', 'running')
           AND created_at < now() - make_interval(secs => $2)`,
        [job.imAccountId, STALE_JOB_MS / 1000],
      );
      const rows: JobRow[] = await manager.query(
        `INSERT INTO import_jobs (id, owner_id, im_account_id, network, address, state)
         VALUES ($1, $2, $3, $4, $5, 'queued')
         ON CONFLICT (im_account_id) WHERE state IN ('queued', 'running') DO NOTHING
         RETURNING *`,
        [uuidv7(), job.ownerId, job.imAccountId, job.network, job.address],
      );
      return rows[0] ? toJobView(rows[0]) : null;
    });
  }

  async activeJobOf(imAccountId: string): Promise<string | null> {
    const rows: Array<{ id: string }> = await this.dataSource.query(
      "SELECT id FROM import_jobs WHERE im_account_id = $1 AND state IN ('queued', 'running')",
      [imAccountId],
    );
    return rows[0]?.id ?? null;
  }

  async job(ownerId: string, jobId: string): Promise<ImportJobView | null> {
    const rows: JobRow[] = await this.dataSource.query(
      'SELECT * FROM import_jobs WHERE owner_id = $1 AND id = $2',
      [ownerId, jobId],
    );
    return rows[0] ? toJobView(rows[0]) : null;
  }

  /** Applies `update` to the job and records the event it makes, in one transaction. */
  async advance(jobId: string, type: ImportEvent['type'], update: JobUpdate): Promise<ImportEvent> {
    return this.dataSource.transaction(async (manager) => {
      // TypeORM answers an UPDATE … RETURNING as [rows, affected].
      const [rows]: [JobRow[], number] = await manager.query(
        `UPDATE import_jobs SET
           state = coalesce($2, state),
           contacts_read = coalesce($3, contacts_read),
           contacts_saved = coalesce($4, contacts_saved),
           added = coalesce($5, added), changed = coalesce($6, changed),
           removed = coalesce($7, removed), unchanged = coalesce($8, unchanged),
           failure_code = coalesce($9, failure_code), failure_message = coalesce($10, failure_message),
           started_at = CASE WHEN $2 = 'running' THEN now() ELSE started_at END,
           finished_at = CASE WHEN $2 IN ('done', 'failed') THEN now() ELSE finished_at END
         WHERE id = $1 RETURNING *`,
        [
          jobId,
          update.state ?? null,
          update.contactsRead ?? null,
          update.contactsSaved ?? null,
          update.counts?.added ?? null,
          update.counts?.changed ?? null,
          update.counts?.removed ?? null,
          update.counts?.unchanged ?? null,
          update.failure?.code ?? null,
          update.failure?.message ?? null,
        ],
      );
      const next: Array<{ seq: number }> = await manager.query(
        'SELECT coalesce(max(seq), 0) + 1 AS seq FROM import_events WHERE job_id = $1',
        [jobId],
      );
      const seq = Number(next[0]!.seq);
      const event: ImportEvent = {
        jobId,
        seq,
        type,
        job: toJobView(rows[0]!),
        occurredAt: new Date().toISOString(),
      };
      await manager.query('INSERT INTO import_events (job_id, seq, event) VALUES ($1, $2, $3)', [
        jobId,
        seq,
        JSON.stringify(event),
      ]);
      return event;
    });
  }

  async events(jobId: string): Promise<ImportEvent[]> {
    const rows: Array<{ event: ImportEvent }> = await this.dataSource.query(
      'SELECT event FROM import_events WHERE job_id = $1 ORDER BY seq',
      [jobId],
    );
    return rows.map((r) => r.event);
  }

  /** Jobs a previous process left queued or running long ago (see STALE_JOB_MS). */
  async staleJobs(): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.dataSource.query(
      `SELECT id FROM import_jobs WHERE state IN ('queued', 'running')
         AND created_at < now() - make_interval(secs => $1)`,
      [STALE_JOB_MS / 1000],
    );
    return rows.map((r) => r.id);
  }
}
