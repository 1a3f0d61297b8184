/** Reports whether every conference bot is connected to the IRC server; used by /health/ready. */
import { Injectable } from '@nestjs/common';
import { NetworkHealthIndicator } from '@parley/gateway-kit';

@Injectable()
export class IrcBotsHealthIndicator extends NetworkHealthIndicator {}
