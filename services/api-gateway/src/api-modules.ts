/**
 * The REST feature modules of the gateway, in document order. AppModule mounts them and the
 * OpenAPI document is generated from their controllers: add a feature here (e.g. conferences)
 * and it is both served and documented.
 */
import { AccountsHttpModule } from './accounts/accounts-http.module.js';
import { ConferencesHttpModule } from './conferences/conferences-http.module.js';
import { ContactsHttpModule } from './contacts/contacts-http.module.js';
import { HistoryHttpModule } from './history/history-http.module.js';
import { LiveFeedHttpModule } from './live-feed/live-feed.module.js';

export const apiModules = [
  AccountsHttpModule,
  ConferencesHttpModule,
  HistoryHttpModule,
  LiveFeedHttpModule,
  ContactsHttpModule,
];
