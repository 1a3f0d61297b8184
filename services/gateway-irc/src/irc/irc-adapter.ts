/**
 * The IRC adapter: protocol translation only. Every active conference gets its own bot
 * connection (BotConnection), brought online when this process takes the conference on (start-up,
 * take-over from a dead process, rebalance; the kit says which, ADR 0006) or by its first delivery,
 * and retired when the conference has ended or moved to another process — or, in pooled mode, one bot serves them all and each
 * participant's messages are routed by pool-routing.ts. A participant talks to a bot by private
 * message; IRC has no contact lists, so "authorization" is the invitation message itself (the kit
 * is told the invitee accepted at once) and contacts cannot be imported.
 */
import { MAX_BODY_LENGTH, type BotInfo, type ImDeliveryV1, type PresenceShow } from '@parley/contracts';
import {
  UndeliverableError,
  cleanText,
  stableId,
  type ContactsResult,
  type GatewayPort,
  type NetworkAdapter,
} from '@parley/gateway-kit';
import { logger } from '@parley/observability';
import { BoundedMap } from '@parley/runtime';
import { BotConnection, type IrcServerOptions } from './bot-connection.js';
import { botNick } from './bot-nick.js';
import { stripFormatting } from './irc-text.js';
import { choosePoolConference, parseConfCommand, poolNick, tagLines } from './pool-routing.js';

export interface IrcAdapterOptions extends IrcServerOptions {
  /**
   * After a bot (re)connects, a recipient missing from the server is probably reconnecting too
   * (server restart): deliveries to them are retried for this long instead of being given up.
   */
  rejoinGraceMs: number;
  /** How long a delivery waits for its bot to connect before it is retried later. */
  connectWaitMs: number;
  /** `per-conference`: one connection per conference; `pooled`: one nick for all (see docs/gateway-adapter.md). */
  mode: 'per-conference' | 'pooled';
  /** The pooled bot's nick. */
  poolNick: string;
  /**
   * `nick` (no network accounts, ADR 0003): a message is not sent to a nick the bot saw leave since
   * it was written. `account`: the network's accounts prove who holds a nick, so it is.
   */
  identity: 'nick' | 'account';
}

/** How long after a bot-offline the conference is checked and its bot retired if it ended. */
const RETIRE_CHECK_MS = 2_000;
/** Pooled mode: the key of the one bot. */
const POOL = '(pool)';

export class IrcAdapter implements NetworkAdapter {
  readonly network = 'irc' as const;
  private readonly bots = new Map<string, BotConnection>();
  private readonly retireChecks = new Map<string, NodeJS.Timeout>();
  private receipts = 0;
  private readonly pooled: boolean;
  /** Pooled mode: a participant's `/conf` choice and latest invitation, by lower-case nick. */
  private readonly chosen = new BoundedMap<string, string>(10_000);
  private readonly lastInvitedTo = new BoundedMap<string, string>(10_000);
  /** Pooled mode: routing needs an RPC; one chain keeps each sender's messages in order. */
  private routing: Promise<void> = Promise.resolve();

  constructor(
    private readonly options: IrcAdapterOptions,
    private readonly port: GatewayPort,
  ) {
    this.pooled = options.mode === 'pooled';
  }

  get isOnline(): boolean {
    return [...this.bots.values()].every((bot) => bot.isRegistered);
  }

  get status(): string {
    const bots = [...this.bots.values()];
    return `${bots.filter((b) => b.isRegistered).length} of ${bots.length} bots connected to ${this.options.host}:${this.options.port}`;
  }

  /** The nick the bot of a conference currently has (undefined while it is not connected). */
  botNickOf(conferenceId: string): string | undefined {
    return this.bots.get(this.pooled ? POOL : conferenceId)?.nick;
  }

  /** Bots connect per conference, on its first delivery: nothing to do up front. */
  async connect(): Promise<void> {}

  /** The conferences this process just took on: their bots connect now (a delivery waits for them). */
  bringOnline(bots: BotInfo[]): void {
    if (this.pooled) return;
    for (const { conferenceId, botName, state } of bots) {
      if (state !== 'active' || this.bots.has(conferenceId)) continue;
      const bot = this.createConferenceBot(conferenceId, botName);
      this.bots.set(conferenceId, bot);
      bot.start();
    }
  }

  /** Conferences now served by another process: their bots quit, so it can take the nicks. */
  async letGo(isLetGo: (conferenceId: string) => boolean): Promise<void> {
    if (this.pooled) return;
    const leaving = [...this.bots.entries()].filter(([conferenceId]) => isLetGo(conferenceId));
    for (const [conferenceId] of leaving) {
      this.bots.delete(conferenceId);
      clearTimeout(this.retireChecks.get(conferenceId));
      this.retireChecks.delete(conferenceId);
    }
    await Promise.all(leaving.map(([, bot]) => bot.stop('conference moved to another gateway process')));
  }

  async stop(): Promise<void> {
    for (const timer of this.retireChecks.values()) clearTimeout(timer);
    this.retireChecks.clear();
    const bots = [...this.bots.values()];
    this.bots.clear();
    await Promise.all(bots.map((bot) => bot.stop('gateway stopping')));
    // Pooled messages that came in before the QUITs are routed (and so published) before the exit.
    await this.routing;
  }

