/**
 * Import jobs: queue an import of one of the owner's IM accounts, then run it — read the account's
 * credentials from accounts (decrypted for this import only, held in memory until the gateway's
 * request is sent, never logged), ask the network's gateway for the contact list, and save it
 * (added, changed, removed; never duplicated). Each step is recorded as an event of the job and
 * published on core NATS for the live progress feed (`contactSubjects.importEvents`).
 *
 * A job runs in the process that queued it; one lost with its process is failed as `interrupted`
 * when it is found (start-up, or the next import of the account).
 */
import { Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DomainError, JetStreamBus, RpcClient } from '@parley/bus';
import {
  accountsRpc,
  contactSubjects,
  FETCH_CONTACTS_TIMEOUT_MS,
  gatewayContactsRpc,
  type FetchContactsResponse,
  type ImportEvent,
  type ImportJobView,
  type Network,
} from '@parley/contracts';
import { logger } from '@parley/observability';
import { diffContactList, normalizeContactList } from '../contacts/contact-list.rules.js';
import { ContactsStore, type JobUpdate } from '../contacts/contacts.store.js';

/** Saved contacts are written in batches of this size, with a progress event after each. */
const SAVE_BATCH = 100;

@Injectable()
export class ImportService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly store: ContactsStore,
    private readonly rpc: RpcClient,
    private readonly bus: JetStreamBus,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    for (const jobId of await this.store.staleJobs()) {
      await this.step(jobId, 'end', {
        state: 'failed',
        failure: { code: 'interrupted', message: 'the import was interrupted; start it again' },
      });
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }

  /** Queues an import of `imAccountId` and starts it; answers the queued job. */
  async start(ownerId: string, imAccountId: string): Promise<ImportJobView> {
    let account: { network: Network; address: string; password: string };
    try {
      account = await this.rpc.call(accountsRpc.imAccountCredentials, { ownerId, imAccountId });
    } catch (error) {
      if (error instanceof DomainError && error.code === 'not-found') {
        throw new DomainError('not-found', 'no such IM account', 'imAccountId');
      }
      if (error instanceof DomainError) throw error;
      logger().error(
        { error: (error as Error)?.name, reason: (error as Error)?.message },
        'accounts did not answer',
      );
      throw new DomainError('unavailable', 'the accounts service did not answer; try again later');
    }
    const job = await this.store.createJob({
      ownerId,
      imAccountId,
      network: account.network,
      address: account.address,
    });
    if (!job) {
      const active = await this.store.activeJobOf(imAccountId);
      throw new DomainError('conflict', `an import of this account is already running (import ${active})`);
    }
    const run = this.run(ownerId, job, account.password)
      .catch((error: unknown) => logger().error({ err: error, jobId: job.id }, 'import could not be ended'))
      .finally(() => this.running.delete(run));
    this.running.add(run);
    return job;
  }

  async get(ownerId: string, jobId: string): Promise<ImportJobView> {
    const job = await this.store.job(ownerId, jobId);
    if (!job) throw new DomainError('not-found', 'no such import', 'jobId');
    return job;
  }

  async events(ownerId: string, jobId: string): Promise<ImportEvent[]> {
    await this.get(ownerId, jobId);
    return this.store.events(jobId);
  }

  private async run(ownerId: string, job: ImportJobView, password: string): Promise<void> {
    try {
      await this.execute(ownerId, job, password);
    } catch (error) {
      // Never left "running": a failure of our own ends the job with a reason too.
      logger().error({ err: error, jobId: job.id }, 'import failed');
      await this.step(job.id, 'end', {
        state: 'failed',
        failure: { code: 'internal', message: 'the import failed on our side; try again later' },
      });
    }
  }

  private async execute(ownerId: string, job: ImportJobView, password: string): Promise<void> {
    const log = logger().child({ jobId: job.id, network: job.network, address: job.address });
    await this.step(job.id, 'start', { state: 'running' });
    let answer: FetchContactsResponse;
    try {
      answer = await this.rpc.call(
        gatewayContactsRpc(job.network).fetchContacts,
        { address: job.address, password },
        FETCH_CONTACTS_TIMEOUT_MS,
      );
    } catch (error) {
      log.warn({ error: (error as Error).name, reason: (error as Error).message }, 'gateway did not answer');
      await this.step(job.id, 'end', {
        state: 'failed',
        failure: { code: 'internal', message: `the ${job.network} gateway did not answer; try again later` },
      });
      return;
    }
    if (answer.outcome === 'failed') {
      log.info({ code: answer.code }, 'import failed');
      const message = answer.code === 'not-supported' ? `not supported: ${answer.message}` : answer.message;
      await this.step(job.id, 'end', { state: 'failed', failure: { code: answer.code, message } });
      return;
    }
    const list = normalizeContactList(job.network, answer.contacts);
    await this.step(job.id, 'progress', { contactsRead: list.length });

    const counts = await this.store.inOwnerLock(ownerId, async (manager) => {
      const saved = await this.store.savedFor(
        manager,
        ownerId,
        job.network,
        job.imAccountId,
        list.map((c) => c.address),
      );
      const changes = diffContactList(job.network, job.imAccountId, saved, answer.contacts);
      await this.store.removeContacts(manager, changes.remove);
      let done = list.length - changes.add.length - changes.update.length;
      for (let i = 0; i < changes.update.length; i += SAVE_BATCH) {
        const batch = changes.update.slice(i, i + SAVE_BATCH);
        await this.store.updateContacts(manager, job.imAccountId, batch);
        done += batch.length;
        await this.step(job.id, 'progress', { contactsSaved: done });
      }
      for (let i = 0; i < changes.add.length; i += SAVE_BATCH) {
        const batch = changes.add.slice(i, i + SAVE_BATCH);
        await this.store.insertContacts(manager, ownerId, job.network, job.imAccountId, batch);
        done += batch.length;
        await this.step(job.id, 'progress', { contactsSaved: done });
      }
      return {
        added: changes.add.length,
        changed: changes.update.filter((u) => u.isChange).length,
        removed: changes.remove.length,
        unchanged: changes.unchanged,
      };
    });
    log.info(counts, 'import done');
    await this.step(job.id, 'end', { state: 'done', contactsSaved: list.length, counts });
  }

  /** Records a step of the job and publishes it for the live feed. */
  private async step(jobId: string, type: ImportEvent['type'], update: JobUpdate): Promise<void> {
    const event = await this.store.advance(jobId, type, update);
    // Core NATS, at most once: a subscriber that misses one reads it back with `importEvents`.
    this.bus.nc.publish(contactSubjects.importEvents(jobId), JSON.stringify(event));
  }
}
