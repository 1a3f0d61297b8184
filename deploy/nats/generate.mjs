#!/usr/bin/env node
// Writes the nats-server accounts config (one user per service, permissions from libs/contracts)
// to deploy/nats/accounts.conf, or to the file given with --out, for the bus prefix given with
// --prefix (default: PARLEY_BUS_PREFIX or `parley`). Needs the contracts built (`npx turbo run build`).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { prefix: { type: 'string' }, out: { type: 'string' } },
});
if (values.prefix) process.env.PARLEY_BUS_PREFIX = values.prefix;
// Imported after the prefix is set: every subject is derived from it when the config is rendered.
const { natsAccountsConfig } = await import('@parley/contracts');
const out = values.out ?? path.join(path.dirname(fileURLToPath(import.meta.url)), 'accounts.conf');
writeFileSync(out, natsAccountsConfig());
console.log(`wrote ${path.relative(process.cwd(), out) || out}`);
