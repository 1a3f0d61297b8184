/**
 * Kubernetes manifests: every kustomize overlay renders, every object is valid against the
 * Kubernetes API schemas (offline, kubernetes-models) or, for KEDA, against its ScaledObject shape,
 * and the manifests agree with the code: a Deployment, Service and PDB per service folder, probes
 * on the health endpoints, references that resolve, KEDA triggers on real streams and consumers.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { Ajv } from 'ajv';
import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { INBOUND_PARTITIONS, consumers, inboundPartitions, streamName } from '@parley/contracts';
import { repoRoot } from './helpers.js';

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered YAML, checked field by field below
  spec?: any;
  data?: Record<string, string>;
}

const OVERLAYS = ['dev', 'prod'];
const serviceFolders = readdirSync(path.join(repoRoot, 'services'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

/** `kubectl kustomize` (Debian's kubernetes-client in CI; any kubectl ≥ 1.20 works). */
function render(overlay: string): K8sObject[] {
  const kubectl = process.env.PARLEY_KUBECTL ?? 'kubectl';
  let text: string;
  try {
    text = execFileSync(kubectl, ['kustomize', path.join(repoRoot, 'deploy/k8s/overlays', overlay)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const err = error as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') {
      throw new Error('kubectl is needed to render the overlays: `apt-get install kubernetes-client`', {
        cause: error,
      });
    }
    throw new Error(`kubectl kustomize overlays/${overlay} failed: ${err.stderr ?? err.message}`, {
      cause: error,
    });
  }
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as K8sObject)
    .filter(Boolean);
}

/** Validates with the model class of its apiVersion/kind from kubernetes-models (throws on errors). */
async function validateBuiltIn(object: K8sObject): Promise<void> {
  const module = (await import(
    /* @vite-ignore */ `kubernetes-models/${object.apiVersion}/${object.kind}`
  )) as Record<string, new (data: unknown) => { validate(): void }>;
  const Model = module[object.kind];
  if (!Model) throw new Error(`kubernetes-models has no ${object.apiVersion} ${object.kind}`);
  new Model(object).validate();
}

/** The part of KEDA's ScaledObject CRD (keda.sh/v1alpha1) these manifests use, strictly. */
const scaledObjectSchema = {
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { const: 'keda.sh/v1alpha1' },
    kind: { const: 'ScaledObject' },
    metadata: { type: 'object', required: ['name'] },
    spec: {
      type: 'object',
      additionalProperties: false,
      required: ['scaleTargetRef', 'triggers'],
      properties: {
        scaleTargetRef: {
          type: 'object',
          additionalProperties: false,
          required: ['name'],
          properties: { name: { type: 'string' }, kind: { type: 'string' }, apiVersion: { type: 'string' } },
        },
        minReplicaCount: { type: 'integer', minimum: 0 },
        maxReplicaCount: { type: 'integer', minimum: 1 },
        pollingInterval: { type: 'integer', minimum: 1 },
        cooldownPeriod: { type: 'integer', minimum: 0 },
        triggers: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            required: ['type', 'metadata'],
            properties: {
              type: { const: 'nats-jetstream' },
              metadata: {
                type: 'object',
                additionalProperties: { type: 'string' },
                required: ['natsServerMonitoringEndpoint', 'account', 'stream', 'consumer', 'lagThreshold'],
              },
            },
          },
        },
      },
    },
  },
};
const validateScaledObject = new Ajv({ allErrors: true, strict: false }).compile(scaledObjectSchema);

