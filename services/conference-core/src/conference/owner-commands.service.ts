/**
 * The owner's commands (over REST, through the api-gateway): create, read and change conferences,
 * start and close them, add, remove and clean participants. Each change reads as
 * load (locked) → decide (conference-rules.ts) → record, in one transaction.
 */
import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '@parley/bus';
import {
  addressError,
  networkSchema,
  normalizeAddress,
  type AddParticipantsRequest,
  type AddParticipantsResponse,
  type ConferenceView,
  type CreateConferenceRequest,
  type Network,
  type ParticipantView,
  type UpdateConferenceRequest,
} from '@parley/contracts';
import { OutboxRelay } from '../outbox/outbox.relay.js';
import { PresenceLookup } from '../presence/presence-lookup.js';
import { newConferenceId } from './conference-id.js';
import type { ConferenceEntity } from './conference.entity.js';
import {
  closeConference,
  invite,
  mergeDecisions,
  presenceKey,
  removeParticipant,
  setOwner,
  startConference,
  type Decision,
  type InvitationPolicy,
  type ParticipantFacts,
} from './conference-rules.js';
import { ConferenceStore, conferenceNotFound, toFacts, type Loaded } from './conference.store.js';
import { INVITATION_POLICY, UNVERIFIED_NETWORKS } from './invitation-policy.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

@Injectable()
export class OwnerCommandsService {
  constructor(
    private readonly store: ConferenceStore,
    private readonly relay: OutboxRelay,
    private readonly presenceLookup: PresenceLookup,
    @Inject(INVITATION_POLICY) private readonly invitations: InvitationPolicy,
    @Inject(UNVERIFIED_NETWORKS) private readonly unverifiedNetworks: ReadonlySet<Network>,
  ) {}

  async create(request: CreateConferenceRequest): Promise<ConferenceView> {
    const now = new Date();
    for (let attempt = 1; ; attempt++) {
      const entity = this.store.newConference({
        id: newConferenceId(request.name),
        ownerId: request.ownerId,
        name: request.name,
        subject: request.subject,
        ttlSeconds: request.ttlSeconds,
        joinPolicy: request.joinPolicy,
        ownerImAccountId: request.ownerImAccountId,
        state: 'draft',
        lastSeq: 0,
        createdAt: now,
        updatedAt: now,
        startedAt: null,
        terminatedAt: null,
        terminatedReason: null,
      });
      try {
        await this.store.insertConference(entity);
      } catch (error) {
        // 36^6 suffixes make a collision rare; a second draw settles it.
        if ((error as { code?: string }).code !== '23505' || attempt >= 3) throw error;
        continue;
      }
      if (!request.ownerIdentity) return this.conferenceView(entity, 0);
      // The owner takes part through their chosen IM account, from the start.
      const identity = request.ownerIdentity;
      await this.change(request.ownerId, entity.id, ({ facts, roster }) => ({
        decision: setOwner(facts, roster, identity),
        result: undefined,
      }));
      return this.get(request.ownerId, entity.id);
    }
  }

  async list(ownerId: string): Promise<{ conferences: ConferenceView[] }> {
    const entities = await this.store.listByOwner(ownerId);
    const counts = await this.store.participantCounts(entities.map((e) => e.id));
    return { conferences: entities.map((e) => this.conferenceView(e, counts.get(e.id) ?? 0)) };
  }

  async get(ownerId: string, conferenceId: string): Promise<ConferenceView> {
    const entity = await this.store.findOwned(ownerId, conferenceId);
    const counts = await this.store.participantCounts([entity.id]);
    return this.conferenceView(entity, counts.get(entity.id) ?? 0);
  }

