/**
 * Inviting saved contacts to a conference (`POST conferences/{id}/participants` with
 * `{contactIds}`): the ids are resolved to (network, address, name) by contact-import — only the
 * owner's own contacts resolve — and the found ones are added through conference-core's usual
 * addParticipants. Each id is answered on its own, like the by-address form: an unknown id (or
 * another owner's) is an error for that entry, the others are added.
 */
import { z } from 'zod';
import {
  addParticipantsResponseSchema,
  conferencesRpc,
  contactIdsBodySchema,
  contactsRpc,
  type AddParticipantsRequest,
} from '@parley/contracts';
import { addParticipantsBodySchema } from '../conferences/conference-http.schemas.js';
import type { RpcGateway } from '../http/rpc-gateway.js';

/** Either form of the body: `{participants:[{network,address}]}` or `{contactIds:[…]}`. */
export const participantsBodySchema = z
  .strictObject({
    participants: addParticipantsBodySchema.shape.participants.optional(),
    contactIds: contactIdsBodySchema.shape.contactIds.optional(),
  })
  .refine((body) => (body.participants === undefined) !== (body.contactIds === undefined), {
    message: 'send either participants (by address) or contactIds (saved contacts), not both',
    path: ['body'],
  });
export type ParticipantsBody = z.infer<typeof participantsBodySchema>;

const entryError = addParticipantsResponseSchema.shape.errors.element;
/** The answer of either form; an entry rejected by contact id names it (`contactId`, code `not-found`). */
export const invitationResponseSchema = addParticipantsResponseSchema.extend({
  errors: z.array(
    entryError.extend({
      code: z.enum(['validation-failed', 'conflict', 'not-found']),
      network: z.string().optional(),
      address: z.string().optional(),
      contactId: z.string().optional(),
    }),
  ),
});
export type InvitationResponse = z.infer<typeof invitationResponseSchema>;

// eslint-disable-next-line no-control-regex -- a screen name from a roster may carry them; the bot refuses them
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** A roster name as conference-core accepts a display name, or none. */
function displayNameOf(name: string | null): string | undefined {
  const cleaned = name?.replace(CONTROL, ' ').trim().slice(0, 200).trim();
  return cleaned ? cleaned : undefined;
}

export async function inviteContacts(
  rpc: RpcGateway,
  ownerId: string,
  conferenceId: string,
  contactIds: string[],
): Promise<InvitationResponse> {
  const { contacts } = await rpc.call(contactsRpc.resolve, { ownerId, contactIds });
  const byId = new Map(contacts.map((c) => [c.id, c]));
  const errors: InvitationResponse['errors'] = [];
  const participants: AddParticipantsRequest['participants'] = [];
  /** participants[i] came from contactIds[sentFrom[i]]. */
  const sentFrom: number[] = [];
  contactIds.forEach((contactId, index) => {
    const contact = byId.get(contactId);
    if (!contact) {
      errors.push({
        index,
        field: `contactIds.${index}`,
        contactId,
        code: 'not-found',
        message: 'no saved contact with this id',
      });
      return;
    }
    const displayName = displayNameOf(contact.name);
    participants.push({
      network: contact.network,
      address: contact.address,
      ...(displayName ? { displayName } : {}),
    });
    sentFrom.push(index);
  });
  if (participants.length === 0) {
    // Nothing to add: still answer 404 for a conference that is not the owner's.
    await rpc.call(conferencesRpc.get, { ownerId, conferenceId });
    return { added: [], errors };
  }
  const result = await rpc.call(conferencesRpc.addParticipants, { ownerId, conferenceId, participants });
  for (const error of result.errors) {
    const index = sentFrom[error.index]!;
    errors.push({ ...error, index, field: `contactIds.${index}`, contactId: contactIds[index] });
  }
  errors.sort((a, b) => a.index - b.index);
  return { added: result.added, errors };
}
