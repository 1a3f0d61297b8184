/** /api/v1/me: the authenticated owner's own account. */
import { Delete, Get, Patch, Post } from '@nestjs/common';
import { z } from 'zod';
import {
  accountsRpc,
  changePasswordBodySchema,
  ownerProfileSchema,
  updateMeBodySchema,
} from '@parley/contracts';
import type { AuthenticatedOwner } from '../auth/access-token.verifier.js';
import { CurrentOwner } from '../auth/current-owner.decorator.js';
import { DeletedOwners } from '../auth/deleted-owners.js';
import { ApiController, Endpoint, ValidBody } from '../http/endpoint.decorators.js';
import { RpcGateway } from '../http/rpc-gateway.js';

@ApiController('me')
export class MeController {
  constructor(
    private readonly rpc: RpcGateway,
    private readonly deletedOwners: DeletedOwners,
  ) {}

  @Get()
  @Endpoint({
    tag: 'me',
    summary: 'My account',
    status: 200,
    response: ownerProfileSchema,
    errors: ['not-found'],
  })
  get(@CurrentOwner() owner: AuthenticatedOwner) {
    return this.rpc.call(accountsRpc.getOwner, { ownerId: owner.id });
  }

  @Patch()
  @Endpoint({
    tag: 'me',
    summary: 'Update my display name and/or e-mail',
    description:
      'A new e-mail is kept in `pendingEmail` and a confirmation mail is sent to it; it replaces the current address once confirmed with POST /auth/confirm.',
    status: 200,
    response: ownerProfileSchema,
    errors: ['not-found', 'conflict', 'unavailable'],
  })
  update(
    @CurrentOwner() owner: AuthenticatedOwner,
    @ValidBody(updateMeBodySchema) body: z.infer<typeof updateMeBodySchema>,
  ) {
    return this.rpc.call(accountsRpc.updateOwner, { ownerId: owner.id, ...body });
  }

  @Post('password')
  @Endpoint({
    tag: 'me',
    summary: 'Change my password (needs the current one)',
    status: 204,
    errors: ['forbidden', 'not-found'],
  })
  async changePassword(
    @CurrentOwner() owner: AuthenticatedOwner,
    @ValidBody(changePasswordBodySchema) body: z.infer<typeof changePasswordBodySchema>,
  ) {
    await this.rpc.call(accountsRpc.changePassword, { ownerId: owner.id, ...body });
  }

  @Delete()
  @Endpoint({
    tag: 'me',
    summary: 'Delete my account: IM accounts, conferences (closed) and their archive',
    description:
      'Deletes the owner and their IM accounts at once; their conferences are closed (every bot says goodbye to its participants) and the archive of those conferences is deleted, moments later, through the bus. Every access token of the owner stops working (404).',
    status: 204,
    errors: ['not-found', 'unavailable'],
  })
  async delete(@CurrentOwner() owner: AuthenticatedOwner) {
    await this.rpc.call(accountsRpc.deleteOwner, { ownerId: owner.id });
    this.deletedOwners.markDeleted(owner.id);
  }
}
