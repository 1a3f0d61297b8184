/** `@CurrentOwner()`: the owner the access token names (set by AccessTokenGuard). */
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { AuthenticatedOwner } from './access-token.verifier.js';
import type { AuthenticatedRequest } from './access-token.guard.js';

export const CurrentOwner = createParamDecorator(
  (_data: unknown, context: ExecutionContext): AuthenticatedOwner => {
    const owner = context.switchToHttp().getRequest<AuthenticatedRequest>().owner;
    // Only reachable on a @Public() route by mistake: fail loudly rather than act as nobody.
    if (!owner) throw new Error('@CurrentOwner() used on a route without an authenticated owner');
    return owner;
  },
);
