/** /api/v1/conferences: the owner's conferences and their lifecycle (draft → active → terminated). */
import { Get, Patch, Post } from '@nestjs/common';
import { z } from 'zod';
import { DomainError } from '@parley/bus';
import { accountsRpc, conferencesRpc, conferenceViewSchema, type Network } from '@parley/contracts';
import type { AuthenticatedOwner } from '../auth/access-token.verifier.js';
import { CurrentOwner } from '../auth/current-owner.decorator.js';
import { ApiController, Endpoint, ValidBody, ValidParam } from '../http/endpoint.decorators.js';
import { RpcGateway } from '../http/rpc-gateway.js';
import {
  conferenceIdParam,
  conferenceListSchema,
  createConferenceBodySchema,
  updateConferenceBodySchema,
} from './conference-http.schemas.js';

@ApiController('conferences')
export class ConferencesController {
  constructor(private readonly rpc: RpcGateway) {}

  /**
   * The IM account that is to represent the owner must be one of the owner's: conference-core
   * stores the id without asking accounts, so without this check a conference could name another
   * owner's account.
   */
  private async checkImAccount(
    ownerId: string,
    imAccountId: string | null | undefined,
  ): Promise<{ network: Network; address: string } | null> {
    if (!imAccountId) return null;
    try {
      const account = await this.rpc.call(accountsRpc.getImAccount, { ownerId, imAccountId });
      // The owner takes part through this account: conference-core adds it as the owner participant.
      return { network: account.network, address: account.address };
    } catch (error) {
      if (!(error instanceof DomainError && error.code === 'not-found')) throw error;
      const message = 'not one of your IM accounts';
      throw new DomainError('validation-failed', `ownerImAccountId: ${message}`, 'ownerImAccountId', [
        { field: 'ownerImAccountId', message },
      ]);
    }
  }

  @Get()
  @Endpoint({
    tag: 'conferences',
    summary: 'My conferences, oldest first',
    status: 200,
    response: conferenceListSchema,
  })
  async list(@CurrentOwner() owner: AuthenticatedOwner) {
    const { conferences } = await this.rpc.call(conferencesRpc.list, { ownerId: owner.id });
    return { items: conferences };
  }

  @Post()
  @Endpoint({
    tag: 'conferences',
    summary: 'Create a conference (a draft: invite people, then start it)',
    description:
      'The id is derived from the name plus randomness (e.g. `team-sync-k4q7`); the bots are named after the conference with the Parley suffix. `ttlSeconds` is how long the conference survives with no active participant (default one week); `ownerImAccountId` must be one of my IM accounts (400 otherwise); null means the owner takes no part.',
    status: 201,
    response: conferenceViewSchema,
  })
  async create(
    @CurrentOwner() owner: AuthenticatedOwner,
    @ValidBody(createConferenceBodySchema) body: z.infer<typeof createConferenceBodySchema>,
  ) {
    const ownerIdentity = await this.checkImAccount(owner.id, body.ownerImAccountId);
    return this.rpc.call(conferencesRpc.create, { ownerId: owner.id, ...body, ownerIdentity });
  }

  @Get(':id')
  @Endpoint({
    tag: 'conferences',
    summary: 'One of my conferences',
    status: 200,
    response: conferenceViewSchema,
    errors: ['not-found'],
  })
  get(@CurrentOwner() owner: AuthenticatedOwner, @ValidParam('id', conferenceIdParam) id: string) {
    return this.rpc.call(conferencesRpc.get, { ownerId: owner.id, conferenceId: id });
  }

  @Patch(':id')
  @Endpoint({
    tag: 'conferences',
    summary: 'Change name, subject, time-to-live, join policy or representing IM account',
    description: 'Only the fields sent change. A terminated conference cannot be changed (409).',
    status: 200,
    response: conferenceViewSchema,
    errors: ['not-found', 'conflict'],
  })
  async update(
    @CurrentOwner() owner: AuthenticatedOwner,
    @ValidParam('id', conferenceIdParam) id: string,
    @ValidBody(updateConferenceBodySchema) body: z.infer<typeof updateConferenceBodySchema>,
  ) {
    const ownerIdentity = await this.checkImAccount(owner.id, body.ownerImAccountId);
    return this.rpc.call(conferencesRpc.update, {
      ownerId: owner.id,
      conferenceId: id,
      ...body,
      ...(body.ownerImAccountId !== undefined ? { ownerIdentity } : {}),
    });
  }

  @Post(':id/start')
  @Endpoint({
    tag: 'conferences',
    summary: 'Start a draft conference: every invitee gets the bot’s contact request, then the invitation',
    description: 'Only a draft can be started; anything else is 409.',
    status: 200,
    response: conferenceViewSchema,
    errors: ['not-found', 'conflict'],
  })
  start(@CurrentOwner() owner: AuthenticatedOwner, @ValidParam('id', conferenceIdParam) id: string) {
    return this.rpc.call(conferencesRpc.start, { ownerId: owner.id, conferenceId: id });
  }

  @Post(':id/close')
  @Endpoint({
    tag: 'conferences',
    summary: 'Close a conference: the bots say goodbye and drop their contacts; the archive stays',
    description: 'A conference that has already ended is 409.',
    status: 200,
    response: conferenceViewSchema,
    errors: ['not-found', 'conflict'],
  })
  close(@CurrentOwner() owner: AuthenticatedOwner, @ValidParam('id', conferenceIdParam) id: string) {
    return this.rpc.call(conferencesRpc.close, { ownerId: owner.id, conferenceId: id });
  }
}
