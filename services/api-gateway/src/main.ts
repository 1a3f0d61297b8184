/** api-gateway: the stateless HTTP edge for owners: REST under /api/v1, turns requests into NATS requests. */
import { runService } from '@parley/runtime';
import { AppModule } from './app.module.js';
import { loadServiceConfig } from './config.js';
import { configureHttp } from './http/configure-http.js';

await runService('api-gateway', loadServiceConfig, (config) => AppModule.forRoot(config), configureHttp);
