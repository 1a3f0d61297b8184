/** Verifies owners' access tokens (signed by accounts at login) and yields the owner they name. */
import { jwtVerify } from 'jose';
import { ACCESS_TOKEN_CLAIMS, accountsIdSchema } from '@parley/contracts';

export interface AuthenticatedOwner {
  id: string;
  /** When the token stops being valid (ms since the epoch); a long-lived answer (the live feed) ends then. */
  expiresAt: number;
}

export class AccessTokenVerifier {
  private readonly key: Uint8Array;

  constructor(secret: string) {
    this.key = new TextEncoder().encode(secret);
  }

  /** The owner, or null for a token that is malformed, forged, expired or for someone else. */
  async verify(token: string): Promise<AuthenticatedOwner | null> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        issuer: ACCESS_TOKEN_CLAIMS.issuer,
        audience: ACCESS_TOKEN_CLAIMS.audience,
        algorithms: [ACCESS_TOKEN_CLAIMS.algorithm],
        requiredClaims: ['sub', 'exp'],
      });
      const id = accountsIdSchema.safeParse(payload.sub);
      return id.success ? { id: id.data, expiresAt: payload.exp! * 1000 } : null;
    } catch {
      return null;
    }
  }
}
