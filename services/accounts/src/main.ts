/** accounts: Owners, e-mail confirmations and IM accounts (credentials encrypted). */
import { runService } from '@parley/runtime';
import { AppModule } from './app.module.js';
import { loadServiceConfig } from './config.js';

await runService('accounts', () => {
  const config = loadServiceConfig();
  return {
    service: 'accounts',
    module: AppModule.forRoot(config),
    natsUrl: config.PARLEY_NATS_URL,
    httpPort: config.PARLEY_HTTP_PORT,
    httpHost: config.PARLEY_HTTP_HOST,
  };
});
