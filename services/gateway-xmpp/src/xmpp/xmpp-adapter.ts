/**
 * The XMPP adapter: protocol translation only. It speaks XEP-0114 to the XMPP server as the
 * component domain (every conference bot is `<conference-id>@<domain>`), turns stanzas into
 * contract-shaped events for the gateway kit, and contract deliveries into stanzas. Bus plumbing,
 * retries, rate limits and de-duplication live in @parley/gateway-kit.
 */
import { component, xml, type Component, type IncomingContext } from '@xmpp/component';
import type { Element } from '@xmpp/xml';
import { MAX_BODY_LENGTH, type ImDeliveryV1 } from '@parley/contracts';
import { TurnWrites, type ContactsResult, type GatewayPort, type NetworkAdapter } from '@parley/gateway-kit';
import { logger } from '@parley/observability';
import {
  NS,
  bareJid,
  isBounceFrom,
  botJid,
  cleanBody,
  inboundId,
  isFromComponent,
  parseTarget,
  presenceShow,
  resourceOf,
  xmlSafe,
} from './stanza-rules.js';
import { fetchRoster, type C2sOverride } from './roster-fetch.js';
import { ServerFanOut, chatMessage } from './fanout.js';

export interface XmppAdapterOptions {
  host: string;
  port: number;
  domain: string;
  secret: string;
  /** Name of the service in disco#info / vCard of the domain. */
  serviceName: string;
  /** Contact import: where owners' XMPP servers are reached (unset: each JID's own domain). */
  c2s?: C2sOverride;
}

/**
 * A refused knock proves the server is there and another gateway holds the component; knocks come a
 * second apart, so a standby that has seen none for this long is no longer sure of either.
 */
const STANDBY_FRESH_MS = 10_000;

/** A stream in one of these has not come online: the server routed nothing on it, nor we to it. */
const NOT_YET_ONLINE = new Set(['connecting', 'connect', 'opening', 'open']);

const TOO_LONG = `Your message is too long to relay (the limit is ${MAX_BODY_LENGTH} characters); please split it.`;
const NO_CONFERENCE = 'There is no conference at this address.';

export class XmppAdapter implements NetworkAdapter {
  readonly network = 'xmpp' as const;
  private readonly xmpp: Component;
  private receipts = 0;
  /** Seqs of messages the server numbered (mod_parley_ack), handled and not acknowledged yet. */
  private acks: string[] = [];
  /** Stanzas of one turn of the event loop in one socket write (see send). */
  private readonly turn = new TurnWrites();
  /** One stanza for many recipients when the server makes the copies (mod_parley_fanout). */
  private readonly fanOut: ServerFanOut;
  /** The stream close under way, if any (see stopStream). */
  private stopping: Promise<void> | undefined;
  /** When the server last refused this process the component because another one holds it. */
  private refusedAt: number | undefined;

