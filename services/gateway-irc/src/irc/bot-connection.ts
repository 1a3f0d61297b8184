/**
 * One bot's connection to the IRC server (irc-framework) — a conference's, or the pool's:
 * registers with its preferred nick (the next candidate on a collision), keeps itself connected
 * (reconnect with backoff, then registers and identifies again), says text to a nick and
 * resolves only once the server has processed it, and watches the presence of the nicks it
 * talks to (MONITOR where the server offers it, else ISON polling; AWAY from the server's replies).
 */
import type { Socket } from 'node:net';
import IRC from 'irc-framework';
import type { PresenceShow } from '@parley/contracts';
import { Reconnector, TurnWrites, type BackoffOptions } from '@parley/gateway-kit';
import { logger } from '@parley/observability';
import { privmsgTextBytes, splitForIrc } from './irc-text.js';

export interface IrcServerOptions {
  host: string;
  port: number;
  tls: boolean;
  /** Server password (PASS), if the server wants one. */
  password?: string;
  /** NickServ password: the bot identifies after every registration. */
  nickServPassword?: string;
  /** The nick length to use when the server does not advertise NICKLEN. */
  nickLength: number;
  /** How often presence is polled with ISON when the server has no MONITOR. */
  presencePollMs: number;
  reconnect: BackoffOptions;
  /** How long a server reply may take before a send counts as failed. */
  replyTimeoutMs: number;
}

export interface BotListener {
  privateMessage(fromNick: string, text: string, isAction: boolean): void;
  presence(nick: string, show: PresenceShow, status?: string): void;
}

/** What the server said about one send. */
export type SayResult = 'accepted' | 'no-such-nick';

interface PendingSay {
  target: string;
  noSuchNick: boolean;
  /** Lines + PING this say() queued on the connection. */
  commands: number;
  resolve: (result: SayResult) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
  /** NetworkAdapter.deliver's onWritten, until called. */
  onWritten?: () => void;
}

const lower = (nick: string) => nick.toLowerCase();

/** How long a flood-controlled server may take per queued command (ngircd's default penalty: 1 s). */
const LINE_PACE_MS = 1_000;
/** How long stop() waits for the server to close the connection after QUIT. */
const QUIT_WAIT_MS = 2_000;

/**
 * Servers (a dot in the name) and network services (NickServ, ChanServ, …) are not participants;
 * relaying them would let the bot's refusal and the service's answer ping-pong forever.
 */
function isPerson(nick: string | undefined): nick is string {
  return !!nick && !nick.includes('.') && !/serv$/i.test(nick);
}

export class BotConnection {
  private client: IRC.Client | undefined;
  private registered = false;
  private registeredAt = 0;
  private registrations = 0;
  private nickAttempt = 0;
  private readonly reconnector: Reconnector;
  private readonly pending = new Map<string, PendingSay>();
  private pings = 0;
  /** Commands written and not yet answered (see say()). */
  private queuedCommands = 0;
  /** Nicks whose presence is watched (lower case) → last state reported. */
  private readonly watched = new Map<string, PresenceShow | undefined>();
  /** Watched nicks this bot saw leave (on, then off), and not back yet. */
  private readonly departed = new Set<string>();
  /** Watched nick → when it was seen back after this bot saw it leave: maybe someone else since. */
  private readonly returnedAt = new Map<string, number>();
  private useMonitor = false;
  private pollTimer: NodeJS.Timeout | undefined;
  /** ISON batches in flight, answered in order. */
  private readonly isonBatches: string[][] = [];
  private readyWaiters: Array<() => void> = [];
  /** The connection stop() is quitting: messages still arriving on it are relayed. */
  private leaving: IRC.Client | undefined;
  /** The current connection's socket (to write a say() at once). */
  private socket: Socket | undefined;
  /** A turn's says in one socket write (see say). */
  private readonly turn = new TurnWrites();

  constructor(
    /** Who the bot is: a conference id, or the pool. */
    readonly name: string,
    /** Nick candidate `attempt` (0 = preferred) within `nickLength`. */
    private readonly nickFor: (attempt: number, nickLength: number) => string,
    private readonly realName: string,
    private readonly server: IrcServerOptions,
    private readonly listener: BotListener,
  ) {
    this.reconnector = new Reconnector(
      `IRC bot ${name} connecting`,
      () => this.connectOnce(),
      server.reconnect,
    );
  }

  get isRegistered(): boolean {
    return this.registered;
  }

