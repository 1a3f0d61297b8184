/** gateway-irc: one IRC bot connection per active conference, nick derived from the conference id. */
import { runService } from '@parley/runtime';
import { AppModule } from './app.module.js';
import { loadServiceConfig } from './config.js';

await runService('gateway-irc', loadServiceConfig, (config) => AppModule.forRoot(config));
