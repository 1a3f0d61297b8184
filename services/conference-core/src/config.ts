/** conference-core configuration (env vars, validated at start-up). */
import { z } from 'zod';
import { baseConfigShape, databaseConfigShape, loadConfig } from '@parley/runtime';
import { parseQueueNetworks } from './offline/offline-rules.js';

export const configSchema = z.object({
  ...baseConfigShape(8083),
  ...databaseConfigShape('conference'),
  /** Appended to every bot's screen name so people can tell a Parley bot from a person. */
  PARLEY_BOT_SUFFIX: z.string().trim().min(1).max(40).default('(parley)'),
  /** Networks whose servers keep no messages for offline users: conference-core queues for them. */
  PARLEY_OFFLINE_QUEUE_NETWORKS: z
    .string()
    .default('irc')
    .refine((value) => {
      try {
        parseQueueNetworks(value);
        return true;
      } catch {
        return false;
      }
    }, 'a comma-separated list of networks (xmpp, irc)'),
  /**
   * How an IRC participant is known: `nick` (the network has no accounts, like our test ngircd:
   * whoever holds the nick speaks as them, so IRC participants are shown as unverified and no
   * offline backlog is ever handed to a nick), or `account` (gateway-irc binds participants to
   * network accounts: SASL / services / IRCv3 account-tag). See docs/adr/0003-irc-identity.md.
   */
  PARLEY_IRC_IDENTITY: z.enum(['nick', 'account']).default('nick'),
  /** Most deliveries kept per offline participant; older ones are dropped (with a note). */
  PARLEY_OFFLINE_QUEUE_CAP: z.coerce.number().int().min(1).max(100_000).default(200),
  /** The XMPP component domain of this deployment's bots: its addresses are never invited. */
  PARLEY_XMPP_COMPONENT_DOMAIN: z.string().trim().min(1).default('conf.localhost'),
  /** The pooled IRC bot's nick (gateway-irc's PARLEY_IRC_POOL_NICK): never invited. */
  PARLEY_IRC_POOL_NICK: z.string().trim().min(1).default('parley'),
  /** Most people one participant may invite into a conference (the owner is not limited). */
  PARLEY_INVITES_PER_PARTICIPANT: z.coerce.number().int().min(0).max(100_000).default(20),
  /** Most invitations by participants in one conference. */
  PARLEY_INVITES_BY_PARTICIPANTS: z.coerce.number().int().min(0).max(1_000_000).default(200),
  /** How often each replica looks for conferences whose time-to-live deadline has passed. */
  PARLEY_TTL_CHECK_MS: z.coerce.number().int().min(50).max(600_000).default(1_000),
});
export type Config = z.infer<typeof configSchema>;

export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return loadConfig('conference-core', configSchema, env);
}
