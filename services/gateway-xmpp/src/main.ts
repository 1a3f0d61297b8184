/** gateway-xmpp: XMPP server component (XEP-0114): every conference bot is <conference-id>@<component domain>. */
import { runGateway } from '@parley/gateway-kit';
import { AppModule } from './app.module.js';
import { loadServiceConfig } from './config.js';

await runGateway(
  'gateway-xmpp',
  () => loadServiceConfig(),
  (config) => AppModule.forRoot(config),
);
