/**
 * Owners' access tokens: short-lived JWTs signed with PARLEY_JWT_SECRET. The api-gateway verifies
 * them with the same secret and the claims both sides take from @parley/contracts.
 */
import { SignJWT } from 'jose';
import { ACCESS_TOKEN_CLAIMS as ACCESS_TOKEN } from '@parley/contracts';

export class AccessTokenIssuer {
  private readonly key: Uint8Array;

  constructor(
    secret: string,
    readonly ttlSeconds: number,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  issue(ownerId: string): Promise<string> {
    return new SignJWT({})
      .setProtectedHeader({ alg: ACCESS_TOKEN.algorithm, typ: 'JWT' })
      .setSubject(ownerId)
      .setIssuer(ACCESS_TOKEN.issuer)
      .setAudience(ACCESS_TOKEN.audience)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(this.key);
  }
}
