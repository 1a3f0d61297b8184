/**
 * The conference rules in one place, without I/O: what happens when a participant writes to a bot,
 * answers its authorization request, is invited, and when the owner starts or closes a conference.
 * Each function takes the conference and a copy of its roster, changes the roster copy, and returns
 * what must be sent (one delivery per recipient) and which facts to record (conference events).
 * The services apply a decision in one database transaction (see conference.store.ts `record`).
 */
import {
  normalizeAddress,
  type AggregatePresence,
  type ConferenceEventV1,
  type ConferenceState,
  type ImDeliveryV1,
  type ImInboundV1,
  type JoinPolicy,
  type Network,
  type ParticipantState,
} from '@parley/contracts';
import { HELP_TEXT, parseCommand, type Command } from '../commands/parse-command.js';
import {
  cleanDisplayName,
  isTooLong,
  prefixEveryLine,
  splitBotMessage,
  tooLongReply,
  uniqueDisplayName,
} from './text-rules.js';

export interface ConferenceFacts {
  id: string;
  name: string;
  subject: string;
  state: ConferenceState;
  joinPolicy: JoinPolicy;
}

export interface Inviter {
  participantId: string | null;
  network: Network;
  address: string;
  displayName: string;
}

export interface ParticipantFacts {
  /** Null for a participant this decision creates; the service gives it an id. */
  id: string | null;
  network: Network;
  /** Normalized (see normalizeAddress). */
  address: string;
  displayName: string;
  state: ParticipantState;
  invitedBy: Inviter | null;
  joinedAt: Date | null;
  leftAt: Date | null;
  messageCount: number;
  /** The owner, taking part through their chosen IM account (may run /remove and /close). */
  isOwner?: boolean;
}

