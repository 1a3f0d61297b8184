/**
 * Ends everything a deleted owner had in conference-core: closes each of their conferences through
 * the ordinary close path (so every bot says goodbye and drops its contacts), then publishes the
 * `owner-conferences-closed` fact with their ids for the archive to delete their history.
 */
import { Injectable } from '@nestjs/common';
import { DomainError, JetStreamBus } from '@parley/bus';
import { ownerEventIds, ownerSubjects, streams } from '@parley/contracts';
import { logger } from '@parley/observability';
import { OwnerCommandsService } from '../conference/owner-commands.service.js';

@Injectable()
export class OwnerConferencesService {
  constructor(
    private readonly conferences: OwnerCommandsService,
    private readonly bus: JetStreamBus,
  ) {}

  /**
   * Idempotent: a redelivered fact finds the conferences already terminated (their close answers
   * `conflict`, which is what we want) and republishes the same fact id, stored once.
   */
  async closeAllOf(ownerId: string): Promise<string[]> {
    const { conferences } = await this.conferences.list(ownerId);
    let closed = 0;
    for (const conference of conferences) {
      if (conference.state === 'terminated') continue;
      try {
        await this.conferences.close(ownerId, conference.id);
        closed++;
      } catch (error) {
        // Ended meanwhile (its time-to-live, a concurrent close): nothing left to do for it.
        if (!(error instanceof DomainError && error.code === 'conflict')) throw error;
      }
    }
    const conferenceIds = conferences.map((c) => c.id);
    await this.bus.publish(streams.ownerEvents(), ownerSubjects.conferencesClosed(ownerId), {
      id: ownerEventIds.conferencesClosed(ownerId),
      occurredAt: new Date().toISOString(),
      type: 'owner-conferences-closed',
      ownerId,
      conferenceIds,
    });
    logger().info(
      { ownerId, conferences: conferenceIds.length, closed },
      "deleted owner's conferences closed",
    );
    return conferenceIds;
  }
}