  constructor(
    private readonly options: XmppAdapterOptions,
    private readonly port: GatewayPort,
  ) {
    this.xmpp = component({
      service: `xmpp://${options.host}:${options.port}`,
      domain: options.domain,
      password: options.secret,
    });
    this.xmpp.on('error', (error: Error) => {
      if ((error as { condition?: string }).condition === 'conflict') {
        // A standby's knock refused (once a second): expected, not worth a warning each time.
        this.refusedAt = Date.now();
        logger().debug({ domain: options.domain }, 'component domain still held by another gateway');
        return;
      }
      logger().warn({ err: error }, 'XMPP component error');
    });
    this.fanOut = new ServerFanOut(options.domain, (stanzas, onWritten) => this.write(stanzas, onWritten));
    this.xmpp.on('status', (status: string) => {
      if (status !== 'online') this.fanOut.reset();
    });
    this.xmpp.on('offline', () => logger().info('XMPP component offline'));
    this.answerServerStreamEnd();
    ignoreDataAfterStreamEnd(this.xmpp);
    // Nagle's algorithm held small stanzas back until the server's delayed ACK (≈ 40 ms a message
    // under light load, measured in issue 12): a chat link sends small writes and wants them now.
    this.xmpp.on('connect', () => this.xmpp.socket?.setNoDelay(true));
    this.xmpp.on('online', () => {
      this.refusedAt = undefined;
      this.xmpp.socket?.setNoDelay(true);
      logger().info({ domain: options.domain }, 'XMPP component online');
    });
    this.xmpp.on('stanza', (stanza: Element) => {
      try {
        this.onStanza(stanza);
      } catch (error) {
        // A stanza we cannot understand is dropped, never allowed to take the gateway down.
        logger().warn(
          { err: error, stanza: stanza.toString().slice(0, 500) },
          'ignoring a stanza that failed',
        );
      }
    });
    this.xmpp.iqCallee.get(NS.discoInfo, 'query', (ctx) => this.discoInfo(ctx));
    this.xmpp.iqCallee.get(NS.discoItems, 'query', (ctx) => this.discoItems(ctx));
    this.xmpp.iqCallee.get(NS.vcard, 'vCard', (ctx) => this.vcard(ctx));
    this.xmpp.iqCallee.get(NS.ping, 'ping', () => true); // XEP-0199: an empty result
  }

  /**
   * A server that stops ends its stream to the component first and reads on until the component
   * ends its own (mod_parley_ack, docs/reliability.md): so everything written before this process
   * learned of the stop is routed — to users' offline storage if their sessions are gone — instead
   * of dying unread with the server. @xmpp/connection only marks such a stream closed (status
   * `close`); it is answered here with our stream end and the socket's end, after which the
   * reconnect module connects again. Deliveries tried meanwhile fail (not online) and wait.
   */
  private answerServerStreamEnd(): void {
    let previous = this.xmpp.status;
    this.xmpp.on('status', (status: string) => {
      if (status === 'close' && previous === 'online' && !this.stopping) {
        logger().info({ domain: this.options.domain }, 'XMPP server ended the stream; ending ours');
        // disconnect(), not stop(): a stopped client is offline and the reconnect module leaves it.
        (this.xmpp as unknown as { disconnect(): Promise<unknown> }).disconnect().catch(() => undefined);
      }
      previous = status;
    });
  }

  /** Reports every change of isOnline (the kit consumes deliveries only while online). */
  onOnlineChange(listener: (isOnline: boolean) => void): void {
    let last = this.isOnline;
    this.xmpp.on('status', () => {
      if (this.isOnline === last) return;
      last = this.isOnline;
      listener(last);
    });
    if (last) listener(true);
  }

  get isOnline(): boolean {
    return this.xmpp.status === 'online';
  }

  get status(): string {
    return this.isStandingBy ? 'standing by' : this.xmpp.status;
  }

  /**
   * A standby: the server answered its latest knocks and refused it the component because another
   * gateway process holds it. It takes over at the first knock after the other one's connection is
   * gone, so it counts as ready (a rolling update waits for it; deploy/k8s, docs/operations.md).
   */
  get isStandingBy(): boolean {
    return !this.isOnline && this.refusedAt !== undefined && Date.now() - this.refusedAt < STANDBY_FRESH_MS;
  }

  /**
   * Connects once; afterwards @xmpp/component's reconnect module keeps the stream up (retrying a
   * second after each drop). The server takes one connection per component domain: when another
   * gateway process holds it (`conflict`), this one is a standby — the reconnect module keeps
   * knocking every second and it becomes the active one as soon as the other's connection is gone.
   */
  async connect(): Promise<void> {
    try {
      await this.xmpp.start();
    } catch (error) {
      if ((error as { condition?: string }).condition === 'conflict') {
        logger().info(
          { domain: this.options.domain },
          'component domain held by another gateway; standing by',
        );
        return;
      }
      // Without stop() the reconnect module keeps retrying behind the caller's back.
      await this.stopStream();
      throw error;
    }
  }

