/**
 * Writes made to a network connection in one turn of the event loop leave in one system call, for
 * the adapters of gateway-xmpp (stanzas) and gateway-irc (a bot's lines and PING). A fan-out starts
 * all its recipients' sends together, and each socket write is a system call that wakes the
 * receiving process: the largest item of the gateways' CPU profiles (docs/performance.md). The
 * socket is corked until the loop's check phase, so a write waits for the rest of this turn at most.
 *
 * A write that must be recorded the moment the kernel has it (NetworkAdapter.deliver's onWritten:
 * a gateway killed between the write and its record sent the delivery again from its next process)
 * registers a callback; it runs right after the uncork's system call when the kernel took
 * everything then. Otherwise (the kernel's buffer was full, or the socket is gone) it does not run,
 * and the adapter relies on its later signal (the send's promise, IRC's PONG). One write also means
 * a kill lands before or after all of a turn's deliveries, never between two of them.
 */
import type { Socket } from 'node:net';

export class TurnWrites {
  /** The socket corked until the end of this turn, and the callbacks waiting for its uncork. */
  private corked: Socket | undefined;
  private onUncorked: Array<() => void> = [];

  /** Corks `socket` for the rest of this turn (once per turn). */
  cork(socket: Socket): void {
    if (this.corked === socket) return;
    this.corked = socket;
    socket.cork();
    setImmediate(() => {
      this.corked = undefined;
      const written = this.onUncorked.splice(0);
      socket.uncork();
      if (socket.writableLength > 0 || socket.destroyed) return;
      for (const onWritten of written) onWritten();
    });
  }

  /** Whether `socket` is corked for this turn (what is written to it now leaves at the uncork). */
  isCorked(socket: Socket): boolean {
    return this.corked === socket;
  }

  /** Runs `onWritten` right after this turn's uncork, if the kernel took everything then. */
  afterUncork(onWritten: () => void): void {
    this.onUncorked.push(onWritten);
  }
}
