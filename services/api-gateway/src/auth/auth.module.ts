/** Authentication of owners at the edge: the global access-token guard and its verifier. */
import { Global, Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AccessTokenGuard } from './access-token.guard.js';
import { AccessTokenVerifier } from './access-token.verifier.js';
import { DeletedOwners } from './deleted-owners.js';

/** Global: controllers reach DeletedOwners (DELETE /me marks the owner at once). */
@Global()
@Module({})
export class AuthModule {
  static forRoot(jwtSecret: string): DynamicModule {
    return {
      module: AuthModule,
      providers: [
        { provide: AccessTokenVerifier, useFactory: () => new AccessTokenVerifier(jwtSecret) },
        { provide: APP_GUARD, useClass: AccessTokenGuard },
        DeletedOwners,
      ],
      exports: [DeletedOwners],
    };
  }
}
