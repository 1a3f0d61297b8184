/** gateway-xmpp: XMPP server component (XEP-0114): every conference bot is <conference-id>@<component domain>. */
import { runService } from '@parley/runtime';
import { AppModule } from './app.module.js';
import { loadServiceConfig } from './config.js';

await runService('gateway-xmpp', () => {
  const config = loadServiceConfig();
  return {
    service: 'gateway-xmpp',
    module: AppModule.forRoot(config),
    natsUrl: config.PARLEY_NATS_URL,
    httpPort: config.PARLEY_HTTP_PORT,
    httpHost: config.PARLEY_HTTP_HOST,
  };
});
