/**
 * The chaos suite (issue 14): steady traffic in one conference of two XMPP and two IRC
 * participants (real clients) while, one at a time, every service is killed with SIGKILL and
 * restarted, NATS is restarted (JetStream data kept), PostgreSQL is restarted, Prosody and ngircd
 * are restarted, and every service is restarted with SIGTERM (a rolling upgrade). Everything runs on
 * servers of its own (chaos-stack.ts), so restarting them disturbs no other test.
 *
 * Checked from what the clients heard and from the archive: every accepted message (in the archive)
 * reached every other participant exactly once and in the conference's order, the archive holds each
 * once with a gap-free seq, and nothing a client sent vanished without its sender being told. Figures
 * per fault are printed (and written to $PARLEY_CHAOS_REPORT when set); docs/reliability.md quotes them.
 *
 * `npm run chaos` runs more rounds (`-- --rounds 3`) or a soak (`-- --soak 10m`: traffic without
 * faults, memory and handles of every service sampled over time).
 */
import { writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RpcClient } from '@parley/bus';
import { conferencesRpc, type ServiceName } from '@parley/contracts';
import { waitFor } from '@parley/testing';
import { botNick } from '../../services/gateway-irc/src/irc/bot-nick.js';
import {
  ChaosServers,
  ChaosService,
  IrcParticipant,
  connectPatiently,
  STACK_SERVICES,
  XmppParticipant,
  stackEnv,
  type ChaosParticipant,
  type ProcessSample,
} from './chaos-stack.js';
import { chatOfBody } from './relay-harness.js';

const ROUNDS = Number(process.env.PARLEY_CHAOS_ROUNDS ?? 1);
const SOAK_MS = Number(process.env.PARLEY_CHAOS_SOAK_MS ?? 0);
/** Only the faults whose name matches (e.g. `ngircd|gateway-irc`), to look at one closely. */
const ONLY = new RegExp(process.env.PARLEY_CHAOS_FAULTS ?? '.', 'i');
/** One message every TICK_MS, the participants taking turns. */
const TICK_MS = 150;
/** Messages sent in a phase before its fault, and after the recovery. */
const BEFORE = 8;
const AFTER = 12;
const SAMPLE_MS = 15_000;

interface Sent {
  from: ChaosParticipant;
  text: string;
  phase: string;
  at: number;
}

interface PhaseFigures {
  phase: string;
  sent: number;
  accepted: number;
  /** Sent, not accepted, and the sender's server told them (an error back). */
  refusedTold: number;
  /** Sent, not accepted, and nobody said so. */
  silentlyLost: number;
  /**
   * Sent while the sender's own IM server was going down: it never reached Parley. (A delivery the
   * recipient's server lost at its restart is a loss: with Parley's Prosody modules the stopping
   * server drains the component link first, docs/reliability.md.)
   */
  lostByServer: number;
  /** Accepted messages a recipient never heard. */
  losses: number;
  /** Accepted messages a recipient heard more than once, plus archive duplicates. */
  duplicates: number;
  /** The distinct messages behind `duplicates` (one message heard twice by two recipients: 1). */
  doubledMessages: number;
  /** Recipients' adjacent pairs heard out of the conference's order. */
  outOfOrder: number;
  /** How long the fault took to heal (services ready again), ms. */
  recoveryMs: number;
  note: string;
}

