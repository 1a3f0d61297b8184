/**
 * One allocation less per NATS request (every JetStream publish and KV write is one).
 *
 * nats.js 3.4 settles a request in `RequestOne.resolver()`, which then calls `cancel()` to clean up;
 * `cancel()` always rejects the request's promise with a new `RequestError("cancelled")` — a no-op
 * on a promise already settled, but the error and its stack are built every time. The profile of
 * the benchmark's hot path showed that constructor at 3–4 % of conference-core's and gateway-xmpp's
 * busy time (docs/performance.md). Here a request that was answered is cleaned up without building
 * the error; one still waiting (timed out, connection closed) is cancelled exactly as before.
 * Installed once per process when the bus is loaded; checked by libs/bus/test/request-answer-cost.test.ts.
 */
import { RequestOne } from '@nats-io/nats-core/internal';

const answered = Symbol('answered');

interface PatchableRequest {
  [answered]?: boolean;
  timer?: { cancel(): void };
  mux: { cancel(request: unknown): void };
  resolver(err: Error | null, msg: unknown): void;
  cancel(err?: Error): void;
}

let installed = false;

export function skipErrorAfterAnswer(): void {
  if (installed) return;
  installed = true;
  const proto = RequestOne.prototype as unknown as PatchableRequest;
  const resolver = proto.resolver;
  const cancel = proto.cancel;
  proto.resolver = function (this: PatchableRequest, err, msg) {
    this[answered] = true;
    resolver.call(this, err, msg);
  };
  proto.cancel = function (this: PatchableRequest, err) {
    if (err !== undefined || !this[answered]) {
      cancel.call(this, err);
      return;
    }
    // What the original does, minus rejecting the settled promise with a new error.
    this.timer?.cancel();
    this.mux.cancel(this);
  };
}
