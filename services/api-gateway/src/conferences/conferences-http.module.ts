/** The owners' REST surface backed by conference-core: conferences, their lifecycle and participants. */
import { Module } from '@nestjs/common';
import { ConferencesController } from './conferences.controller.js';
import { ParticipantsController } from './participants.controller.js';

@Module({ controllers: [ConferencesController, ParticipantsController] })
export class ConferencesHttpModule {}
