/** The bot-command RPCs: conference-core forwards `/history` and `/search` arguments here. */
import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { answerRpc } from '@parley/bus';
import { archiveHistoryCommandRpc, archiveSearchCommandRpc, rpcSubject } from '@parley/contracts';
import { HistoryService } from './history.service.js';

@Controller()
export class HistoryController {
  constructor(private readonly history: HistoryService) {}

  @MessagePattern(rpcSubject(archiveHistoryCommandRpc))
  historyCommand(@Payload() payload: unknown) {
    return answerRpc(archiveHistoryCommandRpc, payload, (r) =>
      this.history.history(r.conferenceId, r.participant, r.args),
    );
  }

  @MessagePattern(rpcSubject(archiveSearchCommandRpc))
  searchCommand(@Payload() payload: unknown) {
    return answerRpc(archiveSearchCommandRpc, payload, (r) => this.history.search(r.conferenceId, r.args));
  }
}
