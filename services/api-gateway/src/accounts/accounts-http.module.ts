/** The owners' REST surface backed by the accounts service: auth/*, me, im-accounts. */
import { Module } from '@nestjs/common';
import { AuthController } from './auth.controller.js';
import { ImAccountsController } from './im-accounts.controller.js';
import { MeController } from './me.controller.js';

@Module({ controllers: [AuthController, MeController, ImAccountsController] })
export class AccountsHttpModule {}
