/** presence: Aggregated presence per identity, kept in a NATS KV bucket. */
import { runService } from '@parley/runtime';
import { AppModule } from './app.module.js';
import { loadServiceConfig } from './config.js';

await runService('presence', loadServiceConfig, (config) => AppModule.forRoot(config));
