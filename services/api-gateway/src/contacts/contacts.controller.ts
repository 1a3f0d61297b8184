/** GET /api/v1/contacts: my saved contacts, filtered by network, group and free text. */
import { Get } from '@nestjs/common';
import { z } from 'zod';
import { contactListQuerySchema, contactViewSchema, contactsRpc } from '@parley/contracts';
import type { AuthenticatedOwner } from '../auth/access-token.verifier.js';
import { CurrentOwner } from '../auth/current-owner.decorator.js';
import { ApiController, Endpoint, ValidQuery } from '../http/endpoint.decorators.js';
import { RpcGateway } from '../http/rpc-gateway.js';

const contactListSchema = z.object({ items: z.array(contactViewSchema) });

@ApiController('contacts')
export class ContactsController {
  constructor(private readonly rpc: RpcGateway) {}

  @Get()
  @Endpoint({
    tag: 'contacts',
    summary: 'My saved contacts (filled by imports)',
    description:
      '`network` and `group` (exact group name) narrow the list; `q` matches part of the address or the name, case-insensitively. Sorted by name (or address). At most `limit` contacts (default 1000).',
    status: 200,
    response: contactListSchema,
  })
  list(
    @CurrentOwner() owner: AuthenticatedOwner,
    @ValidQuery(contactListQuerySchema) query: z.infer<typeof contactListQuerySchema>,
  ) {
    return this.rpc.call(contactsRpc.list, { ownerId: owner.id, ...query });
  }
}
