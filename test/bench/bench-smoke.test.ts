/**
 * A smoke run of `npm run bench` (test/bench/conference-bench.ts --smoke): 3 participants, a few
 * messages, Parley and the MUC baseline, one many-conferences step with 2 conferences, and the bus
 * floor. It checks that every figure is produced and that no message was lost or doubled — never
 * how fast anything was (the machine is shared; speed is what the benchmark reports, not asserts).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

interface Step {
  system: string;
  expected: number;
  delivered: number;
  lost: number;
  duplicates: number;
  unexpected: number;
  latencyMs: Record<string, number | null>;
  cpuPer1000: Record<string, number>;
  pathCpuPer1000: number | null;
  sent: number;
  hops?: Record<string, number | { p50: number | null; p99: number | null }>;
}

interface Saturation {
  heldMessagesPerSecond: number;
  heldDeliveriesPerSecond: number;
  steps: Step[];
}

interface Idle {
  seconds: number;
  cpuMsPerSecond: Record<string, number>;
  pathCpuMsPerSecond: number;
}

interface BenchResult {
  sizes: {
    participants: number;
    muc: { joinSeconds: number; idle: Idle; fixed: Step; saturation: Saturation };
    parley: { joinSeconds: number; settledSeconds: number; idle: Idle; fixed: Step; saturation: Saturation };
  }[];
  many: { conferences: number; muc: Step; parley: Step };
  floor: Record<
    'core' | 'jetstream',
    { latencyMs: Record<string, number | null>; throughputPerSecond: number }
  > & {
    durablePath: {
      messages: number;
      latencyMs: Record<string, number | null>;
      cpuMsPerMessage: Record<string, number>;
    };
  };
  table: string;
}

const isFiniteNumber = (value: unknown) => typeof value === 'number' && Number.isFinite(value);

/** Every delivery arrived exactly once, and every figure of the step is a number. */
function expectComplete(step: Step, what: string): void {
  expect(step.expected, `${what}: deliveries expected`).toBeGreaterThan(0);
  expect(
    { delivered: step.delivered, lost: step.lost, duplicates: step.duplicates, unexpected: step.unexpected },
    what,
  ).toEqual({ delivered: step.expected, lost: 0, duplicates: 0, unexpected: 0 });
  for (const key of ['p50', 'p90', 'p99', 'max']) {
    expect(isFiniteNumber(step.latencyMs[key]), `${what}: latency ${key}`).toBe(true);
  }
  expect(isFiniteNumber(step.pathCpuPer1000), `${what}: CPU per 1,000 deliveries`).toBe(true);
  for (const label of ['prosody', 'nats-server', 'postgres', 'conference-core', 'gateway-xmpp']) {
    expect(isFiniteNumber(step.cpuPer1000[label]), `${what}: CPU of ${label}`).toBe(true);
  }
}

