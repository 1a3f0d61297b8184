/**
 * Reads what this process logs, for tests that run Parley services in-process: every line of
 * every service started in this process, at the given level, instead of stdout.
 */
import { redirectLogs } from './logger.js';

export interface CapturedLogs {
  /** Every line so far (JSON, as a log shipper would receive it). */
  lines(): string[];
  /** All of it as one text, to search for what must not be there. */
  text(): string;
  /** Back to stdout at PARLEY_LOG_LEVEL. */
  stop(): void;
}

export function captureLogs(level = 'debug'): CapturedLogs {
  const lines: string[] = [];
  redirectLogs({ write: (line: string) => void lines.push(line) }, level);
  return {
    lines: () => [...lines],
    text: () => lines.join(''),
    stop: () => redirectLogs(undefined),
  };
}
