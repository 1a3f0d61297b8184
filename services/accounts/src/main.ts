/** accounts: Owners, e-mail confirmations and IM accounts (credentials encrypted). */
import { runService } from '@parley/runtime';
import { AppModule } from './app.module.js';
import { loadServiceConfig } from './config.js';

await runService('accounts', loadServiceConfig, (config) => AppModule.forRoot(config));