  async deliver(delivery: ImDeliveryV1, onWritten?: () => void): Promise<void> {
    const nick = this.recipientNick(delivery.to);
    if (this.isOwnBot(nick)) throw new UndeliverableError(`${nick} is a Parley bot: bots never talk to bots`);
    switch (delivery.kind) {
      case 'message': {
        const bot = await this.readyBot(delivery);
        bot.watch(nick);
        // The bot may have taken seconds to connect: is the conference still this process's?
        if (!this.port.holds(delivery.conferenceId)) {
          throw new Error(`conference ${delivery.conferenceId} has moved to another gateway process`);
        }
        // The nick was seen leaving and is not back, or came back after this was written (a retry,
        // a backlog, a decision on a presence not updated yet): it was for the nick's earlier
        // holder, who reads it with /history, not for whoever holds the nick now.
        if (this.options.identity === 'nick' && bot.holderChanged(nick, Date.parse(delivery.occurredAt))) {
          throw new UndeliverableError(
            `${nick} was seen leaving since this was written: not sent to the nick`,
          );
        }
        const body = delivery.body ?? '';
        const text = this.pooled ? tagLines(delivery.conferenceId, body) : body;
        const result = await bot.say(nick, text, onWritten);
        if (result === 'no-such-nick' && bot.sinceReconnected < this.options.rejoinGraceMs) {
          throw new Error(`${nick} is not on IRC (yet) after the bot reconnected; retrying`);
        }
        // Otherwise the recipient left after conference-core last saw them online (presence lags up
        // to a poll period): a bounce, so the kit keeps the delivery and tries again later (the nick
        // is reported offline meanwhile, so conference-core queues what comes next).
        // Returns once the retry is kept, so the fan-out is acked after it; not kept (the bucket
        // away), this process still retries it (thrown, the whole delivery would be retried too).
        if (result === 'no-such-nick') {
          await this.port
            .bounced(delivery.deliveryId, 'no-such-nick', delivery.conferenceId)
            .catch(() => undefined);
        }
        return;
      }
      case 'bot-online':
        (await this.readyBot(delivery)).watch(nick);
        return;
      case 'revoke-authorization':
      case 'bot-offline':
        // The pool bot keeps watching: the nick may be in its other conferences.
        if (this.pooled) return;
        this.bots.get(delivery.conferenceId)?.unwatch(nick);
        if (delivery.kind === 'bot-offline') this.scheduleRetireCheck(delivery.conferenceId);
        return;
      case 'authorization-request':
        await this.requestAuthorization(delivery);
        return;
    }
  }

  /**
   * IRC's authorization is the invitation private message that follows; there is nothing to accept,
   * so the invitee is reported as having accepted (and their presence is watched from now on).
   */
  async requestAuthorization(delivery: ImDeliveryV1): Promise<void> {
    const nick = this.recipientNick(delivery.to);
    (await this.readyBot(delivery)).watch(nick);
    if (this.pooled) this.lastInvitedTo.set(nick.toLowerCase(), delivery.conferenceId);
    this.port.inbound({
      id: stableId('irc', [delivery.deliveryId, 'subscribed']),
      kind: 'subscription',
      network: 'irc',
      conferenceId: delivery.conferenceId,
      from: nick.toLowerCase(),
      subscription: 'subscribed',
    });
  }

  async fetchContacts(): Promise<ContactsResult> {
    return { supported: false, reason: 'IRC has no contact lists' };
  }

  /**
   * A participant on IRC is a bare nick on the configured server. `nick@server` names a server:
   * only ours can be reached from here.
   */
  private recipientNick(address: string): string {
    const at = address.indexOf('@');
    if (at < 0) return address;
    const server = address.slice(at + 1).replace(/:\d+$/, '');
    if (server.toLowerCase() !== this.options.host.toLowerCase()) {
      throw new UndeliverableError(
        `${address} is not on ${this.options.host}, the IRC server of this gateway`,
      );
    }
    return address.slice(0, at);
  }

  /** The conference's bot (or the pool's), connecting it first if needed; rejects (→ retry later) if it cannot connect now. */
  private async readyBot(delivery: ImDeliveryV1): Promise<BotConnection> {
    const key = this.pooled ? POOL : delivery.conferenceId;
    let bot = this.bots.get(key);
    if (!bot) {
      bot = this.pooled
        ? this.createPoolBot()
        : this.createConferenceBot(delivery.conferenceId, delivery.botName);
      this.bots.set(key, bot);
      bot.start();
    }
    await bot.ready(this.options.connectWaitMs);
    return bot;
  }

  private createConferenceBot(conferenceId: string, botName: string): BotConnection {
    return new BotConnection(
      conferenceId,
      (attempt, nickLength) => botNick(conferenceId, nickLength, attempt),
      botName,
      this.options,
      {
        privateMessage: (from, text, isAction) => {
          if (this.isOwnBot(from)) return; // bots never answer bots
          const body = this.bodyOf(text, isAction);
          if (body) this.publishMessage(conferenceId, from, body);
        },
        presence: (nick, show, status) => this.reportPresence(nick, show, status),
      },
    );
  }

