/** api-gateway: the stateless HTTP edge for owners: REST under /api/v1, turns requests into NATS requests. */
import { runService } from '@parley/runtime';
import { AppModule } from './app.module.js';
import { loadServiceConfig } from './config.js';
import { configureHttp } from './http/configure-http.js';

await runService('api-gateway', () => {
  const config = loadServiceConfig();
  return {
    service: 'api-gateway',
    module: AppModule.forRoot(config),
    natsUrl: config.PARLEY_NATS_URL,
    httpPort: config.PARLEY_HTTP_PORT,
    httpHost: config.PARLEY_HTTP_HOST,
    configure: configureHttp,
  };
});
