/** /api/v1/im-accounts: the owner's IM network accounts. Passwords go in, never out. */
import { Delete, Get, Post } from '@nestjs/common';
import { z } from 'zod';
import {
  accountsIdSchema,
  accountsRpc,
  createImAccountBodySchema,
  imAccountListSchema,
  imAccountSchema,
} from '@parley/contracts';
import type { AuthenticatedOwner } from '../auth/access-token.verifier.js';
import { CurrentOwner } from '../auth/current-owner.decorator.js';
import { ApiController, Endpoint, ValidBody, ValidParam } from '../http/endpoint.decorators.js';
import { RpcGateway } from '../http/rpc-gateway.js';

@ApiController('im-accounts')
export class ImAccountsController {
  constructor(private readonly rpc: RpcGateway) {}

  @Get()
  @Endpoint({ tag: 'im-accounts', summary: 'My IM accounts', status: 200, response: imAccountListSchema })
  list(@CurrentOwner() owner: AuthenticatedOwner) {
    return this.rpc.call(accountsRpc.listImAccounts, { ownerId: owner.id });
  }

  @Post()
  @Endpoint({
    tag: 'im-accounts',
    summary: 'Store an IM account (network, address, password)',
    description:
      'The address is checked for its network: a bare JID (user@domain) for xmpp, nick@server[:port] for irc. The password is stored encrypted and never returned.',
    status: 201,
    response: imAccountSchema,
    errors: ['conflict', 'not-found'],
  })
  create(
    @CurrentOwner() owner: AuthenticatedOwner,
    @ValidBody(createImAccountBodySchema) body: z.infer<typeof createImAccountBodySchema>,
  ) {
    return this.rpc.call(accountsRpc.createImAccount, { ownerId: owner.id, ...body });
  }

  @Get(':id')
  @Endpoint({
    tag: 'im-accounts',
    summary: 'One of my IM accounts',
    status: 200,
    response: imAccountSchema,
    errors: ['not-found'],
  })
  get(@CurrentOwner() owner: AuthenticatedOwner, @ValidParam('id', accountsIdSchema) id: string) {
    return this.rpc.call(accountsRpc.getImAccount, { ownerId: owner.id, imAccountId: id });
  }

  @Delete(':id')
  @Endpoint({
    tag: 'im-accounts',
    summary: 'Delete one of my IM accounts',
    status: 204,
    errors: ['not-found'],
  })
  async delete(@CurrentOwner() owner: AuthenticatedOwner, @ValidParam('id', accountsIdSchema) id: string) {
    await this.rpc.call(accountsRpc.deleteImAccount, { ownerId: owner.id, imAccountId: id });
  }
}
