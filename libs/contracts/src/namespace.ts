/**
 * The bus namespace: every subject, stream and KV bucket name is derived from one prefix so that
 * test runs (and tenants, if ever) never collide. Production uses the default prefix `parley`.
 */
const PREFIX_PATTERN = /^[a-z][a-z0-9_]{0,31}$/;

export const DEFAULT_BUS_PREFIX = 'parley';

/** The last prefix validated: subjects are built on every message, the check runs once per value. */
let validated: string | undefined;

/** The prefix this process uses: `PARLEY_BUS_PREFIX` or `parley`. Validated so it is safe in subjects. */
export function busPrefix(): string {
  const prefix = process.env.PARLEY_BUS_PREFIX ?? DEFAULT_BUS_PREFIX;
  if (prefix === validated) return prefix;
  if (!PREFIX_PATTERN.test(prefix)) {
    throw new Error(`PARLEY_BUS_PREFIX must match ${PREFIX_PATTERN} (got "${prefix}")`);
  }
  validated = prefix;
  return prefix;
}

/** Stream and bucket names cannot contain dots; they are upper-cased with the prefix. */
export function streamName(base: string, prefix = busPrefix()): string {
  return `${prefix.toUpperCase()}_${base}`;
}
