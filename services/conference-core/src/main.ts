/** conference-core: Conferences, participants and the relay: consumes inbound IM events, emits deliveries and conference events. */
import { runService } from '@parley/runtime';
import { AppModule } from './app.module.js';
import { loadServiceConfig } from './config.js';

await runService('conference-core', loadServiceConfig, (config) => AppModule.forRoot(config));
