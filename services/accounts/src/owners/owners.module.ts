/** Owners: registration, confirmation mails, login (access tokens) and "my account". */
import { Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { Config } from '../config.js';
import { ConfirmationMailer } from '../mail/confirmation-mailer.js';
import { AccessTokenIssuer } from './access-tokens.js';
import { OwnersHandler } from './owners.handler.js';
import { CONFIRMATION_TTL_SECONDS, OwnersService } from './owners.service.js';

class MailerLifecycle implements OnApplicationShutdown {
  constructor(private readonly mailer: ConfirmationMailer) {}
  onApplicationShutdown() {
    this.mailer.close();
  }
}

@Module({})
export class OwnersModule {
  static forRoot(config: Config): DynamicModule {
    return {
      module: OwnersModule,
      controllers: [OwnersHandler],
      providers: [
        OwnersService,
        {
          provide: ConfirmationMailer,
          useFactory: () =>
            new ConfirmationMailer(config.PARLEY_SMTP_URL, config.PARLEY_MAIL_FROM, config.PARLEY_PUBLIC_URL),
        },
        {
          provide: AccessTokenIssuer,
          useFactory: () => new AccessTokenIssuer(config.PARLEY_JWT_SECRET, config.PARLEY_JWT_TTL_SECONDS),
        },
        { provide: CONFIRMATION_TTL_SECONDS, useValue: config.PARLEY_CONFIRMATION_TTL_SECONDS },
        {
          provide: MailerLifecycle,
          inject: [ConfirmationMailer],
          useFactory: (m: ConfirmationMailer) => new MailerLifecycle(m),
        },
      ],
    };
  }
}
