/**
 * One stanza for the recipients of a message, when the XMPP server makes the copies itself
 * (`deploy/prosody/modules/mod_parley_fanout.lua`, as its own multi-user chat does). Without it a
 * message to a 500-person conference is 499 stanzas that this gateway serializes and the server
 * parses; measured at N = 500, the server spent twice the CPU per delivery in Parley's step that it
 * spent in a chat room's, and the last recipient waited for it (docs/performance.md).
 *
 * The server announces the module on each new component connection (a `fanout` element with the
 * most recipients it takes in one stanza); until then, and on a server without it, every recipient
 * gets a stanza of their own. The kit starts a fan-out's deliveries in one turn of the event loop:
 * the chat messages of one turn are grouped by message and written, in the check phase, as one
 * stanza per group (a group of one as a plain message). Each copy keeps its recipient's delivery id
 * as its stanza id, so de-duplication (mod_parley_dedup) and bounces work per recipient as before.
 */
import { xml } from '@xmpp/component';
import type { Element } from '@xmpp/xml';
import { fanOutOfDelivery, type ImDeliveryV1 } from '@parley/contracts';
import { NS, botJid, xmlSafe } from './stanza-rules.js';

/** The most recipients a stanza lists, whatever the server says it takes. */
const MOST_RECIPIENTS = 500;

/** Writes stanzas in this turn's socket write; runs `onWritten` right after the system call that took them. */
export type StanzaWriter = (stanzas: Element[], onWritten: Array<() => void>) => Promise<void>;

interface Copy {
  delivery: ImDeliveryV1;
  onWritten: (() => void) | undefined;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** A chat message of a conference bot to one recipient, with the delivery id as its stanza id. */
export function chatMessage(delivery: ImDeliveryV1, domain: string): Element {
  return xml(
    'message',
    { from: botJid(delivery.conferenceId, domain), to: delivery.to, type: 'chat', id: delivery.deliveryId },
    ...chatChildren(delivery),
  );
}

/** The same message for several recipients of one fan-out, for the server to copy. */
export function fanOutMessage(deliveries: ImDeliveryV1[], domain: string): Element {
  const first = deliveries[0]!;
  return xml(
    'message',
    { from: botJid(first.conferenceId, domain), to: domain, type: 'chat' },
    ...chatChildren(first),
    xml(
      'fanout',
      { xmlns: NS.parleyFanout },
      ...deliveries.map((d) => xml('to', { jid: d.to, id: d.deliveryId })),
    ),
  );
}

function chatChildren(delivery: ImDeliveryV1): Element[] {
  return [xml('body', {}, xmlSafe(delivery.body ?? '')), xml('parley-bot', { xmlns: NS.parleyBot })];
}

export class ServerFanOut {
  /** Recipients the server takes in one stanza on this connection (0: it makes no copies). */
  private most = 0;
  /** This turn's chat messages, grouped by message, in the order their first copy came. */
  private turn: Map<string, Copy[]> | undefined;

  constructor(
    private readonly domain: string,
    private readonly write: StanzaWriter,
  ) {}

  /** The server's announcement (`<fanout xmlns="urn:parley:fanout" max="…"/>`) on this connection. */
  announced(announcement: Element): void {
    const max = Number(announcement.attrs.max);
    this.most = Number.isInteger(max) && max > 1 ? Math.min(max, MOST_RECIPIENTS) : 0;
  }

  /** The connection is gone: the next one may lead to a server without the module. */
  reset(): void {
    this.most = 0;
  }

  get enabled(): boolean {
    return this.most > 1;
  }

  /** Queues a chat message for this turn; resolves once the stanza carrying it is written. */
  deliver(delivery: ImDeliveryV1, onWritten?: () => void): Promise<void> {
    if (!this.turn) {
      this.turn = new Map();
      setImmediate(() => this.flush());
    }
    const message = fanOutOfDelivery(delivery.deliveryId)?.fanOutId ?? delivery.deliveryId;
    const key = `${message}\u0000${delivery.conferenceId}\u0000${delivery.body ?? ''}`;
    const group = this.turn.get(key) ?? [];
    this.turn.set(key, group);
    return new Promise((resolve, reject) => group.push({ delivery, onWritten, resolve, reject }));
  }

  private flush(): void {
    const groups = this.turn!;
    this.turn = undefined;
    const perStanza = this.most || 1;
    for (const group of groups.values()) {
      for (let i = 0; i < group.length; i += perStanza) {
        const copies = group.slice(i, i + perStanza);
        const deliveries = copies.map((copy) => copy.delivery);
        const stanza =
          copies.length === 1
            ? chatMessage(deliveries[0]!, this.domain)
            : fanOutMessage(deliveries, this.domain);
        const onWritten = copies.flatMap((copy) => (copy.onWritten ? [copy.onWritten] : []));
        this.write([stanza], onWritten).then(
          () => copies.forEach((copy) => copy.resolve()),
          (error: unknown) => copies.forEach((copy) => copy.reject(error)),
        );
      }
    }
  }
}
