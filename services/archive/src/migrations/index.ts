/** Every migration of the `archive` schema, in order. */
import { Inbox1763769600000 } from './1763769600000-inbox.js';
import { Archive1763856000000 } from './1763856000000-archive.js';
import { ForgottenConferences1764374400000 } from './1764374400000-forgotten-conferences.js';
import { SeqCollision1764806400000 } from './1764806400000-seq-collision.js';

export const migrations = [
  Inbox1763769600000,
  Archive1763856000000,
  ForgottenConferences1764374400000,
  SeqCollision1764806400000,
];
