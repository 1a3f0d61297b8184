/**
 * POST /api/v1/auth/register, /confirm, /resend-confirmation, /login: the public, rate-limited
 * entry points of owners.
 */
import { Post } from '@nestjs/common';
import { z } from 'zod';
import {
  accountsEmptySchema,
  accountsRpc,
  confirmBodySchema,
  loginBodySchema,
  loginResponseSchema,
  ownerProfileSchema,
  registerBodySchema,
  resendConfirmationBodySchema,
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
      'Password policy: at least 10 characters, not the e-mail address. An address that is registered and waits for its confirmation cannot be registered again (409: check your mail, or ask for a new one with POST /auth/resend-confirmation) until its confirmation has expired; then a new registration replaces the lapsed one.',
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

  @Post('resend-confirmation')
  @RateLimit('resend-confirmation', 'email')
  @Endpoint({
    tag: 'auth',
    summary: 'Send the confirmation mail of a registration again',
    description:
      'If the address is registered and waits for its confirmation, a new token is mailed to it; it expires with the registration (asking again does not extend it). Answered 202 alike for every address — unknown, confirmed or pending — so it tells nobody whether an address is registered.',
    status: 202,
    response: accountsEmptySchema,
    errors: ['rate-limited'],
  })
  resendConfirmation(
    @ValidBody(resendConfirmationBodySchema) body: z.infer<typeof resendConfirmationBodySchema>,
  ) {
    return this.rpc.call(accountsRpc.resendConfirmation, body);
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
