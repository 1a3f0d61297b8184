/** Retries a start-up step (connecting to NATS or PostgreSQL) with backoff, logging each failure. */
import { logger } from './logger.js';

export async function retry<T>(
  what: string,
  fn: () => Promise<T>,
  attempts = 10,
  firstDelayMs = 250,
): Promise<T> {
  let delay = firstDelayMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= attempts) {
        throw new Error(`${what}: still failing after ${attempts} attempts: ${(error as Error).message}`, {
          cause: error,
        });
      }
      logger().warn({ attempt, err: (error as Error).message }, `${what} failed; retrying in ${delay} ms`);
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 5_000);
    }
  }
}
