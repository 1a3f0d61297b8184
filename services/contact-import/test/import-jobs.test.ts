/**
 * contact-import on its own against the real NATS and PostgreSQL: what its RPCs answer without an
 * import having run, and how it ends a job its previous process left running (the process died
 * mid-import: the job must not stay "running" for ever, nor block the account's next import).
 */
import { randomUUID } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainError, RpcClient } from '@parley/bus';
import { contactsRpc } from '@parley/contracts';
import { serviceTestEnv, startTestService, testEnv, testSchema } from '@parley/testing';
import { AppModule } from '../src/app.module.js';
import { loadServiceConfig } from '../src/config.js';

let service: NestFastifyApplication | undefined;
let rpc: RpcClient;
let db: pg.Client;

const start = () =>
  startTestService('contact-import', AppModule.forRoot(loadServiceConfig(serviceTestEnv('contact-import'))));

beforeAll(async () => {
  service = await start();
  rpc = RpcClient.create(testEnv.natsUrl());
  await rpc.connect();
  db = new pg.Client({ connectionString: testEnv.databaseUrl() });
  await db.connect();
});

afterAll(async () => {
  await service?.close();
  await rpc?.close();
  await db?.end();
});

const remoteError = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (error: unknown) => {
      expect(error).toBeInstanceOf(DomainError);
      return error as DomainError;
    },
  );

describe('contact-import', () => {
  it('answers an owner with no contacts: an empty list, nobody is a contact, unknown ids resolve to nothing', async () => {
    const ownerId = randomUUID();
    expect(await rpc.call(contactsRpc.list, { ownerId, limit: 10 })).toEqual({ items: [] });
    expect(
      await rpc.call(contactsRpc.isContact, { ownerId, network: 'xmpp', address: 'bob@example.org' }),
    ).toEqual({ isContact: false });
    expect(await rpc.call(contactsRpc.resolve, { ownerId, contactIds: [randomUUID()] })).toEqual({
      contacts: [],
    });
    expect((await remoteError(rpc.call(contactsRpc.getImport, { ownerId, jobId: randomUUID() }))).code).toBe(
      'not-found',
    );
  });

  it('rejects a malformed request naming the field', async () => {
    const error = await remoteError(
      rpc.call(contactsRpc.isContact, { ownerId: randomUUID(), network: 'xmpp', address: '' }),
    );
    expect(error).toMatchObject({ code: 'validation-failed', field: 'address' });
  });

  it('ends an import its previous process left running as "interrupted", with an end event', async () => {
    const ownerId = randomUUID();
    const jobId = randomUUID();
    const schema = testSchema('contact-import');
    // What a process killed mid-import leaves behind: a job running for longer than any import takes.
    await db.query(
      `INSERT INTO ${schema}.import_jobs (id, owner_id, im_account_id, network, address, state, created_at, started_at)
       VALUES ($1, $2, $3, 'xmpp', 'owner@example.org', 'running', now() - interval '1 hour', now() - interval '1 hour')`,
      [jobId, ownerId, randomUUID()],
    );
    await service!.close();
    service = await start();

    const job = await rpc.call(contactsRpc.getImport, { ownerId, jobId });
    expect(job).toMatchObject({
      state: 'failed',
      failure: { code: 'interrupted', message: 'the import was interrupted; start it again' },
    });
    expect(job.finishedAt).not.toBeNull();
    const { events } = await rpc.call(contactsRpc.importEvents, { ownerId, jobId });
    expect(events.map((e) => [e.seq, e.type, e.job.state])).toEqual([[1, 'end', 'failed']]);
    // Another owner does not see it.
    expect(
      (await remoteError(rpc.call(contactsRpc.importEvents, { ownerId: randomUUID(), jobId }))).code,
    ).toBe('not-found');
  });
});