describe('npm run bench (smoke configuration)', () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'parley-bench-smoke-'));
  let result: BenchResult;
  let output = '';

  beforeAll(async () => {
    const child = spawn(process.execPath, ['test/bench/conference-bench.ts', '--smoke', '--out', out], {
      cwd: root,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    if (code !== 0) throw new Error(`the bench exited with ${code}:\n${output.slice(-6_000)}`);
    const file = readdirSync(out).find((name) => name.endsWith('.json'));
    if (!file) throw new Error(`the bench wrote no JSON into ${out}:\n${output.slice(-3_000)}`);
    result = JSON.parse(readFileSync(path.join(out, file), 'utf8')) as BenchResult;
  }, 600_000);

  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('delivers every fixed-rate message to every other participant exactly once, on both systems', () => {
    expect(result.sizes.map((s) => s.participants)).toEqual([3]);
    for (const size of result.sizes) {
      expectComplete(size.muc.fixed, 'MUC fixed rate');
      expectComplete(size.parley.fixed, 'Parley fixed rate');
      expect(isFiniteNumber(size.muc.joinSeconds) && isFiniteNumber(size.parley.joinSeconds)).toBe(true);
    }
  });

  it("splits Parley's fixed-rate latency at the streams and the outbox, for every message sent", () => {
    for (const size of result.sizes) {
      const { hops, sent } = size.parley.fixed;
      expect(hops, 'hop breakdown').toBeDefined();
      expect(hops!.messages, 'messages traced through IM_INBOUND, the outbox and IM_OUTBOUND').toBe(sent);
      for (const leg of [
        'toInbound',
        'inboundToOutbound',
        'inboundToDecision',
        'decisionToDecided',
        'decidedToOutbound',
        'outboundToClient',
      ]) {
        const figure = hops![leg] as { p50: number | null; p99: number | null };
        expect(isFiniteNumber(figure.p50) && isFiniteNumber(figure.p99), `${leg} p50 and p99`).toBe(true);
      }
    }
    expect(result.table).toContain('where the time goes');
  });

  it('measures what each system costs at rest, per process', () => {
    for (const size of result.sizes) {
      for (const [system, idle] of [
        ['MUC', size.muc.idle],
        ['Parley', size.parley.idle],
      ] as const) {
        expect(idle.seconds, `${system}: seconds at rest`).toBeGreaterThan(0);
        expect(isFiniteNumber(idle.pathCpuMsPerSecond), `${system}: path CPU at rest`).toBe(true);
        for (const label of ['prosody', 'nats-server', 'conference-core', 'gateway-xmpp']) {
          expect(isFiniteNumber(idle.cpuMsPerSecond[label]), `${system}: CPU of ${label} at rest`).toBe(true);
        }
      }
    }
    expect(result.table).toContain('CPU ms a second at rest');
  });

  it('produces a saturation figure for both systems, doubling nothing on the way', () => {
    for (const size of result.sizes) {
      for (const saturation of [size.muc.saturation, size.parley.saturation]) {
        expect(isFiniteNumber(saturation.heldMessagesPerSecond)).toBe(true);
        expect(isFiniteNumber(saturation.heldDeliveriesPerSecond)).toBe(true);
        // No steps beyond the fixed-rate one when that one already missed the bar (a loaded machine).
        expect(Array.isArray(saturation.steps)).toBe(true);
        for (const step of saturation.steps) expect([step.duplicates, step.unexpected]).toEqual([0, 0]);
      }
    }
  });

  it('runs the many-conferences step on both systems without loss or duplicates', () => {
    expect(result.many.conferences).toBe(2);
    expectComplete(result.many.muc, 'MUC many conferences');
    expectComplete(result.many.parley, 'Parley many conferences');
  });

  it('measures the bus floor: NATS core and JetStream latency and throughput', () => {
    for (const bus of ['core', 'jetstream'] as const) {
      expect(isFiniteNumber(result.floor[bus].latencyMs.p50), `${bus} p50`).toBe(true);
      expect(isFiniteNumber(result.floor[bus].latencyMs.p99), `${bus} p99`).toBe(true);
      expect(result.floor[bus].throughputPerSecond, `${bus} throughput`).toBeGreaterThan(0);
    }
  });

  it('measures the durable path floor: every message through, and what the stores spent on each', () => {
    const path = result.floor.durablePath;
    expect(path.messages, 'messages sent').toBeGreaterThan(0);
    expect(isFiniteNumber(path.latencyMs.p50), 'p50').toBe(true);
    for (const label of ['nats-server', 'postgres', 'bench clients']) {
      expect(isFiniteNumber(path.cpuMsPerMessage[label]), `${label} CPU per message`).toBe(true);
    }
    expect(result.table).toContain('durable path floor');
  });

  it('prints the comparison table with Parley / MUC ratios', () => {
    expect(result.table).toContain('Parley / MUC');
    expect(output).toContain('Parley / MUC');
  });
});