  async update(request: UpdateConferenceRequest): Promise<ConferenceView> {
    await this.change(request.ownerId, request.conferenceId, ({ entity, facts, roster }) => {
      if (entity.state === 'terminated') throw new DomainError('conflict', 'the conference has ended');
      if (request.name !== undefined) entity.name = request.name;
      if (request.subject !== undefined) entity.subject = request.subject;
      if (request.ttlSeconds !== undefined) entity.ttlSeconds = request.ttlSeconds;
      if (request.joinPolicy !== undefined) entity.joinPolicy = request.joinPolicy;
      if (request.ownerImAccountId === undefined) return { decision: emptyDecision(), result: undefined };
      entity.ownerImAccountId = request.ownerImAccountId;
      return { decision: setOwner(facts, roster, request.ownerIdentity ?? null), result: undefined };
    });
    return this.get(request.ownerId, request.conferenceId);
  }

  async start(ownerId: string, conferenceId: string): Promise<ConferenceView> {
    await this.change(ownerId, conferenceId, ({ entity, facts, roster }) => {
      if (entity.state !== 'draft') {
        throw new DomainError('conflict', `the conference is ${entity.state}; only a draft can be started`);
      }
      entity.startedAt = new Date();
      return { decision: startConference(facts, roster), result: undefined };
    });
    return this.get(ownerId, conferenceId);
  }

  async close(ownerId: string, conferenceId: string): Promise<ConferenceView> {
    await this.change(ownerId, conferenceId, ({ entity, facts, roster }) => {
      if (entity.state === 'terminated')
        throw new DomainError('conflict', 'the conference has already ended');
      entity.terminatedAt = new Date();
      entity.terminatedReason = 'closed';
      return { decision: closeConference(facts, roster, 'closed'), result: undefined };
    });
    return this.get(ownerId, conferenceId);
  }

  async addParticipants(request: AddParticipantsRequest): Promise<AddParticipantsResponse> {
    // IRC bot nicks are known by the conference ids: asked before the transaction.
    const botNicks = new Set<string>();
    for (const item of request.participants) {
      const nick = item.address.trim().split('@')[0]!;
      if (item.network.trim().toLowerCase() === 'irc' && (await this.store.isConferenceBotNick(nick))) {
        botNicks.add(nick.toLowerCase());
      }
    }
    const result = await this.change(
      request.ownerId,
      request.conferenceId,
      ({ entity, facts, roster, rows }) => {
        if (entity.state === 'terminated') throw new DomainError('conflict', 'the conference has ended');
        const decisions: Decision[] = [];
        const added: ParticipantFacts[] = [];
        const errors: AddParticipantsResponse['errors'] = [];
        const seen = new Set<string>();
        request.participants.forEach((item, index) => {
          const fail = (
            field: 'network' | 'address',
            code: 'validation-failed' | 'conflict',
            message: string,
          ) =>
            errors.push({
              index,
              field: `participants.${index}.${field}`,
              network: item.network,
              address: item.address,
              code,
              message,
            });
          const network = networkSchema.safeParse(item.network.trim().toLowerCase());
          if (!network.success) {
            return fail(
              'network',
              'validation-failed',
              `unknown network "${item.network}" (use xmpp or irc)`,
            );
          }
          const address = item.address.trim();
          const problem = addressError(network.data, address, 'participant');
          if (problem) return fail('address', 'validation-failed', problem);
          const key = `${network.data}:${normalizeAddress(network.data, address)}`;
          if (seen.has(key))
            return fail('address', 'conflict', 'this address is listed twice in the request');
          seen.add(key);
          const outcome = invite(
            facts,
            roster,
            {
              network: network.data,
              address,
              ...(item.displayName ? { displayName: item.displayName } : {}),
              isBot: network.data === 'irc' && botNicks.has(address.split('@')[0]!.toLowerCase()),
            },
            null,
            undefined,
            this.invitations,
          );
          if (outcome.refusal) return fail('address', 'conflict', outcome.refusal);
          decisions.push(outcome.decision);
          added.push(outcome.participant!);
        });
        return {
          decision: mergeDecisions(decisions),
          result: () => ({
            added: added.map((p) => this.participantView(entity.id, p, rows.get(p)?.invitedAt)),
            errors,
          }),
        };
      },
    );
    return result();
  }

