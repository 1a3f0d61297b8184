/** Every migration of the `accounts` schema, in order. */
import { Inbox1763769600000 } from './1763769600000-inbox.js';
import { OwnersAndImAccounts1763856000000 } from './1763856000000-owners-and-im-accounts.js';

export const migrations = [Inbox1763769600000, OwnersAndImAccounts1763856000000];
