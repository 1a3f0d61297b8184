/**
 * NATS security: the accounts config generated from libs/contracts, loaded by a real nats-server,
 * lets each service's user do exactly its bus work — and nothing outside it.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection, type PermissionViolationError } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { JetStreamBus, RpcClient } from '@parley/bus';
import { DeliveryProgressStore, openDeliveryProgressBucket } from '@parley/gateway-kit';
import {
  SERVICE_NAMES,
  STREAM_PROVISIONER,
  accountsRpc,
  conferencesRpc,
  contactSubjects,
  inboxPrefix,
  rpcSubject,
  consumers,
  natsAccountsConfig,
  natsPasswordVariable,
  newEnvelope,
  pingRpc,
  streams,
  subjects,
  type ServiceName,
} from '@parley/contracts';
import { testEnv, testSchema, waitFor } from '@parley/testing';
import { generateDevSecrets } from '../../scripts/lib/dev-secrets.mjs';
import {
  exitWithin,
  freePort,
  portOpen,
  repoRoot,
  spawnCollecting,
  startProsody,
  stop,
  type Spawned,
} from './helpers.js';

const NATS_SERVER = process.env.PARLEY_NATS_SERVER_BIN ?? '/usr/sbin/nats-server';

let dir: string;
let port: number;
let server: Spawned;
const passwords = Object.fromEntries(
  // nats-server parses a variable's value as a config token: a letter first keeps it a string.
  [...SERVICE_NAMES, 'admin' as const].map((user) => [user, `p${randomBytes(12).toString('hex')}`]),
) as Record<ServiceName | 'admin', string>;
const open: NatsConnection[] = [];

const urlFor = (user: ServiceName | 'admin') => `nats://${user}:${passwords[user]}@127.0.0.1:${port}`;

/** Connects as a user; a service's user gets its own inbox prefix, as the services' connections do. */
async function connectAs(user: ServiceName | 'admin', options: { inboxPrefix?: string } = {}) {
  const nc = await connect({
    servers: `127.0.0.1:${port}`,
    user,
    pass: passwords[user],
    inboxPrefix: options.inboxPrefix ?? (user === 'admin' ? undefined : inboxPrefix(user)),
  });
  open.push(nc);
  const violations: PermissionViolationError[] = [];
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'error' && status.error.name === 'PermissionViolationError') {
        violations.push(status.error as PermissionViolationError);
      }
    }
  })();
  const violated = (operation: string, subject: string) =>
    waitFor(`a permission violation for ${operation} to ${subject}`, () =>
      violations.find((v) => v.operation === operation && v.subject === subject),
    );
  return { nc, violations, violated };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'parley-nats-'));
  chmodSync(dir, 0o755); // the throwaway Prosody runs as its own user below
  port = await freePort();
  // Generated for this file's bus prefix, so subjects match the services started below.
  writeFileSync(path.join(dir, 'accounts.conf'), natsAccountsConfig());
  writeFileSync(
    path.join(dir, 'nats.conf'),
    `listen: "127.0.0.1:${port}"\njetstream { store_dir: "${dir}/js" }\ninclude ./accounts.conf\n`,
  );
  const env = Object.fromEntries(
    Object.entries(passwords).map(([user, pass]) => [natsPasswordVariable(user as ServiceName), pass]),
  );
  server = spawnCollecting(NATS_SERVER, ['-c', path.join(dir, 'nats.conf')], {
    env: { PATH: process.env.PATH, ...env },
  });
  await waitFor(
    `nats-server on port ${port}`,
    () => {
      if (server.child.exitCode !== null) throw new Error(`nats-server exited:\n${server.output()}`);
      return portOpen(port);
    },
    30_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message}; nats-server said:\n${server.output()}`, { cause: error });
  });
});

afterAll(async () => {
  await Promise.all(open.map((nc) => nc.close().catch(() => undefined)));
  await stop(server);
  rmSync(dir, { recursive: true, force: true });
});

describe('NATS permissions generated from the contracts', () => {
  it('keeps deploy/nats/accounts.conf identical to what the contracts generate', () => {
    const saved = process.env.PARLEY_BUS_PREFIX;
    process.env.PARLEY_BUS_PREFIX = 'parley';
    try {
      const committed = readFileSync(path.join(repoRoot, 'deploy/nats/accounts.conf'), 'utf8');
      expect(committed, 'run `node deploy/nats/generate.mjs` after changing the contracts').toBe(
        natsAccountsConfig(),
      );
    } finally {
      process.env.PARLEY_BUS_PREFIX = saved;
    }
  });

  it('refuses a user without the right password', async () => {
    await expect(connect({ servers: `127.0.0.1:${port}`, user: 'accounts', pass: 'wrong' })).rejects.toThrow(
      /authorization/i,
    );
  });

  it('lets only the stream provisioner create and change streams; the others may look them up', async () => {
    const provisioner = await connectAs(STREAM_PROVISIONER);
    await (await JetStreamBus.fromConnection(provisioner.nc)).ensureStreams();
    // Twice: the second run updates every stream in place.
    await (await JetStreamBus.fromConnection(provisioner.nc)).ensureStreams();
    expect(provisioner.violations).toEqual([]);

    const gateway = await connectAs('gateway-irc');
    const bus = await JetStreamBus.fromConnection(gateway.nc);
    await bus.checkStreams();
    const jsm = await jetstreamManager(gateway.nc, { timeout: 2_000 });
    const name = streams.confEvents().name;
    await expect(jsm.streams.update(name, { max_age: 1_000_000_000 })).rejects.toThrow();
    await gateway.violated('publish', `$JS.API.STREAM.UPDATE.${name}`);
    await expect(jsm.streams.add({ name: 'SNOOP', subjects: ['snoop.>'] })).rejects.toThrow();
    await gateway.violated('publish', '$JS.API.STREAM.CREATE.SNOOP');
    const admin = await jetstreamManager((await connectAs('admin')).nc);
    expect((await admin.streams.info(name)).config.max_age).not.toBe(1_000_000_000);
  });

  it('lets a gateway publish its inbound traffic, and nothing outside its subjects', async () => {
    const { nc, violated } = await connectAs('gateway-xmpp');
    const bus = await JetStreamBus.fromConnection(nc);
    await bus.checkStreams();
    const ack = await bus.js.publish(subjects.imInbound('xmpp', 'conf-1'), '{}', { msgID: 'm-1' });
    expect(ack.stream).toBe(streams.imInbound().name);

    nc.publish(subjects.confEvents('conf-1'), '{}');
    nc.publish(subjects.imInbound('irc', 'conf-1'), '{}');
    nc.publish(subjects.rpc('archive', 'history'), '{}');
    await violated('publish', subjects.confEvents('conf-1'));
    await violated('publish', subjects.imInbound('irc', 'conf-1'));
    await violated('publish', subjects.rpc('archive', 'history'));

    const admin = await connectAs('admin');
    const jsm = await jetstreamManager(admin.nc);
    expect((await jsm.streams.info(streams.confEvents().name)).state.messages).toBe(0);
    expect((await jsm.streams.info(streams.imInbound().name)).state.messages).toBe(1);
  });

  it('lets a gateway keep its delivery progress and bounced deliveries in its KV bucket', async () => {
    const { nc, violations } = await connectAs('gateway-irc');
    const bus = await JetStreamBus.fromConnection(nc);
    const store = new DeliveryProgressStore(await openDeliveryProgressBucket(bus), 'irc');
    await store.writeServed('fan-out-1', new Set([0, 2]), 3);
    expect(await store.served('fan-out-1', 3)).toEqual(new Set([0, 2]));
    const delivery = {
      ...newEnvelope(),
      deliveryId: 'fan-out-1:alice',
      network: 'irc' as const,
      conferenceId: 'conf-1',
      botName: 'Conf (parley)',
      to: 'alice',
      kind: 'message' as const,
      body: 'hello',
    };
    await store.keepBounced({
      delivery,
      bounces: 1,
      dueAt: Date.now(),
      reason: 'no-such-nick',
      firstBouncedAt: Date.now(),
    });
    expect((await store.allBounced()).map((b) => b.delivery.deliveryId)).toEqual(['fan-out-1:alice']);
    await store.forgetBounced('fan-out-1:alice');
    expect(await store.allBounced()).toEqual([]);
    expect(violations).toEqual([]);
  });

  it("does not let a service listen to another service's requests", async () => {
    const { nc, violated } = await connectAs('gateway-irc');
    nc.subscribe(subjects.rpc('accounts', '>'));
    await violated('subscription', subjects.rpc('accounts', '>'));
  });

  it("keeps owners' decrypted IM credentials to contact import, the one path that logs in as the owner", async () => {
    const subject = rpcSubject(accountsRpc.imAccountCredentials);
    const api = await connectAs('api-gateway');
    api.nc.publish(subject, '{}');
    await api.violated('publish', subject);
    // api-gateway may still call the rest of accounts.
    api.nc.publish(rpcSubject(accountsRpc.login), '{}');
    const importer = await connectAs('contact-import');
    importer.nc.publish(subject, '{}');
    await Promise.all([api.nc.flush(), importer.nc.flush()]);
    expect(api.violations.map((v) => v.subject)).toEqual([subject]);
    expect(importer.violations).toEqual([]);
  });

  it("does not let a gateway call the credentials request, nor subscribe to another service's replies", async () => {
    for (const network of ['xmpp', 'irc'] as const) {
      const gateway = await connectAs(`gateway-${network}`);
      const credentials = rpcSubject(accountsRpc.imAccountCredentials);
      gateway.nc.publish(credentials, '{}');
      await gateway.violated('publish', credentials);
      // Nor any other request of accounts: a gateway has no business there.
      gateway.nc.publish(rpcSubject(accountsRpc.login), '{}');
      await gateway.violated('publish', rpcSubject(accountsRpc.login));
      // Every reply inbox, and accounts' own, are refused; its own inbox is allowed.
      for (const inbox of ['_INBOX.>', `${inboxPrefix('accounts')}.>`, `${inboxPrefix('api-gateway')}.>`]) {
        gateway.nc.subscribe(inbox);
        await gateway.violated('subscription', inbox);
      }
      gateway.nc.subscribe(`${inboxPrefix(`gateway-${network}`)}.x`);
      await gateway.nc.flush();
      expect(gateway.violations.map((v) => v.subject)).not.toContain(
        `${inboxPrefix(`gateway-${network}`)}.x`,
      );
      // The requests it needs still go out.
      gateway.nc.publish(rpcSubject(conferencesRpc.bot), '{}');
      await gateway.nc.flush();
      expect(gateway.violations.map((v) => v.subject)).not.toContain(rpcSubject(conferencesRpc.bot));
    }
  });

  it('gives a service that forgets its inbox prefix no replies at all: the default inbox is refused', async () => {
    const gateway = await connectAs('gateway-xmpp', { inboxPrefix: '_INBOX' });
    await expect(
      gateway.nc.request(rpcSubject(conferencesRpc.bot), '{}', { timeout: 1_000 }),
    ).rejects.toThrow();
    await waitFor('the refused default inbox', () =>
      gateway.violations.find((v) => v.operation === 'subscription' && v.subject.startsWith('_INBOX.')),
    );
  });

  it("carries an import's progress from contact-import to api-gateway, and to no other service", async () => {
    const subject = contactSubjects.importEvents('0196f0c4-0000-7000-8000-000000000001');
    const api = await connectAs('api-gateway');
    const received: string[] = [];
    api.nc.subscribe(contactSubjects.importEventsAll(), {
      callback: (_e, msg) => {
        received.push(msg.string());
      },
    });
    const gateway = await connectAs('gateway-xmpp');
    gateway.nc.subscribe(contactSubjects.importEventsAll());
    await gateway.violated('subscription', contactSubjects.importEventsAll());
    await api.nc.flush();
    const importer = await connectAs('contact-import');
    importer.nc.publish(subject, 'step 1');
    await importer.nc.flush();
    await waitFor('api-gateway to receive the progress step', () => received.includes('step 1'));
    expect(importer.violations).toEqual([]);
    expect(api.violations).toEqual([]);
  });

  it('lets archive consume its durable but not create consumers on other streams', async () => {
    const archive = await connectAs('archive');
    const bus = await JetStreamBus.fromConnection(archive.nc);
    await bus.checkStreams();
    const consumer = await bus.consume({
      stream: streams.confEvents(),
      durable: consumers.archiveEvents,
      handler: async () => undefined,
    });
    await consumer.stop();

    const jsm = await jetstreamManager(archive.nc, { timeout: 2_000 });
    await expect(jsm.consumers.add(streams.imInbound().name, { durable_name: 'snoop' })).rejects.toThrow();
    const admin = await jetstreamManager((await connectAs('admin')).nc);
    const names: string[] = [];
    for await (const info of admin.consumers.list(streams.imInbound().name)) names.push(info.name);
    expect(names).not.toContain('snoop');
    expect((await admin.consumers.info(streams.confEvents().name, consumers.archiveEvents)).name).toBe(
      consumers.archiveEvents,
    );
  });

  it("lets conference-core look its own events up in their stream: the relay's stored-copy check and the last event's seq", async () => {
    const core = await connectAs('conference-core');
    const bus = await JetStreamBus.fromConnection(core.nc);
    await bus.ensureStreams();
    const subject = subjects.confEvents('conf-lookup');
    await bus.js.publish(subject, JSON.stringify({ seq: 7 }), { msgID: 'lookup-1' });
    const since = new Date(Date.now() - 60_000);
    const found = await bus.storedMsgIds(streams.confEvents().name, subject, since, new Set(['lookup-1']));
    expect([...found]).toEqual(['lookup-1']);
    const last = await bus.jsm.streams.getMessage(streams.confEvents().name, { last_by_subj: subject });
    expect(last?.json<{ seq: number }>().seq).toBe(7);
    expect(core.violations).toEqual([]);
    // Reading a stream is not a way to change it.
    await expect(bus.jsm.streams.purge(streams.confEvents().name)).rejects.toThrow();
    await core.violated('publish', `$JS.API.STREAM.PURGE.${streams.confEvents().name}`);
  });

  it('lets a gateway look up a fan-out it did not send, to retry a bounce for it', async () => {
    const core = await connectAs('conference-core');
    const coreBus = await JetStreamBus.fromConnection(core.nc);
    await coreBus.ensureStreams();
    const subject = subjects.imOutbound('xmpp', 'conf-bounced');
    await coreBus.js.publish(subject, JSON.stringify({ deliveryId: 'fan-out-1' }), { msgID: 'fan-out-1' });
    const gateway = await connectAs('gateway-xmpp');
    const bus = await JetStreamBus.fromConnection(gateway.nc);
    const since = new Date(Date.now() - 60_000);
    const data = await bus.storedMessage(streams.imOutbound().name, subject, since, 'fan-out-1');
    expect(JSON.parse(new TextDecoder().decode(data))).toEqual({ deliveryId: 'fan-out-1' });
    expect(gateway.violations).toEqual([]);
    // Reading a stream is not a way to change it.
    await expect(bus.jsm.streams.purge(streams.imOutbound().name)).rejects.toThrow();
    await gateway.violated('publish', `$JS.API.STREAM.PURGE.${streams.imOutbound().name}`);
  });

  it('runs every service under its own user: all get ready, answer whom they should, and exit 0 on SIGTERM', async () => {
    const xmpp = await startProsody(path.join(dir, 'prosody'));
    const secrets = generateDevSecrets();
    const running: Array<{ service: ServiceName; port: number; process: Spawned }> = [];
    const logMark = server.output().length;
    try {
      for (const service of SERVICE_NAMES) {
        const port = await freePort();
        const process_ = spawnCollecting(process.execPath, [`services/${service}/dist/main.js`], {
          env: {
            PATH: process.env.PATH,
            ...secrets,
            ...xmpp.env,
            PARLEY_NATS_URL: urlFor(service),
            PARLEY_DATABASE_URL: testEnv.databaseUrl(),
            PARLEY_DATABASE_SCHEMA: testSchema(service),
            PARLEY_HTTP_PORT: String(port),
            PARLEY_BUS_PREFIX: process.env.PARLEY_BUS_PREFIX,
            PARLEY_LOG_LEVEL: 'warn',
            // As deployed: only the provisioner changes streams; the others wait for them.
            PARLEY_PROVISION_STREAMS: String(service === STREAM_PROVISIONER),
          },
        });
        running.push({ service, port, process: process_ });
      }
      for (const { service, port, process: child } of running) {
        await waitFor(
          `${service} ready under its own NATS user`,
          async () => {
            if (child.child.exitCode !== null) throw new Error(`${service} exited:\n${child.output()}`);
            return (await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined))?.ok;
          },
          45_000,
        );
      }

      // A real owner request through the running api-gateway: its RPC to accounts is answered on
      // the gateway's own inbox (`_INBOX_api-gateway`), the only one its user may read.
      const apiPort = running.find((r) => r.service === 'api-gateway')!.port;
      const login = await fetch(`http://127.0.0.1:${apiPort}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'nobody@example.org', password: 'not a password' }),
      });
      expect(login.status).toBe(401);

      const gateway = RpcClient.create(urlFor('api-gateway'), 'api-gateway');
      await gateway.connect();
      const reply = await gateway.call(pingRpc('accounts'), { from: 'api-gateway' });
      expect(reply.service).toBe('accounts');
      await gateway.close();

      // nats-server logs every refused publish/subscribe: none while the services started and worked.
      expect(server.output().slice(logMark)).not.toMatch(/violation/i);

      // presence has no business with accounts: its request is refused by the server, not answered.
      const presence = RpcClient.create(urlFor('presence'), 'presence');
      await presence.connect();
      await expect(presence.call(pingRpc('accounts'), { from: 'presence' }, 1_500)).rejects.toThrow();
      await presence.close();
      // …and that refusal is what the server log shows (so the clean log above means something).
      await waitFor('the refusal in the nats-server log', () =>
        /violation.*presence|presence.*violation/i.test(server.output().slice(logMark)),
      );

      for (const { process: child } of running) child.child.kill('SIGTERM');
      for (const { service, process: child } of running) {
        expect(await exitWithin(child, `${service} after SIGTERM`, 30_000), service).toEqual({
          code: 0,
          signal: null,
        });
      }
    } finally {
      await Promise.all(running.map(({ process: child }) => stop(child, 'SIGKILL')));
      await stop(xmpp.server);
    }
  }, 120_000);
});
