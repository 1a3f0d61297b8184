/**
 * Wires the conference-core service: conferences, participants and the relay (inbound IM events and
 * presence changes in, deliveries and conference events out), offline delivery and time-to-live.
 */
import { Module, type DynamicModule } from '@nestjs/common';
import type { Network } from '@parley/contracts';
import { platformModules } from '@parley/runtime';
import { ConferenceEntity, ParticipantEntity } from './conference/conference.entity.js';
import { ConferenceModule } from './conference/conference.module.js';
import { migrations } from './migrations/index.js';
import { parseQueueNetworks } from './offline/offline-rules.js';
import { OutboxEntity } from './outbox/outbox.entity.js';
import type { Config } from './config.js';

/**
 * The networks conference-core queues for: as configured, but never IRC while IRC identity is only
 * a nick — a backlog would go to whoever holds the nick when it comes back.
 */
function offlineQueueNetworks(config: Config): ReadonlySet<Network> {
  const networks = new Set(parseQueueNetworks(config.PARLEY_OFFLINE_QUEUE_NETWORKS));
  if (config.PARLEY_IRC_IDENTITY === 'nick') networks.delete('irc');
  return networks;
}

@Module({})
export class AppModule {
  static forRoot(config: Config): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ...platformModules('conference-core', config, {
          database: { entities: [ConferenceEntity, ParticipantEntity, OutboxEntity], migrations },
        }),
        ConferenceModule.forRoot({
          botSuffix: config.PARLEY_BOT_SUFFIX,
          offlineQueueNetworks: offlineQueueNetworks(config),
          unverifiedNetworks: new Set(config.PARLEY_IRC_IDENTITY === 'nick' ? (['irc'] as const) : []),
          offlineQueueCap: config.PARLEY_OFFLINE_QUEUE_CAP,
          ttlCheckMs: config.PARLEY_TTL_CHECK_MS,
          invitations: {
            xmppComponentDomain: config.PARLEY_XMPP_COMPONENT_DOMAIN,
            ircPoolNick: config.PARLEY_IRC_POOL_NICK,
            perParticipant: config.PARLEY_INVITES_PER_PARTICIPANT,
            byParticipants: config.PARLEY_INVITES_BY_PARTICIPANTS,
          },
        }),
      ],
    };
  }
}