describe('chaos: a cross-network conference through every fault', () => {
  const servers = new ChaosServers();
  const services = new Map<ServiceName, ChaosService>();
  let rpc: RpcClient;
  const participants: ChaosParticipant[] = [];
  const sent: Sent[] = [];
  const samples: ProcessSample[] = [];
  let phase = 'set-up';
  let traffic: NodeJS.Timeout | undefined;
  let sampler: NodeJS.Timeout | undefined;
  /** Each loss, duplicate or reordering, in words, for the report. */
  const incidents: string[] = [];
  let archiveGaps = 0;
  /** When each fault was in progress (from the fault to the recovery). */
  const faultWindows = new Map<string, { from: number; to: number }>();
  /**
   * A message a client wrote while its own server was going down never reached Parley: without
   * stream management (XEP-0198) the client is not told. The IM server lost it, not Parley.
   */
  const lostByOwnServer = (s: Sent) => {
    const window = faultWindows.get(s.phase);
    const ownServerRestart = s.from.network === 'xmpp' ? /^Prosody restart/ : /^ngircd restart/;
    return !!window && ownServerRestart.test(s.phase) && s.at >= window.from - 1_000 && s.at <= window.to;
  };

  const service = (name: ServiceName) => services.get(name)!;
  const allReady = () => Promise.all([...services.values()].map((s) => s.waitReady()));
  const query = async <T>(sql: string, params: unknown[]): Promise<T[]> => {
    const client = new pg.Client({ connectionString: servers.databaseUrl });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    await servers.start();
    const env = stackEnv(servers);
    for (const name of STACK_SERVICES) services.set(name, new ChaosService(name, env));
    // conference-core first (it answers the gateways' look-ups), the rest side by side.
    await service('conference-core').start();
    await Promise.all(STACK_SERVICES.slice(1).map((name) => service(name).start()));
    rpc = RpcClient.create(servers.natsUrl);
    await rpc.connect();
  }, 180_000);

  afterAll(async () => {
    clearInterval(traffic);
    clearInterval(sampler);
    await Promise.all(participants.map((p) => p.stop()));
    await rpc?.close();
    await Promise.all([...services.values()].map((s) => s.stop()));
    await servers.stopAll();
    // The services' logs stay for a look after the run (PARLEY_CHAOS_LOG_LEVEL=warn for more).
    const logs = servers.keepLogs([...services.values()].map((s) => ({ name: s.name, output: s.output() })));
    console.log(`chaos logs: ${logs}`);
  }, 120_000);

  async function startConference(): Promise<string> {
    const ownerId = `chaos-${randomBytes(4).toString('hex')}`;
    const xmpp = await Promise.all(
      ['alice', 'bob'].map(
        async (name) => new XmppParticipant(name, await servers.createXmppUser(name), servers.ports.c2s),
      ),
    );
    const irc = ['carol', 'dave'].map(
      (name) => new IrcParticipant(name, `${name}${randomBytes(2).toString('hex')}`, servers.ports.irc),
    );
    participants.push(...xmpp, ...irc);
    for (const p of [...xmpp, ...irc]) await connectPatiently(p, `${p.name} to connect`);
    const conference = await rpc.call(conferencesRpc.create, { ownerId, name: 'Chaos' });
    const added = await rpc.call(conferencesRpc.addParticipants, {
      ownerId,
      conferenceId: conference.id,
      participants: participants.map((p) => ({ network: p.network, address: p.address })),
    });
    expect(added.errors).toEqual([]);
    for (const p of xmpp) p.botJid = `${conference.id}@conf.localhost`;
    for (const p of irc) p.botNick = botNick(conference.id, 30);
    await rpc.call(conferencesRpc.start, { ownerId, conferenceId: conference.id });
    for (const p of participants) {
      await waitFor(
        `${p.name} to be invited`,
        () => p.heard().some((m) => m.startsWith('You are invited')),
        30_000,
      );
      await p.say('/join');
      await waitFor(
        `${p.name} to have joined`,
        () => p.heard().some((m) => m.startsWith('You joined')),
        30_000,
      );
    }
    return conference.id;
  }

  function startTraffic(): void {
    const next = new Map<string, number>();
    let turn = 0;
    traffic = setInterval(() => {
      const from = participants[turn++ % participants.length]!;
      const n = (next.get(from.name) ?? 0) + 1;
      next.set(from.name, n);
      const text = `chaos ${from.name} ${n}`;
      const record: Sent = { from, text, phase, at: Date.now() };
      void from.say(text).then((ok) => ok && sent.push(record));
    }, TICK_MS);
  }

  const sentIn = (name: string) => sent.filter((s) => s.phase === name).length;

  /** Traffic, the fault, recovery, more traffic; returns how long the recovery took. */
  async function runPhase(
    name: string,
    fault: () => Promise<string | void>,
  ): Promise<{ ms: number; note: string }> {
    phase = name;
    await waitFor(`${BEFORE} messages sent before "${name}"`, () => sentIn(name) >= BEFORE, 60_000);
    const from = Date.now();
    const note = (await fault()) ?? '';
    const ms = Date.now() - from;
    faultWindows.set(name, { from, to: Date.now() });
    await waitFor(
      `${AFTER} more messages sent after "${name}"`,
      () => sentIn(name) >= BEFORE + AFTER,
      120_000,
    );
    return { ms, note };
  }

  const kill9 = (name: ServiceName) => async () => {
    await service(name).restart('SIGKILL');
    await allReady();
  };

  function faults(): Array<[string, () => Promise<string | void>]> {
    const list: Array<[string, () => Promise<string | void>]> = [
      ...STACK_SERVICES.map((name): [string, () => Promise<void>] => [`kill -9 ${name}`, kill9(name)]),
      [
        'NATS restart',
        async () => {
          await servers.restartNats();
          await allReady();
        },
      ],
      [
        'PostgreSQL restart',
        async () => {
          await servers.restartPostgres();
          await allReady();
        },
      ],
      [
        'Prosody restart',
        async () => {
          await servers.restartProsody();
          await Promise.all(participants.filter((p) => p.network === 'xmpp').map((p) => p.reconnect()));
          await allReady();
        },
      ],
      [
        'ngircd restart',
        async () => {
          await servers.restartNgircd();
          await Promise.all(participants.filter((p) => p.network === 'irc').map((p) => p.reconnect()));
          await allReady();
        },
      ],
      [
        'rolling restart (SIGTERM)',
        async () => {
          const stops: string[] = [];
          for (const name of STACK_SERVICES) {
            const { ms, code } = await service(name).restart('SIGTERM');
            stops.push(`${name} ${ms} ms/exit ${code}`);
            expect(code, `${name} exit code after SIGTERM`).toBe(0);
            expect(ms, `${name} stop time after SIGTERM`).toBeLessThan(10_000);
          }
          return stops.join(', ');
        },
      ],
    ];
    return list;
  }

  it(
    'delivers every accepted message to every other participant exactly once, in order, through every fault',
    async () => {
      const conferenceId = await startConference();
      sampler = setInterval(() => {
        void Promise.all([...services.values()].map((s) => s.sample())).then((got) =>
          samples.push(...got.filter((s): s is ProcessSample => s !== null)),
        );
      }, SAMPLE_MS);
      startTraffic();
      const phases: Array<{ name: string; ms: number; note: string }> = [];
      if (SOAK_MS > 0) {
        phase = 'soak';
        const until = Date.now() + SOAK_MS;
        await waitFor('the soak to run its time', () => Date.now() >= until, SOAK_MS + 60_000, 1_000);
        phases.push({ name: 'soak', ms: 0, note: `${SOAK_MS / 60_000} min without faults` });
      }
      for (let round = 1; round <= ROUNDS; round++) {
        for (const [fault, run] of faults().filter(([name]) => ONLY.test(name))) {
          const name = ROUNDS > 1 ? `${fault} #${round}` : fault;
          phases.push({ name, ...(await runPhase(name, run)) });
        }
      }
      phase = 'after';
      clearInterval(traffic);
      const figures = await settleAndCount(conferenceId, phases);
      report(figures);
      const total = figures.find((f) => f.phase === 'total')!;
      expect(archiveGaps, 'archive events missing (seq 1..last_seq)').toBe(0);
      expect(total.losses, 'accepted messages some recipient never heard').toBe(0);
      // Known at-least-once windows (docs/reliability.md): gateway-irc killed in the step between
      // writing a fan-out's deliveries to the IRC server (one write for all its recipients there)
      // and its progress record leaving — the next process sends that message again, to each of
      // those recipients —, and an IRC delivery around an ngircd restart (rare, cause not found).
      // Reported, and bounded by one message per such fault; everywhere else a duplicate fails —
      // gateway-xmpp's kills included: there the XMPP server drops the repeat (mod_parley_dedup).
      for (const phase of figures.filter(isDuplicateWindow)) {
        expect(phase.doubledMessages, `messages doubled around ${phase.phase}`).toBeLessThanOrEqual(1);
      }
      expect(
        total.duplicates - duplicateWindowDuplicates(figures),
        'messages heard (or archived) twice',
      ).toBe(0);
      expect(total.outOfOrder, 'messages heard out of the conference order').toBe(0);
      // A message the IRC server handed to gateway-irc in the last milliseconds before its kill -9 is
      // lost without a word: IRC acknowledges nothing (docs/reliability.md). The XMPP server keeps
      // what gateway-xmpp has not acknowledged and hands it to the next process (mod_parley_ack).
      const silentOutsideGatewayKills = figures
        .filter((f) => f.phase !== 'total' && !/^kill -9 gateway-irc/.test(f.phase))
        .reduce((sum, f) => sum + f.silentlyLost, 0);
      expect(silentOutsideGatewayKills, 'messages sent that vanished without a word').toBe(0);
    },
    SOAK_MS + ROUNDS * 15 * 60_000,
  );

  /** Waits for the stack to be quiet, then counts, per phase, what was lost, doubled or reordered. */
  async function settleAndCount(
    conferenceId: string,
    phases: Array<{ name: string; ms: number; note: string }>,
  ) {
    type Row = { seq: string; body: string; actor_address: string };
    const accepted = async () =>
      query<Row>(
        `SELECT seq, body, actor_address FROM archive.archive_event
          WHERE conference_id = $1 AND type = 'message-accepted' AND body LIKE 'chaos %' ORDER BY seq`,
        [conferenceId],
      );
    const heardBy = (p: ChaosParticipant) =>
      p
        .heard()
        .map(chatOfBody)
        .filter((t): t is string => t !== null);
    // Every accepted message reaches every other participant, or 3 minutes pass (then: losses).
    await waitFor(
      'every accepted message to reach every other participant',
      async () => {
        const rows = await accepted();
        return participants.every((p) => {
          const heard = new Set(heardBy(p));
          return rows.every((r) => r.actor_address === p.address.toLowerCase() || heard.has(r.body));
        });
      },
      180_000,
      500,
    ).catch((error: unknown) => console.warn(String(error)));
    // Nothing still on its way: a marker from each participant arrives after everything before it.
    for (const p of participants) await p.say(`chaos ${p.name} marker`);
    await waitFor(
      'the markers to reach everyone',
      () =>
        participants.every((p) =>
          participants.every((q) => q === p || heardBy(q).includes(`chaos ${p.name} marker`)),
        ),
      60_000,
      200,
    ).catch((error: unknown) => console.warn(String(error)));

    // The archive follows CONF_EVENTS a little behind conference-core: wait for it to catch up.
    const archiveState = async () => {
      const { last_seq: lastSeq } = (
        await query<{ last_seq: string }>('SELECT last_seq FROM conference.conference WHERE id = $1', [
          conferenceId,
        ])
      )[0]!;
      const { n: archived } = (
        await query<{ n: number }>(
          'SELECT count(*)::int AS n FROM archive.archive_event WHERE conference_id = $1',
          [conferenceId],
        )
      )[0]!;
      return { lastSeq: Number(lastSeq), archived };
    };
    await waitFor(
      'the archive to hold every event up to the last seq',
      async () => {
        const state = await archiveState();
        return state.archived === state.lastSeq;
      },
      30_000,
      200,
    ).catch((error: unknown) => console.warn(String(error)));
    const { lastSeq, archived } = await archiveState();
    const rows = (await accepted()).filter((r) => !r.body.endsWith(' marker'));
    const seqOf = new Map<string, number>();
    let archiveDuplicates = 0;
    for (const row of rows) {
      if (seqOf.has(row.body)) archiveDuplicates++;
      else seqOf.set(row.body, Number(row.seq));
    }
    const gaps = lastSeq - archived;
    const phaseOf = new Map(sent.map((s) => [s.text, s.phase]));
    const empty = (name: string, ms = 0, note = ''): PhaseFigures => ({
      phase: name,
      sent: 0,
      accepted: 0,
      refusedTold: 0,
      silentlyLost: 0,
      lostByServer: 0,
      losses: 0,
      duplicates: 0,
      doubledMessages: 0,
      outOfOrder: 0,
      recoveryMs: ms,
      note,
    });
    const figures = new Map<string, PhaseFigures>([
      ['set-up', empty('set-up')],
      ...phases.map((p): [string, PhaseFigures] => [p.name, empty(p.name, p.ms, p.note)]),
    ]);
    const of = (text: string) => figures.get(phaseOf.get(text) ?? 'set-up') ?? figures.get('set-up')!;
    for (const s of sent) {
      const f = of(s.text);
      f.sent++;
      if (seqOf.has(s.text)) f.accepted++;
      else if (s.from.wasRefused(s.text)) f.refusedTold++;
      else if (lostByOwnServer(s)) {
        f.lostByServer++;
        incidents.push(`lost by the sender's own server going down: "${s.text}" sent by ${s.from.name}`);
      } else {
        f.silentlyLost++;
        incidents.push(
          `silently lost: "${s.text}" sent by ${s.from.name} at ${new Date(s.at).toISOString()}`,
        );
      }
    }
    const doubled = new Set<string>();
    for (const p of participants) {
      const heard = heardBy(p).filter((t) => !t.endsWith(' marker'));
      const counts = new Map<string, number>();
      for (const text of heard) counts.set(text, (counts.get(text) ?? 0) + 1);
      for (const [text, seq] of seqOf) {
        if (text.startsWith(`chaos ${p.name} `)) continue;
        const times = counts.get(text) ?? 0;
        if (times === 0) {
          of(text).losses++;
          incidents.push(`lost: "${text}" (seq ${seq}) never reached ${p.name}`);
        }
        if (times > 1) {
          of(text).duplicates += times - 1;
          doubled.add(text);
          incidents.push(`duplicate: "${text}" (seq ${seq}) reached ${p.name} ${times} times`);
        }
      }
      const seqs = heard.map((t) => seqOf.get(t)).filter((s): s is number => s !== undefined);
      for (let i = 1; i < seqs.length; i++) {
        if (seqs[i]! < seqs[i - 1]!) {
          of(heard[i]!).outOfOrder++;
          incidents.push(
            `out of order: ${p.name} heard seq ${seqs[i]} ("${heard[i]}", ${phaseOf.get(heard[i]!)}) after seq ${seqs[i - 1]} ("${heard[i - 1]}", ${phaseOf.get(heard[i - 1]!)})`,
          );
        }
      }
    }
    for (const text of doubled) of(text).doubledMessages++;
    const total = empty('total');
    for (const f of figures.values()) {
      for (const key of [
        'sent',
        'accepted',
        'refusedTold',
        'silentlyLost',
        'lostByServer',
        'losses',
        'duplicates',
        'doubledMessages',
        'outOfOrder',
      ] as const) {
        total[key] += f[key];
      }
    }
    total.duplicates += archiveDuplicates;
    total.doubledMessages += archiveDuplicates;
    total.note = `archive: ${archived} events, last seq ${lastSeq}, ${gaps} missing, ${archiveDuplicates} duplicate messages`;
    archiveGaps = gaps;
    return [...figures.values(), total];
  }

  function report(figures: PhaseFigures[]): void {
    const growth = memoryGrowth(samples);
    const text = [
      'phase | sent | accepted | refused (told) | silently lost | lost by the sender’s server going down | losses | duplicates | out of order | recovery ms | note',
      ...figures.map((f) =>
        [
          f.phase,
          f.sent,
          f.accepted,
          f.refusedTold,
          f.silentlyLost,
          f.lostByServer,
          f.losses,
          f.duplicates === f.doubledMessages
            ? f.duplicates
            : `${f.duplicates} (${f.doubledMessages} message${f.doubledMessages === 1 ? '' : 's'})`,
          f.outOfOrder,
          f.recoveryMs,
          f.note,
        ].join(' | '),
      ),
      '',
      'service | samples | rss MiB first → last (max) | heap used MiB first → last | heap total MiB first → last | external MiB first → last | handles first → last (max)',
      ...growth,
      '',
      ...(incidents.length ? incidents : ['no incidents']),
    ].join('\n');
    console.log(`\nchaos figures\n${text}\n`);
    if (process.env.PARLEY_CHAOS_REPORT) {
      writeFileSync(
        process.env.PARLEY_CHAOS_REPORT,
        JSON.stringify({ figures, incidents, samples }, null, 2),
      );
    }
  }
});

