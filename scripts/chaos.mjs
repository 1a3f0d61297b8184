// `npm run chaos`: the chaos suite (test/chaos/stack-chaos.test.ts) on servers of its own, longer
// than the short run inside `npm test`:
//   npm run chaos                      every fault once (as in npm test), figures printed
//   npm run chaos -- --rounds 3        every fault three times
//   npm run chaos -- --soak 10m        10 minutes of traffic without faults first, memory and
//                                      handles of every service sampled every 15 s; then the faults
//   npm run chaos -- --faults ngircd   only the faults whose name matches (a regular expression)
// The figures (JSON) go to .chaos-report.json (or --report FILE). Build first (`npm run build`).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '1' },
    soak: { type: 'string' },
    faults: { type: 'string' },
    report: { type: 'string', default: '.chaos-report.json' },
  },
});

/** `10m`, `90s`, `1h` or plain milliseconds. */
function duration(text) {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text);
  if (!match) throw new Error(`--soak: "${text}" is not a duration like 10m, 90s or 1h`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[match[2] ?? 'ms'];
  return Math.round(Number(match[1]) * unit);
}

const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds must be a whole number ≥ 1');
const env = {
  ...process.env,
  PARLEY_CHAOS_ROUNDS: String(rounds),
  PARLEY_CHAOS_SOAK_MS: String(values.soak ? duration(values.soak) : 0),
  PARLEY_CHAOS_REPORT: path.resolve(root, values.report),
  ...(values.faults ? { PARLEY_CHAOS_FAULTS: values.faults } : {}),
};
const result = spawnSync(
  path.join(root, 'node_modules/.bin/vitest'),
  ['run', '--project', 'chaos', 'test/chaos/stack-chaos.test.ts'],
  { cwd: root, env, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
