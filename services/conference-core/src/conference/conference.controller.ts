/** The RPC edge of conference-core: validates each request with its contract and calls the service. */
import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { answerRpc } from '@parley/bus';
import { conferencesRpc as rpc, rpcSubject } from '@parley/contracts';
import { BotDirectoryService } from './bot-directory.service.js';
import { OwnerCommandsService } from './owner-commands.service.js';

@Controller()
export class ConferenceController {
  constructor(
    private readonly owner: OwnerCommandsService,
    private readonly directory: BotDirectoryService,
  ) {}

  @MessagePattern(rpcSubject(rpc.create))
  create(@Payload() payload: unknown) {
    return answerRpc(rpc.create, payload, (r) => this.owner.create(r));
  }

  @MessagePattern(rpcSubject(rpc.list))
  list(@Payload() payload: unknown) {
    return answerRpc(rpc.list, payload, (r) => this.owner.list(r.ownerId));
  }

  @MessagePattern(rpcSubject(rpc.get))
  get(@Payload() payload: unknown) {
    return answerRpc(rpc.get, payload, (r) => this.owner.get(r.ownerId, r.conferenceId));
  }

  @MessagePattern(rpcSubject(rpc.update))
  update(@Payload() payload: unknown) {
    return answerRpc(rpc.update, payload, (r) => this.owner.update(r));
  }

  @MessagePattern(rpcSubject(rpc.start))
  start(@Payload() payload: unknown) {
    return answerRpc(rpc.start, payload, (r) => this.owner.start(r.ownerId, r.conferenceId));
  }

  @MessagePattern(rpcSubject(rpc.close))
  close(@Payload() payload: unknown) {
    return answerRpc(rpc.close, payload, (r) => this.owner.close(r.ownerId, r.conferenceId));
  }

  @MessagePattern(rpcSubject(rpc.addParticipants))
  addParticipants(@Payload() payload: unknown) {
    return answerRpc(rpc.addParticipants, payload, (r) => this.owner.addParticipants(r));
  }

  @MessagePattern(rpcSubject(rpc.removeParticipant))
  removeParticipant(@Payload() payload: unknown) {
    return answerRpc(rpc.removeParticipant, payload, (r) =>
      this.owner.removeParticipant(r.ownerId, r.conferenceId, r.participantId),
    );
  }

  @MessagePattern(rpcSubject(rpc.listParticipants))
  listParticipants(@Payload() payload: unknown) {
    return answerRpc(rpc.listParticipants, payload, (r) =>
      this.owner.listParticipants(r.ownerId, r.conferenceId),
    );
  }

  @MessagePattern(rpcSubject(rpc.cleanParticipants))
  cleanParticipants(@Payload() payload: unknown) {
    return answerRpc(rpc.cleanParticipants, payload, (r) =>
      this.owner.cleanParticipants(r.ownerId, r.conferenceId),
    );
  }

  @MessagePattern(rpcSubject(rpc.forAddress))
  forAddress(@Payload() payload: unknown) {
    return answerRpc(rpc.forAddress, payload, (r) => this.directory.forAddress(r.network, r.address));
  }

  @MessagePattern(rpcSubject(rpc.activeBots))
  activeBots(@Payload() payload: unknown) {
    return answerRpc(rpc.activeBots, payload, (r) => this.directory.activeBots(r.network, r.partitions));
  }

  @MessagePattern(rpcSubject(rpc.bot))
  bot(@Payload() payload: unknown) {
    return answerRpc(rpc.bot, payload, (r) => this.directory.bot(r.conferenceId));
  }
}
