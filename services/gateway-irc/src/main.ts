/** gateway-irc: one IRC bot connection per active conference, nick derived from the conference id. */
import { runGateway } from '@parley/gateway-kit';
import { AppModule } from './app.module.js';
import { loadServiceConfig } from './config.js';

await runGateway(
  'gateway-irc',
  () => loadServiceConfig(),
  (config) => AppModule.forRoot(config),
);
