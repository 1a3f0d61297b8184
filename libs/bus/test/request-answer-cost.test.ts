/**
 * The bus's change to nats.js requests (src/request-answer-cost.ts), against a real NATS server: an
 * answered request no longer builds a RequestError, and every other way a request ends is as before.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, errors, type NatsConnection } from '@nats-io/transport-node';
import { JetStreamBus } from '@parley/bus';
import { testEnv } from '@parley/testing';

/** nats.js's own errors module (not exported: by path), whose RequestError its requests look up at each use. */
const require = createRequire(import.meta.url);
const natsErrors = require(path.join(path.dirname(require.resolve('@nats-io/nats-core')), 'errors.js')) as {
  RequestError: typeof errors.RequestError;
};

describe('NATS requests through the bus', () => {
  let bus: JetStreamBus;
  let responder: NatsConnection;
  const subject = `answer-cost.${process.pid}`;

  beforeAll(async () => {
    bus = await JetStreamBus.connect({ natsUrl: testEnv.natsUrl(), name: 'answer-cost-test' });
    responder = await connect({ servers: testEnv.natsUrl() });
    responder.subscribe(subject, {
      callback: (_err, msg) => {
        if (msg.string() !== 'silent') msg.respond(`re: ${msg.string()}`);
      },
    });
    await responder.flush();
  });
  afterAll(async () => {
    await responder.close();
    await bus.close();
  });

  it('answers 200 requests without building a single RequestError', async () => {
    const Original = natsErrors.RequestError;
    let built = 0;
    natsErrors.RequestError = class Counted extends Original {
      constructor(...args: ConstructorParameters<typeof Original>) {
        super(...args);
        built++;
      }
    };
    try {
      const answers = await Promise.all(
        Array.from({ length: 200 }, (_, i) => bus.nc.request(subject, `q${i}`, { timeout: 5_000 })),
      );
      expect(answers.map((m) => m.string())).toEqual(Array.from({ length: 200 }, (_, i) => `re: q${i}`));
    } finally {
      natsErrors.RequestError = Original;
    }
    expect(built).toBe(0);
  });

  it('still times out a request nobody answers, and reports no responders', async () => {
    await expect(bus.nc.request(subject, 'silent', { timeout: 200 })).rejects.toBeInstanceOf(
      errors.TimeoutError,
    );
    const unanswered = await bus.nc
      .request(`${subject}.nobody`, 'x', { timeout: 2_000 })
      .catch((e: unknown) => e);
    expect(unanswered).toBeInstanceOf(errors.RequestError);
    expect((unanswered as Error).cause).toBeInstanceOf(errors.NoRespondersError);
  });

  it('still rejects a request left waiting when its connection closes', async () => {
    const other = await JetStreamBus.connect({ natsUrl: testEnv.natsUrl(), name: 'answer-cost-closing' });
    const waiting = other.nc.request(subject, 'silent', { timeout: 30_000 });
    await other.nc.close();
    await expect(waiting).rejects.toThrow();
  });
});
