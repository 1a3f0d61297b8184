/** Reports whether the XEP-0114 component connection to the XMPP server is up; used by /health/ready. */
import { Injectable } from '@nestjs/common';
import { NetworkHealthIndicator } from '@parley/gateway-kit';

@Injectable()
export class XmppComponentHealthIndicator extends NetworkHealthIndicator {}