  async stop(): Promise<void> {
    await this.stopStream();
  }

  /**
   * Closes the stream once: a stop while another is under way (a SIGTERM while a failed first
   * attempt stops itself) waits for that one, and a stopped component is left alone. Closing a
   * stream a second time writes to the ended socket, which @xmpp/connection leaves as an unhandled
   * rejection (the process exited 1 on a SIGTERM while its XMPP server was not answering).
   */
  private stopStream(): Promise<void> {
    if (this.xmpp.status === 'offline') return Promise.resolve();
    this.stopping ??= this.dropIfNotYetOnline()
      .then(() => this.xmpp.stop())
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => (this.stopping = undefined));
    return this.stopping;
  }

  /**
   * A stream that has not come online carried nothing, so it is dropped rather than closed: a
   * graceful close waits up to 2 s for the server's stream end and 2 s more for its socket's, which a
   * server that is not answering never sends (a SIGTERM then took 6 s instead of 2). Once the socket
   * is gone, @xmpp/connection's stop() finds nothing to wait for.
   */
  private async dropIfNotYetOnline(): Promise<void> {
    const socket = this.xmpp.socket;
    if (!socket || !NOT_YET_ONLINE.has(this.xmpp.status)) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.destroy();
    });
  }

  /** XMPP's authorization: a subscription request from the bot, with its XEP-0172 nick. */
  async requestAuthorization(delivery: ImDeliveryV1, onWritten?: () => void): Promise<void> {
    await this.deliver(delivery, onWritten);
  }

  /** Contact import: the owner's roster, read through a second login of theirs (see roster-fetch.ts). */
  async fetchContacts(account: { address: string; secret: string }): Promise<ContactsResult> {
    const contacts = await fetchRoster(account.address, account.secret, { c2s: this.options.c2s });
    return { supported: true, contacts };
  }

  /**
   * Sends one delivery as stanzas; resolves once they are written to the server connection. A chat
   * message carries the delivery id as its stanza id, so an error stanza coming back for it (the
   * recipient's server unreachable, no such user, …) is recognised and reported as a bounce.
   */
  async deliver(delivery: ImDeliveryV1, onWritten?: () => void): Promise<void> {
    if (delivery.kind === 'message' && this.fanOut.enabled) return this.fanOut.deliver(delivery, onWritten);
    await this.write(stanzasOf(delivery, this.options.domain), onWritten ? [onWritten] : []);
  }

  /**
   * Writes stanzas in this order at once (each write is synchronous) and resolves once they are
   * handed to the kernel; `onWritten` runs right after the system call when all of them went into
   * this turn's corked write (see send).
   */
  private async write(stanzas: Element[], onWritten: Array<() => void>): Promise<void> {
    const socket = this.xmpp.socket;
    let buffered = 0;
    const sent = Promise.all(
      stanzas.map((stanza) => {
        const before = socket?.writableLength ?? 0;
        const done = this.send(stanza);
        // Taken into the corked socket's buffer now (not refused: offline, closing).
        if (socket && this.turn.isCorked(socket) && socket.writableLength > before) buffered += 1;
        return done;
      }),
    );
    if (buffered === stanzas.length) for (const callback of onWritten) this.turn.afterUncork(callback);
    await sent;
  }

  /**
   * Writes a stanza in this turn's one socket write (TurnWrites); resolves once it is handed to the
   * kernel. The deliveries' `onWritten` run right after that system call (afterUncork): the promises
   * resolve only after a tick and several awaits, and a process killed in between (measured: 0.2 ms
   * median, 1.5 ms at p99 on a busy machine) had written a delivery it never recorded, so its next
   * process sent it again. When the kernel did not take everything at once, the promises alone count.
   */
  private async send(stanza: Element): Promise<void> {
    if (!this.isOnline) throw new Error(`XMPP component is ${this.xmpp.status}`);
    const socket = this.xmpp.socket;
    if (socket) this.turn.cork(socket);
    await this.xmpp.send(stanza);
  }

  /** Fire-and-forget answer from the adapter itself (malformed input); logged if it fails. */
  private reply(from: string, to: string, body: string): void {
    this.send(
      xml(
        'message',
        { from, to, type: 'chat' },
        xml('body', {}, body),
        xml('parley-bot', { xmlns: NS.parleyBot }),
      ),
    ).catch((error: unknown) => logger().warn({ err: error, to }, 'could not answer a stanza'));
  }

  private onStanza(stanza: Element): void {
    const announcement = stanza.is('message') ? stanza.getChild('fanout', NS.parleyFanout) : undefined;
    if (announcement && stanza.attrs.from === this.options.domain) {
      this.fanOut.announced(announcement);
      logger().info({ max: announcement.attrs.max }, 'the XMPP server copies fan-outs (mod_parley_fanout)');
    } else if (stanza.is('message')) {
      const seq = stanza.attrs['parley-seq'] as string | undefined;
      const bounce = this.onMessage(stanza, seq);
      // A bounce is acknowledged once its retry is kept; not kept (the kit logged why), the server
      // hands it to the next connection, and this process retries it meanwhile. Anything else is
      // acknowledged once it is published.
      if (bounce)
        bounce.then(
          () => seq && this.acknowledge(seq),
          () => undefined,
        );
      else if (seq) this.port.afterInbound(() => this.acknowledge(seq));
    } else if (stanza.is('presence')) this.onPresence(stanza);
  }

  /**
   * Tells the server (mod_parley_ack) that a message it numbered is handled: published to JetStream
   * (afterInbound) or needing nothing. Until then the server keeps it and hands it to this
   * component's next connection, so a gateway killed before publishing a user's message no longer
   * loses it. The acks of one turn of the event loop leave as one stanza; one that cannot be sent
   * (the connection is gone) is not needed: the server sends the message again to the next one.
   */
  private acknowledge(seq: string): void {
    this.acks.push(seq);
    if (this.acks.length > 1) return;
    setImmediate(() => {
      const seqs = this.acks.splice(0);
      if (!this.isOnline) return;
      const { domain } = this.options;
      this.send(
        xml(
          'message',
          { from: domain, to: domain },
          xml('ack', { xmlns: NS.parleyAck, seqs: seqs.join(' ') }),
        ),
      ).catch(() => undefined);
    });
  }

  /**
   * `seq`: the server's number for the message (mod_parley_ack), the same when it is sent again.
   * Returns, for a bounce of one of our deliveries, when its retry is kept.
   */
  private onMessage(stanza: Element, seq: string | undefined): Promise<void> | undefined {
    const { from = '', to = '', type = 'normal', id } = stanza.attrs as Record<string, string | undefined>;
    if (type === 'error') return this.onBounce(stanza, id);
    // Errors, group chat and headlines are never answered: answering an error can loop forever.
    if (type !== 'chat' && type !== 'normal') return;
    const body = stanza.getChildText('body');
    if (body === null || !from) return; // chat states, receipts, …
    // Bots never answer bots: not our own (a bot invited to a conference would answer itself
    // forever), nor another Parley deployment's.
    if (isFromComponent(from, this.options.domain) || stanza.getChild('parley-bot', NS.parleyBot)) return;
    const target = parseTarget(to, this.options.domain);
    const botAddress = bareJid(to) || this.options.domain;
    if (target.kind === 'domain') {
      this.reply(
        this.options.domain,
        from,
        `This is ${this.options.serviceName}: write to a conference bot (<conference>@${this.options.domain}).`,
      );
      return;
    }
    if (target.kind !== 'bot') {
      if (target.kind === 'invalid') this.reply(botAddress, from, NO_CONFERENCE);
      return;
    }
    if (body.length > MAX_BODY_LENGTH) {
      this.reply(target.jid, from, TOO_LONG);
      return;
    }
    const text = cleanBody(body);
    if (text.trim() === '') return;
    const nick = cleanBody(stanza.getChild('nick', NS.nick)?.getText() ?? '')
      .replace(/\s+/g, ' ')
      .trim();
    this.port.inbound({
      id: inboundId({
        from,
        to: target.jid,
        stanzaId: id,
        body,
        // Without a stanza id, the server's seq makes a message it sends again the same event.
        receipt: seq ?? `${Date.now()}:${this.receipts++}`,
      }),
      kind: 'message',
      network: 'xmpp',
      conferenceId: target.conferenceId,
      from: bareJid(from),
      fromResource: resourceOf(from).slice(0, 1023),
      ...(nick ? { displayName: nick.slice(0, 200) } : {}),
      body: text,
    });
  }

  /**
   * An error stanza answering one of our messages: a bounce (never answered, which could loop). Its
   * id is the delivery id we set; the kit decides whether and when to send it again.
   */
  private onBounce(stanza: Element, id: string | undefined): Promise<void> | undefined {
    const target = parseTarget(stanza.attrs.to as string, this.options.domain);
    if (!id || target.kind !== 'bot' || !isBounceFrom(id, stanza.attrs.from as string | undefined)) return;
    const error = stanza.getChild('error');
    const condition = error?.children.find(
      (child): child is Element =>
        typeof child !== 'string' && child.attrs.xmlns === NS.stanzas && child.name !== 'text',
    );
    const name = condition?.name ?? 'undefined-condition';
    const text = error?.getChildText('text', NS.stanzas);
    return this.port.bounced(id, text ? `${name} (${text.slice(0, 200)})` : name, target.conferenceId);
  }

  private onPresence(stanza: Element): void {
    const { from = '', to = '', type } = stanza.attrs as Record<string, string | undefined>;
    if (!from || type === 'error' || isFromComponent(from, this.options.domain)) return;
    const target = parseTarget(to, this.options.domain);
    if (type === 'subscribe' || type === 'subscribed' || type === 'unsubscribe' || type === 'unsubscribed') {
      if (target.kind !== 'bot') return;
      this.port.inbound({
        id: inboundId({
          from,
          to: target.jid,
          stanzaId: undefined,
          body: type,
          receipt: `${Date.now()}:${this.receipts++}`,
        }),
        kind: 'subscription',
        network: 'xmpp',
        conferenceId: target.conferenceId,
        from: bareJid(from),
        subscription: type,
      });
      return;
    }
    if (type === 'probe') {
      if (target.kind === 'bot') void this.answerProbe(target.conferenceId, target.jid, from);
      return;
    }
    const show = presenceShow(type, stanza.getChildText('show'));
    if (!show || (target.kind !== 'bot' && target.kind !== 'domain')) return;
    const status = stanza.getChildText('status')?.slice(0, 1024);
    this.port.presence({
      address: bareJid(from),
      resource: resourceOf(from).slice(0, 1023),
      show,
      ...(status ? { status } : {}),
    });
  }

  private async answerProbe(conferenceId: string, bot: string, to: string): Promise<void> {
    try {
      const info = await this.port.bot(conferenceId);
      const online = info?.state === 'active';
      await this.send(
        online
          ? xml('presence', { from: bot, to }, xml('nick', { xmlns: NS.nick }, xmlSafe(info.botName)))
          : xml('presence', { from: bot, to, type: 'unavailable' }),
      );
    } catch (error) {
      logger().warn({ err: error, bot }, 'could not answer a presence probe');
    }
  }

  // ---- service discovery (XEP-0030) and vCard (XEP-0054) -----------------------------------

  private async discoInfo(ctx: IncomingContext): Promise<Element> {
    const target = parseTarget(ctx.stanza.attrs.to as string, this.options.domain);
    const node = ctx.element.attrs.node as string | undefined;
    const features = [NS.discoInfo, NS.discoItems, NS.vcard, NS.ping];
    if (target.kind === 'domain') {
      return xml(
        'query',
        { xmlns: NS.discoInfo, ...(node ? { node } : {}) },
        xml('identity', { category: 'component', type: 'generic', name: this.options.serviceName }),
        ...features.map((v) => xml('feature', { var: v })),
      );
    }
    const info = target.kind === 'bot' ? await this.port.bot(target.conferenceId) : null;
    if (!info) return itemNotFound();
    return xml(
      'query',
      { xmlns: NS.discoInfo, ...(node ? { node } : {}) },
      xml('identity', { category: 'client', type: 'bot', name: xmlSafe(info.botName) }),
      ...features.filter((v) => v !== NS.discoItems).map((v) => xml('feature', { var: v })),
    );
  }

  private async discoItems(ctx: IncomingContext): Promise<Element> {
    const target = parseTarget(ctx.stanza.attrs.to as string, this.options.domain);
    if (target.kind === 'domain') {
      const conferences = await this.port.joinableBy(bareJid(ctx.stanza.attrs.from as string));
      return xml(
        'query',
        { xmlns: NS.discoItems },
        ...conferences.map((c) =>
          xml('item', { jid: botJid(c.conferenceId, this.options.domain), name: xmlSafe(c.botName) }),
        ),
      );
    }
    const info = target.kind === 'bot' ? await this.port.bot(target.conferenceId) : null;
    if (!info) return itemNotFound();
    return xml('query', { xmlns: NS.discoItems });
  }

  private async vcard(ctx: IncomingContext): Promise<Element> {
    const target = parseTarget(ctx.stanza.attrs.to as string, this.options.domain);
    if (target.kind === 'domain') {
      return xml('vCard', { xmlns: NS.vcard }, xml('FN', {}, this.options.serviceName));
    }
    const info = target.kind === 'bot' ? await this.port.bot(target.conferenceId) : null;
    if (!info) return itemNotFound();
    return xml(
      'vCard',
      { xmlns: NS.vcard },
      xml('FN', {}, xmlSafe(info.botName)),
      xml('NICKNAME', {}, xmlSafe(info.botName)),
      ...(info.subject ? [xml('DESC', {}, xmlSafe(info.subject))] : []),
    );
  }
}

