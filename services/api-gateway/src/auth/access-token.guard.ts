/**
 * The global guard: every HTTP route needs a valid bearer access token unless it is `@Public()`.
 * Being global, a new controller is protected by default; forgetting a decorator cannot open it.
 */
import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { DomainError } from '@parley/bus';
import { AccessTokenVerifier, type AuthenticatedOwner } from './access-token.verifier.js';
import { DeletedOwners } from './deleted-owners.js';
import { IS_PUBLIC } from './public.decorator.js';

export type AuthenticatedRequest = FastifyRequest & { owner?: AuthenticatedOwner };

@Injectable()
export class AccessTokenGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: AccessTokenVerifier,
    private readonly deletedOwners: DeletedOwners,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    // Bus handlers (the ping RPC) are not HTTP: NATS permissions guard them.
    if (context.getType() !== 'http') return true;
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(request.headers.authorization ?? '');
    if (!match) throw new DomainError('unauthorized', 'send an access token: Authorization: Bearer <token>');
    const owner = await this.verifier.verify(match[1]!);
    if (!owner)
      throw new DomainError('unauthorized', 'the access token is invalid or has expired; log in again');
    // A deleted owner's unexpired token reaches nothing (answered like the owner's own data: 404).
    if (this.deletedOwners.isDeleted(owner.id)) {
      throw new DomainError('not-found', 'no such owner: this account was deleted');
    }
    request.owner = owner;
    return true;
  }
}
