/** Every entity of the `accounts` schema (the service and the rotate-keys command share this list). */
import { ImAccountEntity } from './im-accounts/im-account.entity.js';
import { EmailConfirmationEntity } from './owners/email-confirmation.entity.js';
import { OwnerEntity } from './owners/owner.entity.js';

export const entities = [OwnerEntity, EmailConfirmationEntity, ImAccountEntity];
