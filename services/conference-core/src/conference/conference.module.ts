/** Conferences, participants, the bot rules, the inbound consumer and the outbox relay. */
import { Module, type DynamicModule } from '@nestjs/common';
import { OutboxRelay } from '../outbox/outbox.relay.js';
import { ConferenceController } from './conference.controller.js';
import { BOT_SUFFIX, ConferenceService } from './conference.service.js';
import { InboundConsumer } from './inbound.consumer.js';

@Module({})
export class ConferenceModule {
  static forRoot(options: { botSuffix: string }): DynamicModule {
    return {
      module: ConferenceModule,
      controllers: [ConferenceController],
      providers: [
        { provide: BOT_SUFFIX, useValue: options.botSuffix },
        ConferenceService,
        OutboxRelay,
        InboundConsumer,
      ],
    };
  }
}