export interface DeliveryDraft {
  network: Network;
  to: string;
  kind: ImDeliveryV1['kind'];
  body?: string;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A conference event before the service gives it an id, a time and its seq. */
export type EventDraft = DistributiveOmit<ConferenceEventV1, 'id' | 'occurredAt' | 'conferenceId' | 'seq'>;

export interface Decision {
  deliveries: DeliveryDraft[];
  events: EventDraft[];
  /** Roster entries this decision created or changed (the same objects as in the roster). */
  touched: ParticipantFacts[];
}

export interface DecideOptions {
  now: Date;
  /** Whether the sender is in the owner's imported contacts (join policy `owner-contacts`). */
  isOwnerContact: boolean;
  /** What the service looked up before deciding, for the commands that need another service. */
  lookups?: CommandLookups;
  /** Who may be invited and how many (default: anyone but bots the rules know, no caps). */
  invitations?: InvitationPolicy;
  /** Networks whose participants cannot prove who they are: /list says so. */
  unverifiedNetworks?: ReadonlySet<Network>;
}

/**
 * Limits on invitations: a Parley bot (this deployment's or another's) is never invited, and
 * participants (not the owner) invite at most `perParticipant` people each and `byParticipants`
 * in all per conference.
 */
export interface InvitationPolicy {
  isBotAddress: (network: Network, address: string) => boolean;
  perParticipant: number;
  byParticipants: number;
}

export const NO_INVITATION_LIMITS: InvitationPolicy = {
  isBotAddress: () => false,
  perParticipant: Number.POSITIVE_INFINITY,
  byParticipants: Number.POSITIVE_INFINITY,
};

/** A participant's aggregate presence as the presence service reported it. */
export interface PresenceInfo {
  presence: AggregatePresence;
  status?: string;
}

/**
 * Answers fetched before the decision (the rules stay pure): `undefined` = not looked up,
 * `null` = the service did not answer.
 */
export interface CommandLookups {
  /** The archive's bot messages for /history or /search. */
  archive?: string[] | null;
  /** Presence per participant, keyed by presenceKey(), for /list status and /list active. */
  presence?: ReadonlyMap<string, PresenceInfo> | null;
  /** For /invite: whether the invitee is a Parley bot (an IRC bot nick is known only to the store). */
  inviteeIsBot?: boolean;
}

/** The key of an identity in presence maps: `network:normalized address`. */
export function presenceKey(p: { network: Network; address: string }): string {
  return `${p.network}:${p.address}`;
}

/** States in which a participant receives relayed messages and notices. */
const RECEIVING: ReadonlySet<ParticipantState> = new Set(['joined']);
/** States in which a participant is in the conversation (may talk, list, invite). */
const IN_CONFERENCE: ReadonlySet<ParticipantState> = new Set(['joined', 'paused']);
/** States of people the bot has contacted (they get the goodbye when it closes). */
const CONTACTED: ReadonlySet<ParticipantState> = new Set([
  'invited',
  'authorized',
  'joined',
  'paused',
  'left',
]);

/** "alice (xmpp)" — how a participant is named to the others. */
export function label(p: { displayName: string; network: Network }): string {
  return `${p.displayName} (${p.network})`;
}

/** What every relayed message looks like: `[alice (xmpp)] text`, the prefix on every line. */
export function relayText(sender: ParticipantFacts, text: string): string {
  return prefixEveryLine(`[${label(sender)}]`, text);
}

/** The display name of an address when nobody gave one: the user part of a JID / the IRC nick. */
export function defaultDisplayName(address: string): string {
  const at = address.indexOf('@');
  return (at > 0 ? address.slice(0, at) : address).slice(0, 200);
}

export function findParticipant(
  roster: ParticipantFacts[],
  network: Network,
  address: string,
): ParticipantFacts | undefined {
  const key = normalizeAddress(network, address);
  return roster.find((p) => p.network === network && p.address === key);
}

function ref(p: ParticipantFacts) {
  return { network: p.network, address: p.address, displayName: p.displayName };
}

function inviterOf(p: ParticipantFacts): Inviter {
  return { participantId: p.id, network: p.network, address: p.address, displayName: p.displayName };
}

/** Adds another decision's deliveries, events and touched participants to a builder's. */
function merge(b: DecisionBuilder, other: Decision): void {
  b.decision.deliveries.push(...other.deliveries);
  b.decision.events.push(...other.events);
  for (const p of other.touched) b.touch(p);
}

/** Decisions taken one after another, as one: deliveries and events in order, touched once each. */
export function mergeDecisions(decisions: Decision[]): Decision {
  const b = new DecisionBuilder();
  for (const decision of decisions) merge(b, decision);
  return b.decision;
}

class DecisionBuilder {
  readonly decision: Decision = { deliveries: [], events: [], touched: [] };

  /** Sends `body`, split into messages that fit when it is long (a long /list or /history). */
  send(to: { network: Network; address: string }, body: string): void {
    for (const part of splitBotMessage(body)) {
      this.decision.deliveries.push({ network: to.network, to: to.address, kind: 'message', body: part });
    }
  }

  signal(to: { network: Network; address: string }, kind: DeliveryDraft['kind']): void {
    this.decision.deliveries.push({ network: to.network, to: to.address, kind });
  }

  /** Tells every receiving participant except `except`. */
  notify(roster: ParticipantFacts[], body: string, except?: ParticipantFacts): void {
    for (const p of roster) if (p !== except && RECEIVING.has(p.state)) this.send(p, body);
  }

  record(event: EventDraft): void {
    this.decision.events.push(event);
  }

