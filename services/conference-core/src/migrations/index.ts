/** Every migration of the `conference` schema, in order. */
import { Inbox1763769600000 } from './1763769600000-inbox.js';
import { Conferences1763856000000 } from './1763856000000-conferences.js';
import { PresenceTtlOffline1763942400000 } from './1763942400000-presence-ttl-offline.js';
import { OwnerParticipant1764374400000 } from './1764374400000-owner-participant.js';
import { OutboxAttempted1764460800000 } from './1764460800000-outbox-attempted.js';
import { RosterVersion1764547200000 } from './1764547200000-roster-version.js';
import { OutboxConference1764633600000 } from './1764633600000-outbox-conference.js';

export const migrations = [
  Inbox1763769600000,
  Conferences1763856000000,
  PresenceTtlOffline1763942400000,
  OwnerParticipant1764374400000,
  OutboxAttempted1764460800000,
  RosterVersion1764547200000,
  OutboxConference1764633600000,
];
