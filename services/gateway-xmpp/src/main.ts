/** gateway-xmpp: XMPP server component (XEP-0114): every conference bot is <conference-id>@<component domain>. */
import { runService } from '@parley/runtime';
import { AppModule } from './app.module.js';
import { loadServiceConfig } from './config.js';

await runService('gateway-xmpp', loadServiceConfig, (config) => AppModule.forRoot(config));
