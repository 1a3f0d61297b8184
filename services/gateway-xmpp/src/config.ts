/** gateway-xmpp configuration (env vars, validated at start-up). */
import { z } from 'zod';
import { gatewayConfigShape } from '@parley/gateway-kit';
import { baseConfigShape, loadConfig } from '@parley/runtime';

export const configSchema = z.object({
  ...baseConfigShape(8086),
  // XMPP servers rate-limit by bytes on s2s/c2s, not per component stanza: generous defaults.
  ...gatewayConfigShape({ networkPerSecond: 0, recipientPerSecond: 1_000 }),
  /** Where the XMPP server accepts components (XEP-0114). */
  PARLEY_XMPP_COMPONENT_HOST: z.string().min(1).default('127.0.0.1'),
  PARLEY_XMPP_COMPONENT_PORT: z.coerce.number().int().min(1).max(65535).default(5347),
  /** The component's domain; bots are `<conference-id>@<domain>`. */
  PARLEY_XMPP_COMPONENT_DOMAIN: z
    .string()
    .regex(/^[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?$/i, 'must be a host name, e.g. conf.example.org')
    .default('conf.localhost'),
  PARLEY_XMPP_COMPONENT_SECRET: z.string().min(1).default('parley-component-secret'),
  /**
   * Contact import logs in to the owner's XMPP server. Unset: the server of the account's domain
   * (DNS SRV `_xmpp-client._tcp`, then the domain on 5222). Set (tests, development, a single
   * in-house server): every owner account is reached at this host and port.
   */
  PARLEY_XMPP_C2S_HOST: z.string().min(1).optional(),
  PARLEY_XMPP_C2S_PORT: z.coerce.number().int().min(1).max(65535).default(5222),
});
export type Config = z.infer<typeof configSchema>;

export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return loadConfig('gateway-xmpp', configSchema, env);
}
