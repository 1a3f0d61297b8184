/** Every migration of the `contacts` schema, in order. */
import { Inbox1763769600000 } from './1763769600000-inbox.js';
import { Contacts1764288000000 } from './1764288000000-contacts.js';

export const migrations = [Inbox1763769600000, Contacts1764288000000];