const rendered = Object.fromEntries(OVERLAYS.map((overlay) => [overlay, render(overlay)]));
const find = (objects: K8sObject[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);

describe.each(OVERLAYS)('deploy/k8s/overlays/%s', (overlay) => {
  const objects = rendered[overlay]!;

  it('renders objects that are valid against the Kubernetes API schemas', async () => {
    expect(objects.length).toBeGreaterThan(0);
    for (const object of objects) {
      const where = `${object.kind}/${object.metadata?.name}`;
      if (object.apiVersion === 'keda.sh/v1alpha1') {
        expect(validateScaledObject(object), `${where}: ${JSON.stringify(validateScaledObject.errors)}`).toBe(
          true,
        );
      } else {
        await expect(validateBuiltIn(object), where).resolves.toBeUndefined();
      }
      expect(object.metadata.namespace, `${where} namespace`).toBe(
        overlay === 'prod' ? 'parley' : 'parley-dev',
      );
    }
  });

  it.each(serviceFolders)(
    'has a Deployment, Service and PodDisruptionBudget for %s, probing its health endpoints',
    (service) => {
      const deployment = find(objects, 'Deployment', service);
      expect(deployment, `Deployment ${service}`).toBeDefined();
      expect(find(objects, 'Service', service), `Service ${service}`).toBeDefined();
      expect(find(objects, 'PodDisruptionBudget', service), `PDB ${service}`).toBeDefined();
      const pod = deployment!.spec.template.spec;
      const container = pod.containers[0];
      expect(container.image).toMatch(new RegExp(`/?parley/${service}:`));
      expect(container.startupProbe.httpGet.path).toBe('/health/live');
      expect(container.livenessProbe.httpGet.path).toBe('/health/live');
      expect(container.readinessProbe.httpGet.path).toBe('/health/ready');
      expect(container.resources.requests).toBeDefined();
      expect(container.resources.limits.memory).toBeDefined();
      expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
      expect(pod.securityContext.runAsNonRoot).toBe(true);
    },
  );

  it('rolls gateway-xmpp out with a surge: the new pod stands by, ready, while the old one keeps the component', () => {
    // One component connection per domain: a new pod is refused it until the old one is stopped. Its
    // readiness counts "standing by" (XmppComponentHealthIndicator), so a surge rollout proceeds and
    // the hand-over is one knock (≈ 1 s); Recreate would add a whole pod start to the outage.
    const deployment = find(objects, 'Deployment', 'gateway-xmpp')!;
    expect(deployment.spec.strategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
    });
    const container = deployment.spec.template.spec.containers[0];
    expect(container.readinessProbe.httpGet.path).toBe('/health/ready');
    expect(container.livenessProbe.httpGet.path).toBe('/health/live');
    expect(find(objects, 'PodDisruptionBudget', 'gateway-xmpp')!.spec.maxUnavailable).toBe(1);
    if (overlay === 'prod') {
      // An active pod and a standby, whatever the lag: KEDA must not take the standby away.
      expect(deployment.spec.replicas).toBe(2);
      const scaler = find(objects, 'ScaledObject', 'gateway-xmpp')!;
      expect([scaler.spec.minReplicaCount, scaler.spec.maxReplicaCount]).toEqual([2, 2]);
    }
  });

  it('resolves every ConfigMap and Secret reference (dev generates its Secrets; prod expects them created)', () => {
    for (const deployment of objects.filter((o) => o.kind === 'Deployment')) {
      const container = deployment.spec.template.spec.containers[0];
      for (const source of container.envFrom ?? []) {
        expect(find(objects, 'ConfigMap', source.configMapRef.name)).toBeDefined();
      }
      for (const variable of container.env ?? []) {
        const ref = variable.valueFrom?.secretKeyRef;
        if (!ref) continue;
        expect(['parley-secrets', 'parley-nats', 'parley-database']).toContain(ref.name);
        const secret = find(objects, 'Secret', ref.name);
        if (overlay === 'prod') {
          expect(secret, 'prod must not carry secret values').toBeUndefined();
        } else if (!ref.optional) {
          expect(
            secret?.data?.[ref.key],
            `${deployment.metadata.name}: ${ref.name}/${ref.key}`,
          ).toBeDefined();
        }
      }
    }
  });

  it('scales api-gateway with an HPA and points every autoscaler at an existing Deployment', () => {
    const hpa = find(objects, 'HorizontalPodAutoscaler', 'api-gateway');
    expect(hpa?.spec.scaleTargetRef.name).toBe('api-gateway');
    for (const scaler of objects.filter(
      (o) => o.kind === 'ScaledObject' || o.kind === 'HorizontalPodAutoscaler',
    )) {
      expect(find(objects, 'Deployment', scaler.spec.scaleTargetRef.name)).toBeDefined();
    }
  });

  it('restricts traffic with NetworkPolicies (default deny, then NATS, PostgreSQL, IM servers)', () => {
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
    const deny = policies.find((p) => p.metadata.name === 'parley-default-deny');
    expect(deny?.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    const egressPorts = (name: string) =>
      policies
        .filter((p) => p.metadata.name === name)
        .flatMap((p) => p.spec.egress.flatMap((rule: { ports: Array<{ port: number }> }) => rule.ports))
        .map((p: { port: number }) => p.port);
    expect(egressPorts('parley-egress-dns-and-nats')).toContain(4222);
    expect(egressPorts('parley-egress-postgresql')).toEqual([5432]);
    // The component port, and owners' XMPP servers for contact import.
    expect(egressPorts('gateway-xmpp-egress-xmpp-server')).toEqual([5347, 5222, 5223]);
    expect(egressPorts('gateway-irc-egress-irc-servers')).toContain(6697);
  });
});

describe('KEDA scaling in production', () => {
  const expected: Record<string, { stream: string; consumer: string }> = {
    archive: { stream: 'CONF_EVENTS', consumer: consumers.archiveEvents },
    'gateway-xmpp': { stream: 'IM_OUTBOUND', consumer: consumers.gatewayOutbound('xmpp') },
  };
  it.each(Object.keys(expected))('scales %s on the lag of its JetStream consumer', (service) => {
    const scaler = find(rendered.prod!, 'ScaledObject', service);
    const trigger = scaler?.spec.triggers[0].metadata;
    expect(trigger?.stream).toBe(streamName(expected[service]!.stream, 'parley'));
    expect(trigger?.consumer).toBe(expected[service]!.consumer);
    expect(trigger?.account).toBe('PARLEY');
  });

  it('scales gateway-irc on the lag of every IM_OUTBOUND partition of IRC, from 2 replicas up to one per partition', () => {
    const scaler = find(rendered.prod!, 'ScaledObject', 'gateway-irc');
    const triggers = scaler?.spec.triggers.map(
      (t: { metadata: { stream: string; consumer: string } }) => t.metadata,
    );
    expect(triggers.map((t: { consumer: string }) => t.consumer)).toEqual(
      inboundPartitions().map((p) => consumers.gatewayOutboundPartition('irc', p)),
    );
    expect(new Set(triggers.map((t: { stream: string }) => t.stream))).toEqual(
      new Set([streamName('IM_OUTBOUND', 'parley')]),
    );
    expect(scaler?.spec.minReplicaCount).toBe(2);
    expect(scaler?.spec.maxReplicaCount).toBe(INBOUND_PARTITIONS);
  });

  it('scales conference-core on the lag of every IM_INBOUND partition, up to one replica per partition', () => {
    const scaler = find(rendered.prod!, 'ScaledObject', 'conference-core');
    const triggers = scaler?.spec.triggers.map(
      (t: { metadata: { stream: string; consumer: string } }) => t.metadata,
    );
    expect(triggers.map((t: { consumer: string }) => t.consumer)).toEqual(
      inboundPartitions().map((p) => consumers.conferenceCoreInboundPartition(p)),
    );
    expect(new Set(triggers.map((t: { stream: string }) => t.stream))).toEqual(
      new Set([streamName('IM_INBOUND', 'parley')]),
    );
    expect(scaler?.spec.maxReplicaCount).toBe(INBOUND_PARTITIONS);
  });
});

describe('deploy/k8s/overlays/dev configuration', () => {
  const objects = rendered.dev!;
  it.each(serviceFolders)(
    'gives %s a valid configuration from its ConfigMap and Secrets',
    async (service) => {
      const container = find(objects, 'Deployment', service)!.spec.template.spec.containers[0];
      const env: NodeJS.ProcessEnv = {};
      for (const source of container.envFrom ?? []) {
        Object.assign(env, find(objects, 'ConfigMap', source.configMapRef.name)?.data);
      }
      for (const variable of container.env ?? []) {
        const ref = variable.valueFrom?.secretKeyRef;
        const encoded = ref ? find(objects, 'Secret', ref.name)?.data?.[ref.key] : undefined;
        if (variable.value !== undefined) env[variable.name] = variable.value;
        else if (encoded !== undefined) env[variable.name] = Buffer.from(encoded, 'base64').toString('utf8');
      }
      const module = (await import(
        pathToFileURL(path.join(repoRoot, `services/${service}/dist/config.js`)).href
      )) as {
        loadServiceConfig: (env: NodeJS.ProcessEnv) => Record<string, unknown>;
      };
      expect(module.loadServiceConfig(env).PARLEY_HTTP_PORT).toBe(8080);
    },
  );
});

describe('deploy/k8s/dependencies (NATS and PostgreSQL from their official charts)', () => {
  const values = (name: string) =>
    parse(readFileSync(path.join(repoRoot, 'deploy/k8s/dependencies', name), 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- chart values

  it('runs NATS as a JetStream cluster with the generated Parley accounts and the monitoring port KEDA reads', () => {
    const nats = values('nats.values.yaml');
    expect(nats.config.cluster).toMatchObject({ enabled: true, replicas: 3 });
    expect(nats.config.jetstream.enabled).toBe(true);
    expect(nats.config.monitor).toMatchObject({ enabled: true, port: 8222 });
    expect(nats.config.merge.$include).toMatch(/accounts\.conf$/);
    expect(JSON.stringify(nats)).toContain('parley-nats-passwords');
    const keda = readFileSync(path.join(repoRoot, 'deploy/k8s/keda/scaled-objects.yaml'), 'utf8');
    expect(keda).toContain(':8222');
  });

  it('runs PostgreSQL with CloudNativePG: replicated, with backups, under the name the NetworkPolicy expects', () => {
    const postgres = values('postgresql.values.yaml');
    expect(postgres.cluster.instances).toBeGreaterThanOrEqual(3);
    expect(postgres.backups.enabled).toBe(true);
    const policy = rendered.prod!.find((o) => o.metadata.name === 'parley-egress-postgresql');
    expect(policy?.spec.egress[0].to[0].podSelector.matchLabels['cnpg.io/cluster']).toBe('parley-db');
  });
});
