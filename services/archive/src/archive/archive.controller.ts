/** The archive's read and settings RPCs (core NATS): validate, call the store, answer. Thin on purpose. */
import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { answerRpc } from '@parley/bus';
import {
  archiveCountsRpc,
  archiveExportRpc,
  archiveGetSettingsRpc,
  archiveLastRpc,
  archivePageRpc,
  archiveSearchRpc,
  archiveSetSettingsRpc,
  archiveWindowRpc,
  rpcSubject,
} from '@parley/contracts';
import { ArchiveStore } from './archive-store.js';

@Controller()
export class ArchiveController {
  constructor(private readonly store: ArchiveStore) {}

  @MessagePattern(rpcSubject(archiveLastRpc))
  last(@Payload() payload: unknown) {
    return answerRpc(archiveLastRpc, payload, async (r) => ({
      events: await this.store.latest(r.conferenceId, { messagesOnly: r.messagesOnly }, r.limit),
    }));
  }

  @MessagePattern(rpcSubject(archiveWindowRpc))
  window(@Payload() payload: unknown) {
    return answerRpc(archiveWindowRpc, payload, (r) =>
      this.store.latestWithTotal(r.conferenceId, r, r.limit),
    );
  }

  @MessagePattern(rpcSubject(archivePageRpc))
  page(@Payload() payload: unknown) {
    return answerRpc(archivePageRpc, payload, (r) => this.store.page(r.conferenceId, r, r.limit, r.cursor));
  }

  @MessagePattern(rpcSubject(archiveSearchRpc))
  search(@Payload() payload: unknown) {
    return answerRpc(archiveSearchRpc, payload, (r) =>
      this.store.latestWithTotal(r.conferenceId, { q: r.q }, r.limit),
    );
  }

  @MessagePattern(rpcSubject(archiveExportRpc))
  export(@Payload() payload: unknown) {
    return answerRpc(archiveExportRpc, payload, (r) =>
      this.store.page(r.conferenceId, {}, r.limit, r.cursor),
    );
  }

  @MessagePattern(rpcSubject(archiveCountsRpc))
  counts(@Payload() payload: unknown) {
    return answerRpc(archiveCountsRpc, payload, async (r) => ({
      participants: await this.store.counts(r.conferenceId),
    }));
  }

  @MessagePattern(rpcSubject(archiveGetSettingsRpc))
  getSettings(@Payload() payload: unknown) {
    return answerRpc(archiveGetSettingsRpc, payload, (r) => this.store.settings(r.conferenceId));
  }

  @MessagePattern(rpcSubject(archiveSetSettingsRpc))
  setSettings(@Payload() payload: unknown) {
    return answerRpc(archiveSetSettingsRpc, payload, (r) => this.store.updateSettings(r.conferenceId, r));
  }
}