function itemNotFound(): Element {
  return xml('error', { type: 'cancel' }, xml('item-not-found', { xmlns: NS.stanzas }));
}

/** The stanzas of a delivery, in the order they are written. */
function stanzasOf(delivery: ImDeliveryV1, domain: string): Element[] {
  const from = botJid(delivery.conferenceId, domain);
  const to = delivery.to;
  const nick = () => xml('nick', { xmlns: NS.nick }, xmlSafe(delivery.botName));
  switch (delivery.kind) {
    case 'message':
      return [chatMessage(delivery, domain)];
    case 'authorization-request':
      return [xml('presence', { from, to, type: 'subscribe' }, nick())];
    case 'bot-online':
      // Grant the user's subscription to the bot (harmless when they never asked), then show it online.
      return [xml('presence', { from, to, type: 'subscribed' }), xml('presence', { from, to }, nick())];
    case 'bot-offline':
      return [xml('presence', { from, to, type: 'unavailable' })];
    case 'revoke-authorization':
      return [
        xml('presence', { from, to, type: 'unsubscribed' }),
        xml('presence', { from, to, type: 'unsubscribe' }),
      ];
  }
}

/**
 * Drops bytes a server sends after its stream ended: @xmpp/connection feeds them to a parser it has
 * already detached and throws from the socket's data handler — an uncaught exception that ends the
 * process (xmppjs/xmpp.js#860, fixed upstream by PR #1100, not in a release yet). Installed before
 * the first connection: the socket listener binds `_onData` then.
 */
function ignoreDataAfterStreamEnd(xmpp: Component): void {
  const connection = xmpp as unknown as { parser: unknown; _onData(data: Buffer): void };
  const onData = connection._onData;
  connection._onData = function (this: typeof connection, data: Buffer) {
    if (this.parser) onData.call(this, data);
  };
}
