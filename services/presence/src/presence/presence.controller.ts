/** Transport edge for presence queries (request/reply over core NATS). */
import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { answerRpc } from '@parley/bus';
import { presenceRpc, rpcSubject } from '@parley/contracts';
import { PresenceService } from './presence.service.js';

/**
 * Built when the module is built (not at import), so the subject carries the bus prefix of the
 * configuration in force then — as the health module's ping controller does.
 */
export function presenceController() {
  @Controller()
  class PresenceController {
    constructor(readonly presence: PresenceService) {}

    @MessagePattern(rpcSubject(presenceRpc.query))
    query(@Payload() payload: unknown) {
      return answerRpc(presenceRpc.query, payload, async ({ identities }) => ({
        presences: await this.presence.query(identities),
      }));
    }
  }
  return PresenceController;
}