  private createPoolBot(): BotConnection {
    return new BotConnection(
      POOL,
      (attempt, nickLength) => poolNick(this.options.poolNick, attempt, nickLength),
      'Parley conferences (parley)',
      this.options,
      {
        privateMessage: (from, text, isAction) => {
          if (this.isOwnBot(from)) return; // bots never answer bots
          const body = this.bodyOf(text, isAction);
          if (!body) return;
          this.routing = this.routing
            .then(() => this.routePooled(from, body))
            .catch((error: unknown) =>
              logger().warn({ err: error, from }, 'could not route a pooled IRC message'),
            );
        },
        presence: (nick, show, status) => this.reportPresence(nick, show, status),
      },
    );
  }

  /** Whether a nick is one of this gateway's own bots (or the pool bot's nick). */
  private isOwnBot(nick: string): boolean {
    const key = nick.toLowerCase();
    if (key === this.options.poolNick.toLowerCase()) return true;
    for (const bot of this.bots.values()) if (bot.nick?.toLowerCase() === key) return true;
    return false;
  }

  private reportPresence(nick: string, show: PresenceShow, status: string | undefined): void {
    this.port.presence({
      address: nick,
      resource: 'irc',
      show,
      ...(status ? { status: status.slice(0, 1024) } : {}),
    });
  }

  /** The text of a private message as it may be relayed, or null when nothing is left. */
  private bodyOf(text: string, isAction: boolean): string | null {
    const cleaned = cleanText(stripFormatting(text)).trim();
    if (cleaned === '') return null;
    // CTCP ACTION ("/me waves") is relayed as the bot language's /me.
    return (isAction ? `/me ${cleaned}` : cleaned).slice(0, MAX_BODY_LENGTH);
  }

  /** Pooled mode: `/conf` is answered here; anything else goes to the participant's conference. */
  private async routePooled(from: string, body: string): Promise<void> {
    const nick = from.toLowerCase();
    const conferences = (await this.port.joinableBy(nick)).filter((c) => c.state === 'active');
    const ids = conferences.map((c) => c.conferenceId);
    const list = () =>
      `Your conferences: ${conferences.map((c) => `${c.conferenceId} ("${c.name}")`).join(', ')}. Choose one with /conf <id>.`;
    const conf = parseConfCommand(body);
    if (conf?.conferenceId) {
      const chosen = conferences.find((c) => c.conferenceId === conf.conferenceId);
      if (chosen) this.chosen.set(nick, chosen.conferenceId);
      this.replyFromPool(
        from,
        chosen
          ? `Now talking to "${chosen.name}" (${chosen.conferenceId}).`
          : `You are in no conference "${conf.conferenceId}". ${ids.length ? list() : ''}`.trim(),
      );
      return;
    }
    if (conf) {
      this.replyFromPool(from, ids.length ? list() : 'You are in no conference here.');
      return;
    }
    const route = choosePoolConference({
      chosen: this.chosen.get(nick),
      lastInvitedTo: this.lastInvitedTo.get(nick),
      conferences: ids,
    });
    if (route.kind === 'route') this.publishMessage(route.conferenceId, from, body);
    else this.replyFromPool(from, route.kind === 'none' ? 'You are in no conference here.' : list());
  }

  private replyFromPool(to: string, text: string): void {
    const pool = this.bots.get(POOL);
    pool
      ?.say(to, text)
      .catch((error: unknown) => logger().warn({ err: error, to }, 'could not answer on IRC'));
  }

  private publishMessage(conferenceId: string, from: string, body: string): void {
    const address = from.toLowerCase();
    this.bots.get(this.pooled ? POOL : conferenceId)?.watch(address);
    this.port.inbound({
      // IRC messages carry no id: the receipt makes each one distinct; a publish retry reuses it.
      id: stableId('irc', [conferenceId, address, `${Date.now()}:${this.receipts++}`, body]),
      kind: 'message',
      network: 'irc',
      conferenceId,
      from: address,
      fromResource: 'irc',
      displayName: from.slice(0, 200),
      body,
    });
  }

  /** A bot whose conference has ended quits the server (checked shortly after the goodbyes). */
  private scheduleRetireCheck(conferenceId: string): void {
    clearTimeout(this.retireChecks.get(conferenceId));
    const timer = setTimeout(() => {
      this.retireChecks.delete(conferenceId);
      void this.retireIfEnded(conferenceId);
    }, RETIRE_CHECK_MS);
    timer.unref();
    this.retireChecks.set(conferenceId, timer);
  }

  private async retireIfEnded(conferenceId: string): Promise<void> {
    try {
      const info = await this.port.bot(conferenceId);
      if (info?.state === 'active') return;
      const bot = this.bots.get(conferenceId);
      this.bots.delete(conferenceId);
      await bot?.stop('conference ended');
    } catch (error) {
      logger().warn({ err: error, conferenceId }, 'could not check whether a conference ended');
    }
  }
}
