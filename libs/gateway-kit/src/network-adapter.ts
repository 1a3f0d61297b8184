/**
 * The one interface a network adapter implements, and the port the gateway kit hands it. An
 * adapter translates between its protocol and the contract messages; it holds no bus code.
 * Documented in docs/gateway-adapter.md.
 */
import type {
  BotInfo,
  ImDeliveryV1,
  ImInboundV1,
  Network,
  PresenceShow,
  RosterContact,
} from '@parley/contracts';

type Distribute<T> = T extends unknown ? Omit<T, 'occurredAt'> : never;
/** An inbound event (message or subscription answer) without its time: the kit stamps it. */
export type InboundDraft = Distribute<ImInboundV1>;

/** One client's raw presence as the network reports it. */
export interface PresenceDraft {
  address: string;
  /** The client/connection (XMPP resource; IRC: the connection, `irc`). */
  resource: string;
  show: PresenceShow;
  status?: string;
}

/**
 * What a contact import gets from a network: a list (addresses with names and groups), or a clear
 * "this network has none". A login that fails throws `ContactsFetchError`.
 */
export type ContactsResult =
  { supported: true; contacts: RosterContact[] } | { supported: false; reason: string };

/** Why a contact list could not be read, in words for the owner (never with the credentials in them). */
export class ContactsFetchError extends Error {
  override readonly name = 'ContactsFetchError';
  constructor(
    readonly code: 'wrong-password' | 'server-unreachable',
    message: string,
  ) {
    super(message);
  }
}

/** What the adapter may ask of the gateway (implemented by the kit's GatewayRuntime). */
export interface GatewayPort {
  /** Reports an inbound message or subscription answer; published durably with `event.id` as its id. */
  inbound(event: InboundDraft): void;
  /**
   * Calls `done` once every inbound event reported so far is published (or, if it could not be,
   * its sender was told): the moment a network that acknowledges what it handed over may be told
   * so (XMPP with the server's mod_parley_ack).
   */
  afterInbound(done: () => void): void;
  /** Reports a presence; only changes are published. */
  presence(update: PresenceDraft): void;
  /**
   * Reports that the network refused a delivery of `conferenceId`'s bot after `deliver` resolved (an
   * XMPP error stanza answering it, identified by the delivery id the adapter put on it): the kit
   * retries it later, also when this process did not send it (see GatewayRuntime.bounced). Resolves
   * once the retry is kept durably (then the network may be told the error stanza was handled);
   * rejects when it could not be (the kit logged it).
   */
  bounced(deliveryId: string, reason: string, conferenceId: string): Promise<void>;
  /** The bot of one conference, or null when there is none. */
  bot(conferenceId: string): Promise<BotInfo | null>;
  /** The conferences `address` may join. */
  joinableBy(address: string): Promise<BotInfo[]>;
  /**
   * Whether this process may deliver for a conference right now: always, unless the gateway is
   * shared out between processes by conference (GatewayOptions.shareOutByConference) and this one
   * no longer surely holds the conference's partition. Ask it just before writing to the network.
   */
  holds(conferenceId: string): boolean;
}

/** A network adapter: protocol translation only. */
export interface NetworkAdapter {
  readonly network: Network;
  /** True while the adapter can deliver (feeds /health/ready). */
  readonly isOnline: boolean;
  /** A short human status for health details, e.g. "offline", "2 of 3 bots connected". */
  readonly status: string;
  /**
   * Connects to the network. Rejects if the first connection fails (the kit retries with
   * backoff); once connected, the adapter keeps itself connected (reconnect with backoff).
   */
  connect(): Promise<void>;
  /**
   * Optional: reports every change of `isOnline`. An adapter that has it lets the kit run as a
   * standby (GatewayOptions.consumeOnlyWhileOnline): deliveries are consumed only while online.
   */
  onOnlineChange?(listener: (isOnline: boolean) => void): void;
  /**
   * Optional (gateways shared out by conference): the process just took these conferences on
   * (start-up, take-over, rebalance); bring their bots online now, without waiting for a delivery.
   */
  bringOnline?(bots: BotInfo[]): void;
  /**
   * Optional: the process no longer serves the conferences `isLetGo` picks (their deliveries stopped
   * already): take their bots offline, so the process taking them on can bring them online.
   */
  letGo?(isLetGo: (conferenceId: string) => boolean): Promise<void>;
  /** Disconnects for good; pending deliveries fail and are redelivered to the next instance. */
  stop(): Promise<void>;
  /**
   * Delivers `message`, `bot-online`, `bot-offline` and `revoke-authorization`. Resolves only
   * once the network accepted it; rejects to have it retried (not acked) with backoff. Throw
   * `UndeliverableError` for a delivery no retry can help (it is logged and dropped).
   *
   * `onWritten`, when the adapter can tell, is called synchronously in the very step in which the
   * delivery was handed to the network connection (right after the system call that wrote it, or
   * as the network's answer is read), before the promise settles: the kit records the recipient as
   * served from there, so a process killed just after writing a delivery has almost never left it
   * unrecorded (docs/reliability.md). If the promise then rejects, the kit takes the recipient as
   * not served. An adapter that cannot tell never calls it; the promise alone then counts.
   */
  deliver(delivery: ImDeliveryV1, onWritten?: () => void): Promise<void>;
  /** The network's form of "may this bot talk to you?" (same contract as deliver). */
  requestAuthorization(delivery: ImDeliveryV1, onWritten?: () => void): Promise<void>;
  /**
   * The contacts of an account on this network, or `supported: false` with the reason; throws
   * `ContactsFetchError` for a wrong password or an unreachable server. `secret` is the account's
   * decrypted password: use it for this login only, never log it.
   */
  fetchContacts(account: { address: string; secret: string }): Promise<ContactsResult>;
}

/** A delivery that can never succeed (e.g. an address this gateway cannot reach): dropped, not retried. */
export class UndeliverableError extends Error {
  override readonly name = 'UndeliverableError';
}
