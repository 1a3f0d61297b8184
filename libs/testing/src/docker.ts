/** Testcontainers is optional: used only when a Docker engine answers (never on the CI machine here). */
export async function isDockerAvailable(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

/** Starts PostgreSQL and NATS (JetStream) containers; returns their URLs and a stop function. */
export async function startContainers(): Promise<{
  databaseUrl: string;
  natsUrl: string;
  stop: () => Promise<void>;
}> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const postgres = await new GenericContainer('postgres:15-alpine')
    .withEnvironment({ POSTGRES_USER: 'parley', POSTGRES_PASSWORD: 'parley', POSTGRES_DB: 'parley' })
    .withExposedPorts(5432)
    .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
    .start();
  const nats = await new GenericContainer('nats:2.10-alpine')
    .withCommand(['-js'])
    .withExposedPorts(4222)
    .start();
  return {
    databaseUrl: `postgres://parley:parley@${postgres.getHost()}:${postgres.getMappedPort(5432)}/parley`,
    natsUrl: `nats://${nats.getHost()}:${nats.getMappedPort(4222)}`,
    stop: async () => {
      await Promise.all([postgres.stop(), nats.stop()]);
    },
  };
}
