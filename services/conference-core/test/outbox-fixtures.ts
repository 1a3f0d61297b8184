/** Shared by the outbox tests: conference-core's schema without the service, and outbox rows. */
import type { DataSource } from 'typeorm';
import { newEnvelope, subjects } from '@parley/contracts';
import { createServiceDataSource, initializeAndMigrate } from '@parley/persistence';
import { testEnv, testSchema } from '@parley/testing';
import { ConferenceEntity, ParticipantEntity } from '../src/conference/conference.entity.js';
import { migrations } from '../src/migrations/index.js';
import { OutboxEntity } from '../src/outbox/outbox.entity.js';
import type { OutboxMessage } from '../src/outbox/outbox.relay.js';

/** conference-core's tables, migrated, in a schema of this test file's own. */
export function openConferenceSchema(name: string): Promise<DataSource> {
  return initializeAndMigrate(
    createServiceDataSource({
      url: testEnv.databaseUrl(),
      schema: testSchema(name),
      entities: [ConferenceEntity, ParticipantEntity, OutboxEntity],
      migrations,
    }),
  );
}

/** The outbox row of a message-accepted event (msg id `<conference>:<seq>`). */
export function acceptedEvent(conferenceId: string, seq: number): OutboxMessage {
  return {
    stream: 'conf-events',
    subject: subjects.confEvents(conferenceId),
    msgId: `${conferenceId}:${seq}`,
    payload: {
      ...newEnvelope(),
      conferenceId,
      seq,
      type: 'message-accepted',
      sender: { network: 'xmpp', address: 'alice@example.org', displayName: 'alice' },
      body: `message ${seq}`,
    },
  };
}
