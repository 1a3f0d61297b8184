/** Waiting for events instead of sleeping: each wait names what it waited for when it times out. */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | null | Promise<T | undefined | false | null>,
  timeoutMs = 10_000,
  intervalMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false && value !== null) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}` +
          (lastError ? ` (last error: ${(lastError as Error).message})` : ''),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Resolves when an async predicate has stayed true... or throws; for asserting that nothing arrives. */
export async function stillTrueAfter(what: string, probe: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!probe()) throw new Error(`expected ${what} to hold for ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
