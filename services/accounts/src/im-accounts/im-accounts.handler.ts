/** The RPC edge of IM accounts (accounts.listImAccounts, createImAccount, … imAccountCredentials). */
import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { answerRpc } from '@parley/bus';
import { accountsRpc, rpcSubject } from '@parley/contracts';
import { ImAccountsService } from './im-accounts.service.js';

@Controller()
export class ImAccountsHandler {
  constructor(private readonly imAccounts: ImAccountsService) {}

  @MessagePattern(rpcSubject(accountsRpc.listImAccounts))
  list(@Payload() payload: unknown) {
    return answerRpc(accountsRpc.listImAccounts, payload, (req) => this.imAccounts.list(req.ownerId));
  }

  @MessagePattern(rpcSubject(accountsRpc.createImAccount))
  create(@Payload() payload: unknown) {
    return answerRpc(accountsRpc.createImAccount, payload, (req) => this.imAccounts.create(req));
  }

  @MessagePattern(rpcSubject(accountsRpc.getImAccount))
  get(@Payload() payload: unknown) {
    return answerRpc(accountsRpc.getImAccount, payload, (req) =>
      this.imAccounts.get(req.ownerId, req.imAccountId),
    );
  }

  @MessagePattern(rpcSubject(accountsRpc.deleteImAccount))
  delete(@Payload() payload: unknown) {
    return answerRpc(accountsRpc.deleteImAccount, payload, (req) =>
      this.imAccounts.delete(req.ownerId, req.imAccountId),
    );
  }

  @MessagePattern(rpcSubject(accountsRpc.imAccountCredentials))
  credentials(@Payload() payload: unknown) {
    return answerRpc(accountsRpc.imAccountCredentials, payload, (req) =>
      this.imAccounts.credentials(req.ownerId, req.imAccountId),
    );
  }
}