  touch(p: ParticipantFacts): void {
    if (!this.decision.touched.includes(p)) this.decision.touched.push(p);
  }
}

export function invitationText(conference: ConferenceFacts, invitedBy: Inviter | null): string {
  const subject = conference.subject ? ` — ${conference.subject}` : '';
  const by = invitedBy ? ` by ${label(invitedBy)}` : '';
  return `You are invited${by} to the conference "${conference.name}"${subject}. Reply /join to join, /help for the commands.`;
}

/** An invitee of an active conference is asked to accept the bot, then told how to join. */
function contactInvitee(b: DecisionBuilder, conference: ConferenceFacts, p: ParticipantFacts): void {
  b.signal(p, 'authorization-request');
  b.send(p, invitationText(conference, p.invitedBy));
}

/** A display name for `wanted` (or the address's default), cleaned and unique in the roster. */
function displayNameFor(
  roster: ParticipantFacts[],
  address: string,
  wanted: string | undefined,
  self?: ParticipantFacts,
): string {
  const fallback = defaultDisplayName(address);
  const name = cleanDisplayName(wanted?.trim() || fallback, fallback);
  return uniqueDisplayName(
    name,
    roster.filter((p) => p !== self && p.state !== 'removed').map((p) => p.displayName),
  );
}

/**
 * Adds (or re-invites) someone. Returns the participant, or a reason when that identity is already
 * in the conference, was removed by the owner (only the owner can bring them back), is a Parley
 * bot, or the inviting participant has used up the invitation limits.
 */
export function invite(
  conference: ConferenceFacts,
  roster: ParticipantFacts[],
  invitee: { network: Network; address: string; displayName?: string; isBot?: boolean },
  invitedBy: ParticipantFacts | null,
  b: DecisionBuilder = new DecisionBuilder(),
  policy: InvitationPolicy = NO_INVITATION_LIMITS,
): { decision: Decision; participant?: ParticipantFacts; refusal?: string } {
  const address = normalizeAddress(invitee.network, invitee.address);
  if (invitee.isBot || policy.isBotAddress(invitee.network, address)) {
    return {
      decision: b.decision,
      refusal: `${address} (${invitee.network}) is a Parley conference bot; bots cannot be invited.`,
    };
  }
  if (invitedBy) {
    const mine = roster.filter((p) => p.invitedBy?.participantId === invitedBy.id).length;
    if (mine >= policy.perParticipant) {
      return {
        decision: b.decision,
        refusal: `You have invited ${mine} people, the most one participant may invite here; ask the owner of "${conference.name}" to invite more.`,
      };
    }
    const byParticipants = roster.filter(
      (p) => p.invitedBy !== null && p.invitedBy.address !== p.address,
    ).length;
    if (byParticipants >= policy.byParticipants) {
      return {
        decision: b.decision,
        refusal: `"${conference.name}" has reached its limit of ${policy.byParticipants} invitations by participants; ask its owner to invite more.`,
      };
    }
  }
  let p = findParticipant(roster, invitee.network, address);
  if (p && p.state !== 'left' && !(p.state === 'removed' && invitedBy === null)) {
    const refusal =
      p.state === 'removed'
        ? `${address} (${p.network}) was removed by the owner and cannot be invited again.`
        : `${address} (${p.network}) is already a participant.`;
    return { decision: b.decision, refusal };
  }
  if (p) {
    p.state = 'invited';
    p.invitedBy = invitedBy ? inviterOf(invitedBy) : null;
    p.leftAt = null;
    if (invitee.displayName) p.displayName = displayNameFor(roster, address, invitee.displayName, p);
  } else {
    p = {
      id: null,
      network: invitee.network,
      address,
      displayName: displayNameFor(roster, address, invitee.displayName),
      state: 'invited',
      invitedBy: invitedBy ? inviterOf(invitedBy) : null,
      joinedAt: null,
      leftAt: null,
      messageCount: 0,
    };
    roster.push(p);
  }
  b.touch(p);
  b.record({
    type: 'participant-invited',
    participant: ref(p),
    invitedBy: invitedBy ? ref(invitedBy) : null,
  });
  if (conference.state === 'active') {
    contactInvitee(b, conference, p);
    const by = invitedBy ? label(invitedBy) : 'the owner';
    b.notify(roster, `${label(p)} was invited by ${by}.`, invitedBy ?? undefined);
  }
  return { decision: b.decision, participant: p };
}

/**
 * The owner's chosen IM identity takes part (null: the owner no longer does): it is invited like
 * anyone — contacted at once when the conference runs — and marked as the owner; a previous owner
 * identity loses the mark (and stays a participant).
 */
export function setOwner(
  conference: ConferenceFacts,
  roster: ParticipantFacts[],
  identity: { network: Network; address: string } | null,
): Decision {
  const b = new DecisionBuilder();
  const address = identity ? normalizeAddress(identity.network, identity.address) : null;
  for (const p of roster) {
    if (p.isOwner && !(identity && p.network === identity.network && p.address === address)) {
      p.isOwner = false;
      b.touch(p);
    }
  }
  if (!identity) return b.decision;
  let p = findParticipant(roster, identity.network, identity.address);
  if (!p || p.state === 'removed' || p.state === 'left')
    p = invite(conference, roster, identity, null, b).participant;
  if (p && !p.isOwner) {
    p.isOwner = true;
    b.touch(p);
  }
  return b.decision;
}

/** draft → active: every invitee gets the authorization request, then the invitation. */
export function startConference(conference: ConferenceFacts, roster: ParticipantFacts[]): Decision {
  const b = new DecisionBuilder();
  conference.state = 'active';
  b.record({ type: 'conference-started', name: conference.name, subject: conference.subject });
  for (const p of roster) if (p.state === 'invited') contactInvitee(b, conference, p);
  return b.decision;
}

/** → terminated: every contacted participant gets the goodbye, loses the bot's authorization, sees it go offline. */
export function closeConference(
  conference: ConferenceFacts,
  roster: ParticipantFacts[],
  reason: 'closed' | 'ttl-expired',
): Decision {
  const b = new DecisionBuilder();
  const wasActive = conference.state === 'active';
  conference.state = 'terminated';
  b.record({ type: 'conference-terminated', reason });
  if (!wasActive) return b.decision;
  const why = reason === 'closed' ? 'was closed by its owner' : 'has expired';
  for (const p of roster) {
    if (!CONTACTED.has(p.state)) continue;
    b.send(p, `The conference "${conference.name}" ${why}. Goodbye!`);
    b.signal(p, 'revoke-authorization');
    b.signal(p, 'bot-offline');
  }
  return b.decision;
}

/** The owner removes a participant: they are told, lose the bot, and the others are told. */
export function removeParticipant(
  conference: ConferenceFacts,
  roster: ParticipantFacts[],
  p: ParticipantFacts,
  now: Date,
): Decision {
  const b = new DecisionBuilder();
  if (p.state === 'removed') return b.decision;
  const wasContacted = conference.state === 'active' && CONTACTED.has(p.state);
  const wasIn = IN_CONFERENCE.has(p.state);
  p.state = 'removed';
  p.leftAt = now;
  b.touch(p);
  b.record({ type: 'participant-removed', participant: ref(p) });
  if (wasContacted) {
    b.send(p, `You were removed from the conference "${conference.name}" by its owner.`);
    b.signal(p, 'revoke-authorization');
    b.signal(p, 'bot-offline');
  }
  if (wasIn && conference.state === 'active') b.notify(roster, `${label(p)} was removed by the owner.`);
  return b.decision;
}

/** Decides what an inbound IM event (message or subscription answer) does. */
export function decideInbound(
  conference: ConferenceFacts | null,
  roster: ParticipantFacts[],
  inbound: ImInboundV1,
  options: DecideOptions,
): Decision {
  const b = new DecisionBuilder();
  const from = { network: inbound.network, address: normalizeAddress(inbound.network, inbound.from) };
  if (inbound.kind === 'subscription') {
    decideSubscription(b, conference, roster, from, inbound.subscription);
    return b.decision;
  }
  if (!conference) {
    b.send(from, 'There is no conference at this address.');
    return b.decision;
  }
  if (conference.state === 'terminated') {
    b.send(from, `The conference "${conference.name}" has ended.`);
    return b.decision;
  }
  if (conference.state === 'draft') {
    b.send(from, `The conference "${conference.name}" has not started yet.`);
    return b.decision;
  }
  if (inbound.body.trim() === '') return b.decision;
  const sender = findParticipant(roster, from.network, from.address);
  const parsed = parseCommand(inbound.body);
  if (parsed.kind === 'text' && isTooLong(parsed.text) && sender && IN_CONFERENCE.has(sender.state)) {
    b.send(from, tooLongReply(parsed.text));
    return b.decision;
  }
  if (parsed.kind === 'invalid') {
    b.send(from, parsed.reply);
    return b.decision;
  }
  if (parsed.kind === 'command') {
    runCommand(b, conference, roster, sender, from, parsed.command, inbound.displayName, options);
    return b.decision;
  }
  if (!sender || sender.state === 'removed') {
    b.send(from, refusal(conference, sender, options));
    return b.decision;
  }
  if (!IN_CONFERENCE.has(sender.state)) {
    const hint = sender.state === 'left' ? 'You left this conference' : 'You have not joined yet';
    b.send(from, `${hint}: send /join to join "${conference.name}" (your message was not relayed).`);
    return b.decision;
  }
  sender.messageCount += 1;
  b.touch(sender);
  b.record({ type: 'message-accepted', sender: ref(sender), body: parsed.text });
  for (const p of roster) {
    if (p !== sender && RECEIVING.has(p.state)) b.send(p, relayText(sender, parsed.text));
  }
  return b.decision;
}

/** Whether someone who is not (or no longer) a participant may /join by themselves. */
export function mayJoinUninvited(policy: JoinPolicy, isOwnerContact: boolean): boolean {
  return policy === 'open' || (policy === 'owner-contacts' && isOwnerContact);
}

function refusal(
  conference: ConferenceFacts,
  sender: ParticipantFacts | undefined,
  options: DecideOptions,
): string {
  if (sender?.state === 'removed') {
    return `Sorry, you are no longer a participant of "${conference.name}".`;
  }
  if (mayJoinUninvited(conference.joinPolicy, options.isOwnerContact)) {
    return `You are not in "${conference.name}" yet: send /join to join (your message was not relayed).`;
  }
  return `Sorry, "${conference.name}" is a private conference: only invited participants can take part.`;
}

function decideSubscription(
  b: DecisionBuilder,
  conference: ConferenceFacts | null,
  roster: ParticipantFacts[],
  from: { network: Network; address: string },
  subscription: 'subscribe' | 'subscribed' | 'unsubscribe' | 'unsubscribed',
): void {
  const p = findParticipant(roster, from.network, from.address);
  const isWelcome =
    conference?.state === 'active' &&
    ((p !== undefined && p.state !== 'removed') || conference.joinPolicy === 'open');
  switch (subscription) {
    case 'subscribed':
      // The participant accepted the bot's authorization request.
      if (!isWelcome || !conference) return;
      if (p?.state === 'invited') {
        p.state = 'authorized';
        b.touch(p);
        b.record({ type: 'participant-authorized', participant: ref(p) });
      }
      b.signal(from, 'bot-online');
      return;
    case 'subscribe':
      // The user adds the bot: granted to participants (and anyone, for open conferences).
      b.signal(from, isWelcome ? 'bot-online' : 'revoke-authorization');
      return;
    case 'unsubscribe':
    case 'unsubscribed':
      // The user dropped the bot from the contact list or declined it; the participant stays
      // invited (the owner sees it) and can still /join from a client without contact lists.
      return;
  }
}

function runCommand(
  b: DecisionBuilder,
  conference: ConferenceFacts,
  roster: ParticipantFacts[],
  sender: ParticipantFacts | undefined,
  from: { network: Network; address: string },
  command: Command,
  displayName: string | undefined,
  options: DecideOptions,
): void {
  if (command.name === 'help') {
    b.send(from, HELP_TEXT);
    return;
  }
  if (command.name === 'join') {
    join(b, conference, roster, sender, from, displayName, options);
    return;
  }
  if (!sender || sender.state === 'removed') {
    b.send(from, refusal(conference, sender, options));
    return;
  }
  const inConference = IN_CONFERENCE.has(sender.state);
  const notIn = `You are not in "${conference.name}": send /join first.`;
  switch (command.name) {
    case 'exit':
      if (!inConference) return b.send(from, notIn);
      sender.state = 'left';
      sender.leftAt = options.now;
      b.touch(sender);
      b.record({ type: 'participant-left', participant: ref(sender) });
      b.send(from, `You left "${conference.name}". Send /join to come back.`);
      b.notify(roster, `${label(sender)} left.`, sender);
      return;
    case 'pause':
      if (!inConference) return b.send(from, notIn);
      if (sender.state === 'paused')
        return b.send(from, 'You are already paused; send /resume to receive messages again.');
      sender.state = 'paused';
      b.touch(sender);
      b.record({ type: 'participant-paused', participant: ref(sender) });
      b.send(from, 'Paused: you will receive no messages until you send /resume.');
      return;
    case 'resume':
      if (!inConference) return b.send(from, notIn);
      if (sender.state === 'joined') return b.send(from, 'You are not paused.');
      sender.state = 'joined';
      b.touch(sender);
      b.record({ type: 'participant-resumed', participant: ref(sender) });
      b.send(from, 'Resumed: you receive messages again.');
      return;
    case 'list': {
      const unverified = options.unverifiedNetworks;
      if (command.filter === 'all') return b.send(from, listText(conference, roster, sender, unverified));
      const presence = options.lookups?.presence;
      if (!presence) {
        return b.send(from, 'Presence is not available right now; /list shows every participant.');
      }
      return b.send(
        from,
        command.filter === 'status'
          ? listStatusText(conference, roster, sender, presence, unverified)
          : listActiveText(conference, roster, sender, presence, unverified),
      );
    }
    case 'invite': {
      if (!inConference) return b.send(from, notIn);
      const invitee = { ...command, isBot: options.lookups?.inviteeIsBot ?? false };
      const result = invite(conference, roster, invitee, sender, b, options.invitations);
      b.send(from, result.refusal ?? `Invited ${label(result.participant!)}.`);
      return;
    }
    case 'remove':
    case 'close': {
      if (!sender.isOwner)
        return b.send(from, `Only the owner of "${conference.name}" can /${command.name}.`);
      if (command.name === 'close') {
        merge(b, closeConference(conference, roster, 'closed'));
        return;
      }
      const who = command.who.trim().toLowerCase();
      const target = roster.find(
        (p) =>
          p.state !== 'removed' && p !== sender && (p.displayName.toLowerCase() === who || p.address === who),
      );
      if (!target) return b.send(from, `Nobody called "${command.who}" takes part in "${conference.name}".`);
      merge(b, removeParticipant(conference, roster, target, options.now));
      b.send(from, `Removed ${label(target)}.`);
      return;
    }
    case 'history':
    case 'search': {
      if (!inConference) return b.send(from, notIn);
      const answer = options.lookups?.archive;
      if (!answer)
        return b.send(from, 'The archive is not available right now; please try again in a moment.');
      // The archive formats the lines; each of its messages goes to the asker only, in order.
      if (answer.length === 0) return b.send(from, 'No messages to show.');
      for (const message of answer) b.send(from, message);
      return;
    }
  }
}

function join(
  b: DecisionBuilder,
  conference: ConferenceFacts,
  roster: ParticipantFacts[],
  sender: ParticipantFacts | undefined,
  from: { network: Network; address: string },
  displayName: string | undefined,
  options: DecideOptions,
): void {
  if (sender && IN_CONFERENCE.has(sender.state)) {
    b.send(from, `You are already in "${conference.name}".`);
    return;
  }
  if (!sender || sender.state === 'removed') {
    if (sender?.state === 'removed' || !mayJoinUninvited(conference.joinPolicy, options.isOwnerContact)) {
      b.send(from, refusal(conference, sender, options));
      return;
    }
    // Self-invited through the join policy: recorded as invited by themselves.
    const name = displayNameFor(roster, from.address, displayName);
    sender = {
      id: null,
      network: from.network,
      address: from.address,
      displayName: name,
      state: 'invited',
      invitedBy: { participantId: null, network: from.network, address: from.address, displayName: name },
      joinedAt: null,
      leftAt: null,
      messageCount: 0,
    };
    roster.push(sender);
    b.record({ type: 'participant-invited', participant: ref(sender), invitedBy: ref(sender) });
  }
  sender.state = 'joined';
  sender.joinedAt = options.now;
  sender.leftAt = null;
  b.touch(sender);
  b.record({ type: 'participant-joined', participant: ref(sender) });
  const others = roster.filter((p) => p !== sender && IN_CONFERENCE.has(p.state)).length;
  b.send(
    from,
    `You joined "${conference.name}" (${others} other${others === 1 ? '' : 's'} here). Send /help for the commands.`,
  );
  b.notify(roster, `${label(sender)} joined.`, sender);
}

/** `alice (irc, unverified)` in lists, for a network whose participants cannot prove who they are. */
function listLabel(p: ParticipantFacts, unverified: ReadonlySet<Network> | undefined): string {
  const tags = [
    p.network,
    ...(unverified?.has(p.network) ? ['unverified'] : []),
    ...(p.isOwner ? ['owner'] : []),
  ];
  return `${p.displayName} (${tags.join(', ')})`;
}

function listText(
  conference: ConferenceFacts,
  roster: ParticipantFacts[],
  asker: ParticipantFacts,
  unverified?: ReadonlySet<Network>,
): string {
  const shown = roster.filter((p) => p.state !== 'removed');
  const lines = shown.map((p) => `${listLabel(p, unverified)}${p === asker ? ' — you' : ''}: ${p.state}`);
  return [`Participants of "${conference.name}" (${shown.length}):`, ...lines].join('\n');
}

/** How a presence reads in /list status. */
const PRESENCE_WORDS: Record<AggregatePresence, string> = {
  busy: 'busy',
  online: 'online',
  away: 'away',
  xa: 'extended away',
  offline: 'offline',
};

function presenceOf(presence: ReadonlyMap<string, PresenceInfo>, p: ParticipantFacts): PresenceInfo {
  return presence.get(presenceKey(p)) ?? { presence: 'offline' };
}

/** `/list status`: every participant with state, presence and status text. */
function listStatusText(
  conference: ConferenceFacts,
  roster: ParticipantFacts[],
  asker: ParticipantFacts,
  presence: ReadonlyMap<string, PresenceInfo>,
  unverified?: ReadonlySet<Network>,
): string {
  const shown = roster.filter((p) => p.state !== 'removed');
  const lines = shown.map((p) => {
    const info = presenceOf(presence, p);
    const status = info.status?.trim() ? ` — "${info.status.trim()}"` : '';
    return `${listLabel(p, unverified)}${p === asker ? ' — you' : ''}: ${p.state}, ${PRESENCE_WORDS[info.presence]}${status}`;
  });
  return [`Participants of "${conference.name}" (${shown.length}):`, ...lines].join('\n');
}

/** `/list active`: joined, not paused, not offline. */
function listActiveText(
  conference: ConferenceFacts,
  roster: ParticipantFacts[],
  asker: ParticipantFacts,
  presence: ReadonlyMap<string, PresenceInfo>,
  unverified?: ReadonlySet<Network>,
): string {
  const active = roster.filter((p) => p.state === 'joined' && presenceOf(presence, p).presence !== 'offline');
  const lines = active.map(
    (p) =>
      `${listLabel(p, unverified)}${p === asker ? ' — you' : ''}: ${PRESENCE_WORDS[presenceOf(presence, p).presence]}`,
  );
  return [`Active participants of "${conference.name}" (${active.length}):`, ...lines].join('\n');
}
