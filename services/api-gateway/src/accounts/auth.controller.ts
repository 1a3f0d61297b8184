/** POST /api/v1/auth/register, /confirm, /login: the public, rate-limited entry points of owners. */
import { Post } from '@nestjs/common';
import { z } from 'zod';
import {
  accountsRpc,
  confirmBodySchema,
  loginBodySchema,
  loginResponseSchema,
  ownerProfileSchema,
  registerBodySchema,
} from '@parley/contracts';
import { Public } from '../auth/public.decorator.js';
import { ApiController, Endpoint, ValidBody } from '../http/endpoint.decorators.js';
import { RpcGateway } from '../http/rpc-gateway.js';
import { RateLimit } from '../rate-limit/rate-limit.js';

@ApiController('auth')
@Public()
export class AuthController {
  constructor(private readonly rpc: RpcGateway) {}

  @Post('register')
  @RateLimit('register', 'email')
  @Endpoint({
    tag: 'auth',
    summary: 'Register an owner and send the confirmation e-mail',
    description:
      'Password policy: at least 10 characters, not the e-mail address. Registering again an address that is not confirmed yet replaces the earlier attempt and sends a new mail.',
    status: 201,
    response: ownerProfileSchema,
    errors: ['conflict', 'rate-limited', 'unavailable'],
  })
  register(@ValidBody(registerBodySchema) body: z.infer<typeof registerBodySchema>) {
    return this.rpc.call(accountsRpc.register, body);
  }

  @Post('confirm')
  @RateLimit('confirm', 'token')
  @Endpoint({
    tag: 'auth',
    summary: 'Confirm an e-mail address with the token from the mail',
    description: 'Confirms a registration or an e-mail change. A token works once and expires.',
    status: 200,
    response: ownerProfileSchema,
    errors: ['conflict', 'rate-limited'],
  })
  confirm(@ValidBody(confirmBodySchema) body: z.infer<typeof confirmBodySchema>) {
    return this.rpc.call(accountsRpc.confirmEmail, body);
  }

  @Post('login')
  @RateLimit('login', 'email')
  @Endpoint({
    tag: 'auth',
    summary: 'Log in; returns a short-lived bearer access token',
    status: 200,
    response: loginResponseSchema,
    errors: ['unauthorized', 'forbidden', 'rate-limited'],
  })
  login(@ValidBody(loginBodySchema) body: z.infer<typeof loginBodySchema>) {
    return this.rpc.call(accountsRpc.login, body);
  }
}
