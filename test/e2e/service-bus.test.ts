import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { RpcClient } from '@parley/bus';
import { pingRpc } from '@parley/contracts';

import { serviceTestEnv, startTestService } from '@parley/testing';
import { AppModule as AccountsModule } from '../../services/accounts/src/app.module.js';
import { loadServiceConfig as loadAccountsConfig } from '../../services/accounts/src/config.js';
import { AppModule as ConferenceCoreModule } from '../../services/conference-core/src/app.module.js';
import { loadServiceConfig as loadConferenceCoreConfig } from '../../services/conference-core/src/config.js';

describe('two services over the real bus', () => {
  let accounts: NestFastifyApplication;
  let conferenceCore: NestFastifyApplication;

  beforeAll(async () => {
    const accountsConfig = loadAccountsConfig(
      serviceTestEnv('accounts', {
        PARLEY_JWT_SECRET: randomBytes(32).toString('base64'),
        PARLEY_SECRETS_KEY: randomBytes(32).toString('base64'),
        PARLEY_SECRETS_KEY_ID: 'k1',
      }),
    );

    accounts = await startTestService('accounts', AccountsModule.forRoot(accountsConfig));
    const coreConfig = loadConferenceCoreConfig(serviceTestEnv('conference-core'));
    conferenceCore = await startTestService('conference-core', ConferenceCoreModule.forRoot(coreConfig));
  });

  afterAll(async () => {
    await conferenceCore?.close();
    await accounts?.close();
  });

  it('answers a request from one service to another over NATS', async () => {
    const rpc = conferenceCore.get(RpcClient);
    const reply = await rpc.call(pingRpc('accounts'), { from: 'conference-core' });
    expect(reply.service).toBe('accounts');
    expect(reply.pid).toBe(process.pid);
  });

  it('answers a malformed request with a validation error instead of crashing', async () => {
    const rpc = conferenceCore.get(RpcClient);
    await expect(rpc.call(pingRpc('accounts'), { from: 42 } as never)).rejects.toMatchObject({
      code: 'validation-failed',
      field: 'from',
    });
    const reply = await rpc.call(pingRpc('accounts'), { from: 'after the bad one' });
    expect(reply.service).toBe('accounts');
  });

  it('reports live, ready (NATS and PostgreSQL answer) and Prometheus metrics', async () => {
    const base = await accounts.getUrl();
    expect((await fetch(`${base}/health/live`)).status).toBe(200);
    const ready = await fetch(`${base}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ok',
      checks: [
        { name: 'BusHealthIndicator', ok: true },
        { name: 'DatabaseHealthIndicator', ok: true },
      ],
    });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('process_cpu_user_seconds_total');
    expect(metrics).toContain('parley_rpc_handler_seconds_count{subject=');
  });
});
