/**
 * Turns a decision's deliveries (one per recipient, in the order the rules produced them) into
 * fan-out deliveries: one bus message per run of identical deliveries (same network, kind and
 * body) to many recipients. Pure, no I/O.
 *
 * Order: every recipient receives its deliveries in the rules' order. A delivery joins the newest
 * group with its content only if that group comes after every group the recipient is already in
 * (and does not hold the recipient yet); otherwise it opens a new group. Groups are published in
 * creation order, so each recipient's sequence of groups only moves forward.
 */
import { MAX_RECIPIENTS, type ImDeliveryV1, type ImDeliveryV2 } from '@parley/contracts';
import type { DeliveryDraft } from '../conference/conference-rules.js';

export type { DeliveryDraft };

export interface FanOutPlan {
  /** What goes to the gateways now, in order. */
  fanOuts: ImDeliveryV2[];
  /** Single deliveries kept for recipients who are offline on a network without offline storage. */
  queued: ImDeliveryV1[];
}

export interface FanOutContext {
  /** The id of what caused the decision (inbound event, owner command); delivery ids derive from it. */
  causeId: string;
  conferenceId: string;
  botName: string;
  now: Date;
  /** Whether this delivery waits in the offline queue instead. */
  isQueued: (draft: DeliveryDraft) => boolean;
  newId: () => string;
  /** Most recipients per fan-out (default: the contract's limit). */
  maxRecipients?: number;
}

interface Group {
  key: string;
  draft: DeliveryDraft;
  recipients: string[];
  members: Set<string>;
}

export function planFanOut(drafts: readonly DeliveryDraft[], context: FanOutContext): FanOutPlan {
  const maxRecipients = context.maxRecipients ?? MAX_RECIPIENTS;
  const occurredAt = context.now.toISOString();
  const queued: ImDeliveryV1[] = [];
  const groups: Group[] = [];
  const newestGroupOf = new Map<string, number>(); // content key → index of its newest group
  const lastGroupOf = new Map<string, number>(); // recipient → index of the last group it is in
  drafts.forEach((draft, index) => {
    if (context.isQueued(draft)) {
      queued.push({
        id: context.newId(),
        occurredAt,
        deliveryId: `${context.causeId}#q${index}:${draft.network}:${draft.to}`,
        network: draft.network,
        conferenceId: context.conferenceId,
        botName: context.botName,
        to: draft.to,
        kind: draft.kind,
        ...(draft.body !== undefined ? { body: draft.body } : {}),
      });
      return;
    }
    const key = `${draft.network}\n${draft.kind}\n${draft.body ?? ''}`;
    const recipient = `${draft.network}\n${draft.to}`;
    const candidate = newestGroupOf.get(key);
    const last = lastGroupOf.get(recipient) ?? -1;
    let target = candidate !== undefined ? groups[candidate] : undefined;
    if (
      !target ||
      candidate! < last ||
      target.members.has(draft.to) ||
      target.recipients.length >= maxRecipients
    ) {
      target = { key, draft, recipients: [], members: new Set() };
      groups.push(target);
      newestGroupOf.set(key, groups.length - 1);
    }
    target.recipients.push(draft.to);
    target.members.add(draft.to);
    lastGroupOf.set(recipient, newestGroupOf.get(key)!);
  });
  const fanOuts = groups.map((group, index): ImDeliveryV2 => ({
    id: context.newId(),
    occurredAt,
    deliveryId: `${context.causeId}#${index}`,
    network: group.draft.network,
    conferenceId: context.conferenceId,
    botName: context.botName,
    kind: group.draft.kind,
    ...(group.draft.body !== undefined ? { body: group.draft.body } : {}),
    recipients: group.recipients,
  }));
  return { fanOuts, queued };
}
