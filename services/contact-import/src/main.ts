/** contact-import: Contact import jobs and saved contact lists. */
import { runService } from '@parley/runtime';
import { AppModule } from './app.module.js';
import { loadServiceConfig } from './config.js';

await runService('contact-import', loadServiceConfig, (config) => AppModule.forRoot(config));
