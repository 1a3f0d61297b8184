/** The RPC edge of owners: each accounts.* owner request validated by its contract, then answered. */
import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { answerRpc } from '@parley/bus';
import { accountsRpc, rpcSubject } from '@parley/contracts';
import { OwnersService } from './owners.service.js';

@Controller()
export class OwnersHandler {
  constructor(private readonly owners: OwnersService) {}

  @MessagePattern(rpcSubject(accountsRpc.register))
  register(@Payload() payload: unknown) {
    return answerRpc(accountsRpc.register, payload, (req) => this.owners.register(req));
  }

  @MessagePattern(rpcSubject(accountsRpc.confirmEmail))
  confirmEmail(@Payload() payload: unknown) {
    return answerRpc(accountsRpc.confirmEmail, payload, (req) => this.owners.confirmEmail(req.token));
  }

  @MessagePattern(rpcSubject(accountsRpc.resendConfirmation))
  resendConfirmation(@Payload() payload: unknown) {
    return answerRpc(accountsRpc.resendConfirmation, payload, (req) => this.owners.resendConfirmation(req));
  }

  @MessagePattern(rpcSubject(accountsRpc.login))
  login(@Payload() payload: unknown) {
    return answerRpc(accountsRpc.login, payload, (req) => this.owners.login(req));
  }

  @MessagePattern(rpcSubject(accountsRpc.getOwner))
  getOwner(@Payload() payload: unknown) {
    return answerRpc(accountsRpc.getOwner, payload, (req) => this.owners.getOwner(req.ownerId));
  }

  @MessagePattern(rpcSubject(accountsRpc.updateOwner))
  updateOwner(@Payload() payload: unknown) {
    return answerRpc(accountsRpc.updateOwner, payload, (req) => this.owners.updateOwner(req));
  }

  @MessagePattern(rpcSubject(accountsRpc.changePassword))
  changePassword(@Payload() payload: unknown) {
    return answerRpc(accountsRpc.changePassword, payload, (req) => this.owners.changePassword(req));
  }

  @MessagePattern(rpcSubject(accountsRpc.deleteOwner))
  deleteOwner(@Payload() payload: unknown) {
    return answerRpc(accountsRpc.deleteOwner, payload, (req) => this.owners.deleteOwner(req.ownerId));
  }
}
