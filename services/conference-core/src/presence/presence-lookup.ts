/**
 * Asks the presence service for the aggregate presence of many identities (`/list status`,
 * `/list active`, the owners' participant list), in chunks of MAX_PRESENCE_QUERY_IDENTITIES.
 */
import { Injectable } from '@nestjs/common';
import { RpcClient } from '@parley/bus';
import { MAX_PRESENCE_QUERY_IDENTITIES, presenceRpc, type Identity } from '@parley/contracts';
import { logger } from '@parley/observability';
import { presenceKey, type PresenceInfo } from '../conference/conference-rules.js';

/** Short: the inbound consumer waits for the answer (maxAckPending 1). */
const QUERY_TIMEOUT_MS = 5_000;

@Injectable()
export class PresenceLookup {
  constructor(private readonly rpc: RpcClient) {}

  /** Presence by presenceKey(); null when the presence service did not answer (logged). */
  async query(identities: Identity[]): Promise<Map<string, PresenceInfo> | null> {
    const out = new Map<string, PresenceInfo>();
    try {
      for (let i = 0; i < identities.length; i += MAX_PRESENCE_QUERY_IDENTITIES) {
        const chunk = identities.slice(i, i + MAX_PRESENCE_QUERY_IDENTITIES);
        const answer = await this.rpc.call(presenceRpc.query, { identities: chunk }, QUERY_TIMEOUT_MS);
        answer.presences.forEach((p, index) => {
          const asked = chunk[index]!;
          out.set(presenceKey(asked), { presence: p.presence, ...(p.status ? { status: p.status } : {}) });
        });
      }
      return out;
    } catch (error) {
      logger().warn({ err: error, identities: identities.length }, 'presence query failed');
      return null;
    }
  }
}