  get nick(): string | undefined {
    return this.registered ? this.client?.user.nick : undefined;
  }

  /** Milliseconds since the current registration (Infinity while not registered). */
  get sinceRegistered(): number {
    return this.registered ? Date.now() - this.registeredAt : Infinity;
  }

  /**
   * Milliseconds since this bot came back after losing its connection (Infinity when it never
   * lost one): participants may be reconnecting too, so a missing nick is worth a retry then —
   * and only then; otherwise a delivery would wait for whoever takes the nick next.
   */
  get sinceReconnected(): number {
    return this.registrations > 1 ? this.sinceRegistered : Infinity;
  }

  start(): void {
    this.reconnector.lost();
  }

  /** Resolves when registered, or rejects after `timeoutMs`. */
  async ready(timeoutMs: number): Promise<void> {
    if (this.registered) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.readyWaiters = this.readyWaiters.filter((w) => w !== done);
        reject(new Error(`IRC bot ${this.name} is not connected`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.readyWaiters.push(done);
    });
  }

  async stop(message = 'conference ended'): Promise<void> {
    this.reconnector.stop();
    clearInterval(this.pollTimer);
    const client = this.client;
    this.client = undefined;
    this.registered = false;
    if (client) {
      // The server handles a connection's lines in order, and answers what it read before the QUIT
      // ahead of closing the connection: says in flight get their PONG and resolve as delivered
      // (rejected at once, as they used to be, they were sent again — a duplicate, seen in the chaos
      // suite when a NATS restart moved a conference between processes); what it routed to the bot
      // before the QUIT still arrives and is relayed (its sender was told nothing went wrong); after
      // the QUIT, senders get "No such nick".
      // The QUIT is written alone and the server closes the connection: irc-framework's quit() also
      // ends our side at once, and ngircd, reading that end of file, closed the connection with
      // commands still unprocessed (says in flight never delivered, or delivered and unanswered).
      this.leaving = client;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          client.quit(message);
          resolve();
        }, QUIT_WAIT_MS);
        client.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        client.raw('QUIT', message);
      });
      this.leaving = undefined;
    }
    // What is still unanswered is taken as not delivered.
    this.lostConnection(new Error('bot stopped'));
  }

  /**
   * Says `text` to `nick`, split into lines that fit the protocol; resolves once the server has
   * processed every line (a PING sent after them was answered: the server handles a connection's
   * lines in order), telling whether the nick was there. `onWritten` is called right after the
   * lines and their PING were handed to the kernel in one write (or, when they waited in the
   * socket's buffer, as the answer is read), before the promise settles.
   *
   * Handed to the kernel counts: a gateway killed after that step still has them reach the server,
   * which reads and processes them (the kernel sends what a dead process wrote). Counting only from
   * the PONG left a round trip through the server in which a kill meant the next process sent the
   * message again (the chaos suite: 1 in 5 `kill -9 gateway-irc`). A server going down in that
   * round trip fails the promise, and the kit takes the recipient as not served.
   */
  async say(nick: string, text: string, onWritten?: () => void): Promise<SayResult> {
    const client = this.client;
    if (!client || !this.registered) throw new Error(`IRC bot ${this.name} is not connected`);
    const lines = splitForIrc(text, privmsgTextBytes(client.user.nick, `~${client.user.username}`, nick));
    const token = `parley-${++this.pings}`;
    // A flood-controlled server takes about a line a second once the burst is spent: the answer
    // may come only after every line queued ahead on this connection, so the wait grows with them
    // (a fixed timeout made long messages time out and be sent again, whole).
    const commands = lines.length + 1;
    this.queuedCommands += commands;
    const timeoutMs = this.server.replyTimeoutMs + this.queuedCommands * LINE_PACE_MS;
    const result = new Promise<SayResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(token);
        this.queuedCommands -= commands;
        reject(new Error(`IRC server did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(token, {
        target: lower(nick),
        noSuchNick: false,
        commands,
        resolve,
        reject,
        timer,
        ...(onWritten ? { onWritten } : {}),
      });
    });
    // One write for the lines and their PING, and for every other say of this turn (TurnWrites): the
    // server reads them together, so it cannot go down between processing the message and answering
    // (a message delivered without its PONG is sent again: a duplicate, seen at ngircd restarts
    // before this); and a fan-out's IRC recipients are written, and reported written, together (two
    // says were two writes, each with its own window before the progress record left: 2 duplicates
    // in one `kill -9 gateway-irc` of a CI chaos run). Reported written right after the write, or,
    // when the kernel did not take it all then, as the answer is read.
    const socket = this.socket;
    const before = socket?.writableLength ?? 0;
    if (socket) this.turn.cork(socket);
    for (const line of lines) client.say(nick, line);
    client.ping(token);
    if (socket && socket.writableLength > before) this.turn.afterUncork(() => this.written(token));
    return result;
  }

  /** Starts watching a nick's presence (idempotent). */
  watch(nick: string): void {
    const key = lower(nick);
    if (this.watched.has(key)) return;
    this.watched.set(key, undefined);
    if (this.registered && this.useMonitor) this.client?.addMonitor(key);
    else if (this.registered) this.poll([key]);
  }

  /**
   * Whether the nick's holder may no longer be whom a message written at `writtenAt` (ms since the
   * epoch) was for, as a nick proves nobody (ADR 0003): this bot saw the nick leave and not come
   * back (whoever takes it next is anyone), or come back after the message was written. A nick
   * first seen off after this bot (re)connected was not seen leaving: its holder may be
   * reconnecting too (an IRC server restart), and what waits for them still goes.
   */
  holderChanged(nick: string, writtenAt: number): boolean {
    const key = lower(nick);
    return this.departed.has(key) || (this.returnedAt.get(key) ?? -Infinity) > writtenAt;
  }

  unwatch(nick: string): void {
    const key = lower(nick);
    this.departed.delete(key);
    this.returnedAt.delete(key);
    if (!this.watched.delete(key)) return;
    if (this.registered && this.useMonitor) this.client?.removeMonitor(key);
  }

  private connectOnce(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const client = new IRC.Client();
      this.client = client;
      this.nickAttempt = 0;
      let settled = false;
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        client.removeAllListeners();
        try {
          client.quit();
        } catch {
          // already closed
        }
        reject(error);
      };
      const timer = setTimeout(() => fail(new Error('registration timed out')), this.server.replyTimeoutMs);
      const current = () => this.client === client;
      const nextNick = () => {
        if (this.registered || !current()) return;
        this.nickAttempt++;
        client.changeNick(this.nickFor(this.nickAttempt, this.server.nickLength));
      };
      // Nagle's algorithm held each line after the first until the server's delayed ACK (~40 ms):
      // a PING 40 ms behind its message was a 40 ms wait per delivery, and a window for duplicates.
      client.on('raw socket connected', (socket: Socket) => {
        if (!current()) return;
        socket.setNoDelay(true);
        this.socket = socket;
      });
      client.on('nick in use', nextNick);
      client.on('nick invalid', nextNick);
      client.on('registered', () => {
        if (!current()) return;
        settled = true;
        clearTimeout(timer);
        this.onRegistered(client);
        resolve();
      });
      client.on('server options', () => current() && this.onServerOptions(client));
      client.on('pong', (event: { message?: string }) => this.onPong(event.message));
      client.on('irc error', (event: { error: string; nick?: string }) => {
        if (event.error !== 'no_such_nick' || !event.nick) return;
        for (const say of this.pending.values()) if (say.target === lower(event.nick)) say.noSuchNick = true;
        if (this.watched.has(lower(event.nick))) this.report(event.nick, 'offline');
      });
      client.on(
        'message',
        (event: { type: string; nick: string; target: string; message: string; hostname?: string }) => {
          const hears = current() || this.leaving === client;
          if (!hears || (event.type !== 'privmsg' && event.type !== 'action')) return; // never answer a notice
          if (lower(event.target) !== lower(client.user.nick) || !isPerson(event.nick)) return;
          this.listener.privateMessage(event.nick, event.message, event.type === 'action');
        },
      );
      client.on('users online', (event: { nicks: string[] }) => this.onOnline(event.nicks));
      client.on('users offline', (event: { nicks: string[] }) => {
        for (const nick of event.nicks) if (this.watched.has(lower(nick))) this.report(nick, 'offline');
      });
      // RPL_AWAY answers a message to an away user; away-notify (when offered) reports changes.
      client.on('away', (event: { self: boolean; nick: string; message?: string }) => {
        if (!event.self && this.watched.has(lower(event.nick)))
          this.report(event.nick, 'away', event.message);
      });
      client.on('back', (event: { self: boolean; nick: string }) => {
        if (!event.self && this.watched.has(lower(event.nick))) this.report(event.nick, 'online');
      });
      client.on('close', () => {
        if (!current()) return;
        if (!settled) fail(new Error('connection closed before registration'));
        const wasRegistered = this.registered;
        this.lostConnection(new Error('IRC connection closed'));
        if (wasRegistered) {
          logger().warn({ bot: this.name }, 'IRC bot disconnected; reconnecting');
          this.reconnector.lost();
        }
      });
      client.connect({
        host: this.server.host,
        port: this.server.port,
        tls: this.server.tls,
        nick: this.nickFor(0, this.server.nickLength),
        username: 'parley',
        gecos: this.realName,
        auto_reconnect: false,
        // Lines are already split to fit (splitForIrc): irc-framework must not cut them again.
        message_max_length: 512,
        ...(this.server.password ? { password: this.server.password } : {}),
      });
    });
  }

  private onRegistered(client: IRC.Client): void {
    this.registered = true;
    this.registeredAt = Date.now();
    this.registrations++;
    logger().info({ bot: this.name, nick: client.user.nick }, 'IRC bot registered');
    if (this.server.nickServPassword) client.say('NickServ', `IDENTIFY ${this.server.nickServPassword}`);
    for (const nick of this.watched.keys()) this.watched.set(nick, undefined);
    clearInterval(this.pollTimer);
    this.pollTimer = setInterval(() => {
      if (!this.useMonitor) this.poll([...this.watched.keys()]);
    }, this.server.presencePollMs);
    this.pollTimer.unref();
    this.poll([...this.watched.keys()]);
    for (const waiter of this.readyWaiters.splice(0)) waiter();
  }

  /** ISUPPORT arrives after registration: a shorter NICKLEN renames the bot; MONITOR replaces polling. */
  private onServerOptions(client: IRC.Client): void {
    const nickLength = Number(client.network.supports('NICKLEN'));
    if (Number.isInteger(nickLength) && nickLength > 0 && client.user.nick.length > nickLength) {
      client.changeNick(this.nickFor(this.nickAttempt, nickLength));
    }
    if (!this.useMonitor && client.network.supports('MONITOR')) {
      this.useMonitor = true;
      if (this.watched.size > 0) client.raw('MONITOR', '+', [...this.watched.keys()].join(','));
    }
  }

  /** Calls a say()'s onWritten, once. */
  private written(token: string, say = this.pending.get(token)): void {
    const onWritten = say?.onWritten;
    if (!say || !onWritten) return;
    delete say.onWritten;
    onWritten();
  }

  private onPong(token: string | undefined): void {
    const say = token ? this.pending.get(token) : undefined;
    if (!say || !token) return;
    this.pending.delete(token);
    this.queuedCommands -= say.commands;
    clearTimeout(say.timer);
    this.written(token, say);
    say.resolve(say.noSuchNick ? 'no-such-nick' : 'accepted');
  }

  private onOnline(nicks: string[]): void {
    const online = new Set(nicks.filter(Boolean).map(lower));
    for (const nick of online) if (this.watched.get(nick) !== 'away') this.report(nick, 'online');
    if (this.useMonitor) return;
    // An ISON reply lists those of the batch that are on; the rest are off.
    for (const nick of this.isonBatches.shift() ?? []) if (!online.has(nick)) this.report(nick, 'offline');
  }

  private poll(nicks: string[]): void {
    if (!this.client || !this.registered || this.useMonitor) return;
    for (let i = 0; i < nicks.length; i += 20) {
      const batch = nicks.slice(i, i + 20);
      this.isonBatches.push(batch);
      this.client.raw('ISON', ...batch);
    }
  }

  private report(nick: string, show: PresenceShow, status?: string): void {
    const key = lower(nick);
    const before = this.watched.get(key);
    if (before === show && show !== 'away') return;
    if (show === 'offline') {
      if (before === 'online' || before === 'away') this.departed.add(key);
    } else if (this.departed.delete(key)) this.returnedAt.set(key, Date.now());
    this.watched.set(key, show);
    this.listener.presence(key, show, status);
  }

  private lostConnection(error: Error): void {
    this.registered = false;
    this.socket = undefined;
    this.isonBatches.length = 0;
    clearInterval(this.pollTimer);
    for (const say of this.pending.values()) {
      clearTimeout(say.timer);
      say.reject(error);
    }
    this.pending.clear();
    this.queuedCommands = 0;
  }
}
