/** Every migration of the `conference` schema, in order. */
import { Inbox1763769600000 } from './1763769600000-inbox.js';

export const migrations = [Inbox1763769600000];
