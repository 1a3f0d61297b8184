/** Retries a start-up step (connecting to NATS or PostgreSQL) with backoff, logging each failure. */
import { logger } from './logger.js';

/** Attempts before a start-up step gives up: PARLEY_STARTUP_ATTEMPTS, default 10 (≈ 30 s in all). */
function defaultAttempts(): number {
  const configured = Number(process.env.PARLEY_STARTUP_ATTEMPTS);
  return Number.isInteger(configured) && configured > 0 ? configured : 10;
}

export async function retry<T>(
  what: string,
  fn: () => Promise<T>,
  attempts = defaultAttempts(),
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