/**
 * The faults that can end an IRC delivery between the server taking it and the gateway noting so
 * (IRC has no way to drop a repeat; for XMPP, the server's mod_parley_dedup does).
 */
function isDuplicateWindow(figures: PhaseFigures): boolean {
  return /^(kill -9 gateway-irc|ngircd restart)/.test(figures.phase);
}

function duplicateWindowDuplicates(figures: PhaseFigures[]): number {
  return figures.filter(isDuplicateWindow).reduce((sum, f) => sum + f.duplicates, 0);
}

/** Per service: memory and handles at the first and last sample, and the most seen. */
function memoryGrowth(samples: ProcessSample[]): string[] {
  const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
  const byService = new Map<string, ProcessSample[]>();
  for (const s of samples) byService.set(s.service, [...(byService.get(s.service) ?? []), s]);
  return [...byService].map(([service, list]) => {
    const first = list[0]!;
    const last = list.at(-1)!;
    const maxRss = Math.max(...list.map((s) => s.rssBytes));
    const maxHandles = Math.max(...list.map((s) => s.handles));
    const span = (bytes: (s: ProcessSample) => number) => `${mib(bytes(first))} → ${mib(bytes(last))}`;
    return [
      service,
      list.length,
      `${span((s) => s.rssBytes)} (${mib(maxRss)})`,
      span((s) => s.heapUsedBytes),
      span((s) => s.heapTotalBytes),
      span((s) => s.externalBytes),
      `${first.handles} → ${last.handles} (${maxHandles})`,
    ].join(' | ');
  });
}
