/** contact-import: Contact import jobs and saved contact lists. */
import { runService } from '@parley/runtime';
import { AppModule } from './app.module.js';
import { loadServiceConfig } from './config.js';

await runService('contact-import', () => {
  const config = loadServiceConfig();
  return {
    service: 'contact-import',
    module: AppModule.forRoot(config),
    natsUrl: config.PARLEY_NATS_URL,
    httpPort: config.PARLEY_HTTP_PORT,
    httpHost: config.PARLEY_HTTP_HOST,
  };
});
