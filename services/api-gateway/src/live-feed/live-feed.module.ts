/** The live feed of a conference (SSE), read from the bus by ordered consumers. */
import { Module } from '@nestjs/common';
import { LiveFeedController } from './live-feed.controller.js';

@Module({ controllers: [LiveFeedController] })
export class LiveFeedHttpModule {}