  async removeParticipant(
    ownerId: string,
    conferenceId: string,
    participantId: string,
  ): Promise<ParticipantView> {
    const result = await this.change(ownerId, conferenceId, ({ entity, facts, roster, rows }) => {
      const p = UUID.test(participantId) ? roster.find((r) => r.id === participantId) : undefined;
      if (!p) throw new DomainError('not-found', `participant ${participantId} not found`, 'participantId');
      const decision = removeParticipant(facts, roster, p, new Date());
      return { decision, result: () => this.participantView(entity.id, p, rows.get(p)?.invitedAt) };
    });
    return result();
  }

  async listParticipants(
    ownerId: string,
    conferenceId: string,
  ): Promise<{ participants: ParticipantView[] }> {
    const entity = await this.store.findOwned(ownerId, conferenceId);
    const rows = await this.store.participantRows(entity.id);
    // Owners see each participant's presence; null when the presence service does not answer.
    const presence =
      rows.length > 0
        ? await this.presenceLookup.query(rows.map((row) => ({ network: row.network, address: row.address })))
        : null;
    return {
      participants: rows.map((row) => ({
        ...this.participantView(entity.id, toFacts(row), row.invitedAt),
        presence: presence?.get(presenceKey(row))?.presence ?? null,
      })),
    };
  }

  async cleanParticipants(ownerId: string, conferenceId: string): Promise<{ removed: number }> {
    return this.store.transaction(async (tx) => {
      const entity = await this.store.findOwned(ownerId, conferenceId, tx);
      return { removed: await this.store.deleteDeparted(tx, entity.id) };
    });
  }

  /** Runs `fn` on the locked conference of `ownerId` and records its decision, in one transaction. */
  private async change<T>(
    ownerId: string,
    conferenceId: string,
    fn: (loaded: Loaded) => { decision: Decision; result: T },
  ): Promise<T> {
    const result = await this.store.transaction(async (tx) => {
      const loaded = await this.store.loadLocked(tx, conferenceId);
      if (!loaded || loaded.entity.ownerId !== ownerId) throw conferenceNotFound(conferenceId);
      const { decision, result } = fn(loaded);
      await this.store.record(tx, loaded, conferenceId, decision, randomUUID());
      return result;
    });
    this.relay.kick();
    return result;
  }

  private participantView(
    conferenceId: string,
    p: ParticipantFacts,
    invitedAt = new Date(),
  ): ParticipantView {
    return {
      id: p.id!,
      conferenceId,
      network: p.network,
      address: p.address,
      displayName: p.displayName,
      state: p.state,
      invitedBy: p.invitedBy,
      invitedAt: invitedAt.toISOString(),
      joinedAt: p.joinedAt?.toISOString() ?? null,
      leftAt: p.leftAt?.toISOString() ?? null,
      messageCount: p.messageCount,
      presence: null,
      verified: !this.unverifiedNetworks.has(p.network),
      isOwner: p.isOwner ?? false,
    };
  }

  private conferenceView(entity: ConferenceEntity, participantCount: number): ConferenceView {
    return {
      id: entity.id,
      ownerId: entity.ownerId,
      name: entity.name,
      subject: entity.subject,
      ttlSeconds: entity.ttlSeconds,
      joinPolicy: entity.joinPolicy,
      ownerImAccountId: entity.ownerImAccountId,
      state: entity.state,
      botName: this.store.botName(entity.name),
      participantCount,
      createdAt: entity.createdAt.toISOString(),
      updatedAt: entity.updatedAt.toISOString(),
      startedAt: entity.startedAt?.toISOString() ?? null,
      terminatedAt: entity.terminatedAt?.toISOString() ?? null,
    };
  }
}

function emptyDecision(): Decision {
  return { deliveries: [], events: [], touched: [] };
}
