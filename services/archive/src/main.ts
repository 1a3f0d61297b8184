/** archive: Every accepted message and notice of every conference, by (conference, seq). */
import { runService } from '@parley/runtime';
import { AppModule } from './app.module.js';
import { loadServiceConfig } from './config.js';

await runService('archive', loadServiceConfig, (config) => AppModule.forRoot(config));
