/**
 * `@RateLimit(action, accountField)`: limits attempts at an endpoint per client IP and per account
 * (the body field naming it: e-mail, token). Over the limit → 429 problem with Retry-After.
 */
import {
  Inject,
  Injectable,
  SetMetadata,
  UseGuards,
  applyDecorators,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { DomainError } from '@parley/bus';
import { CONFIG, type Config } from '../config.js';
import { clientIp } from '../http/client-ip.js';
import { FixedWindowLimiter } from './fixed-window-limiter.js';

const RATE_LIMIT = 'parley:rate-limit';

interface RateLimitOptions {
  action: string;
  /** Body field whose value identifies the account attempted. */
  accountField: string;
}

/** A 429: carries the seconds the client should wait (sent as Retry-After). */
export class RateLimitedError extends DomainError {
  constructor(readonly retryAfterSeconds: number) {
    super('rate-limited', `too many attempts; try again in ${retryAfterSeconds} s`);
  }
}

/** The attempt counters of this replica (one instance, shared by every rate-limited route). */
export const AUTH_LIMITER = Symbol('AUTH_LIMITER');
export const authLimiterProvider = {
  provide: AUTH_LIMITER,
  inject: [CONFIG],
  useFactory: (config: Config) => new FixedWindowLimiter(config.PARLEY_AUTH_RATE_LIMIT_WINDOW_SECONDS * 1000),
};

@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(AUTH_LIMITER) private readonly limiter: FixedWindowLimiter,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const options = this.reflector.get<RateLimitOptions | undefined>(RATE_LIMIT, context.getHandler());
    if (!options) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const ip = clientIp(
      request.socket.remoteAddress,
      request.headers['x-forwarded-for'],
      this.config.PARLEY_TRUST_PROXY_HOPS,
    );
    const keys = [{ key: `${options.action}:ip:${ip}`, limit: this.config.PARLEY_AUTH_RATE_LIMIT_PER_IP }];
    const account = (request.body as Record<string, unknown> | undefined)?.[options.accountField];
    if (typeof account === 'string' && account.length <= 1024) {
      keys.push({
        key: `${options.action}:account:${account.trim().toLowerCase()}`,
        limit: this.config.PARLEY_AUTH_RATE_LIMIT_PER_ACCOUNT,
      });
    }
    const outcome = this.limiter.hit(keys);
    if (!outcome.allowed) throw new RateLimitedError(outcome.retryAfterSeconds);
    return true;
  }
}

export function RateLimit(action: string, accountField: string): MethodDecorator {
  return applyDecorators(SetMetadata(RATE_LIMIT, { action, accountField }), UseGuards(RateLimitGuard));
}
