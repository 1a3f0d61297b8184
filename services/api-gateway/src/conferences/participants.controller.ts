/**
 * /api/v1/conferences/{id}/participants: invite people by address, follow their state, remove
 * them, and clean those who left from the list.
 */
import { Delete, Get, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { conferencesRpc, participantViewSchema } from '@parley/contracts';
import type { AuthenticatedOwner } from '../auth/access-token.verifier.js';
import { CurrentOwner } from '../auth/current-owner.decorator.js';
import {
  invitationResponseSchema,
  inviteContacts,
  participantsBodySchema,
  type ParticipantsBody,
} from '../contacts/contact-invitations.js';
import { ApiController, Endpoint, ValidBody, ValidParam } from '../http/endpoint.decorators.js';
import { RpcGateway } from '../http/rpc-gateway.js';
import { conferenceIdParam, participantIdParam, participantListSchema } from './conference-http.schemas.js';

@ApiController('conferences/:id/participants')
export class ParticipantsController {
  constructor(private readonly rpc: RpcGateway) {}

  @Get()
  @Endpoint({
    tag: 'participants',
    summary: 'The participants with their state, who invited them and how many messages they sent',
    description: 'People who left or were removed stay listed until POST …/participants/clean.',
    status: 200,
    response: participantListSchema,
    errors: ['not-found'],
  })
  async list(@CurrentOwner() owner: AuthenticatedOwner, @ValidParam('id', conferenceIdParam) id: string) {
    const { participants } = await this.rpc.call(conferencesRpc.listParticipants, {
      ownerId: owner.id,
      conferenceId: id,
    });
    return { items: participants };
  }

  @Post()
  @Endpoint({
    tag: 'participants',
    summary: 'Invite people by network and address, or saved contacts by id',
    description:
      'Send `{participants:[{network,address}]}` or `{contactIds:[…]}` (ids from GET /contacts). Each entry is checked on its own: the valid ones are added, each rejected one is reported in `errors` with its index, field (`participants.<i>.address` or `contactIds.<i>`) and reason (a contact id that is not one of my saved contacts: `not-found`). 201 when every entry was added; 200 (same body) when some were rejected — a 207-like answer, so check `errors`. Invitees of an active conference get the bot’s contact request at once.',
    status: 201,
    response: invitationResponseSchema,
    errors: ['not-found', 'conflict'],
  })
  async add(
    @CurrentOwner() owner: AuthenticatedOwner,
    @ValidParam('id', conferenceIdParam) id: string,
    @ValidBody(participantsBodySchema) body: ParticipantsBody,
    @Res() reply: FastifyReply,
  ) {
    const result = body.contactIds
      ? await inviteContacts(this.rpc, owner.id, id, body.contactIds)
      : await this.rpc.call(conferencesRpc.addParticipants, {
          ownerId: owner.id,
          conferenceId: id,
          participants: body.participants!,
        });
    // @HttpCode would overwrite a status set on a passthrough reply, so this route sends its own answer.
    await reply.status(result.errors.length > 0 ? 200 : 201).send(result);
  }

  @Delete(':participantId')
  @Endpoint({
    tag: 'participants',
    summary: 'Remove a participant (before or after the start)',
    description:
      'Answers the participant, now in state `removed`; they stay listed until the list is cleaned.',
    status: 200,
    response: participantViewSchema,
    errors: ['not-found', 'conflict'],
  })
  remove(
    @CurrentOwner() owner: AuthenticatedOwner,
    @ValidParam('id', conferenceIdParam) id: string,
    @ValidParam('participantId', participantIdParam) participantId: string,
  ) {
    return this.rpc.call(conferencesRpc.removeParticipant, {
      ownerId: owner.id,
      conferenceId: id,
      participantId,
    });
  }

  @Post('clean')
  @Endpoint({
    tag: 'participants',
    summary: 'Drop the participants who left or were removed from the list',
    status: 200,
    response: conferencesRpc.cleanParticipants.response,
    errors: ['not-found'],
  })
  clean(@CurrentOwner() owner: AuthenticatedOwner, @ValidParam('id', conferenceIdParam) id: string) {
    return this.rpc.call(conferencesRpc.cleanParticipants, { ownerId: owner.id, conferenceId: id });
  }
}
