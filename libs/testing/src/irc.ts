/** Real IRC users for tests: an irc-framework client on the local ngircd that records what it receives. */
import { randomBytes } from 'node:crypto';
import IRC from 'irc-framework';
import { testEnv } from './env.js';
import { waitFor } from './wait.js';

export interface IrcPrivateMessage {
  from: string;
  target: string;
  text: string;
  type: string;
}

export class IrcTestClient {
  readonly received: IrcPrivateMessage[] = [];

  private constructor(
    readonly nick: string,
    readonly irc: IRC.Client,
  ) {}

  /**
   * Connects and registers with a fresh nick (`name` plus a random suffix, within 16 characters),
   * or exactly `options.nick`; to the test ngircd, or another on `options.port`.
   */
  static async connect(
    name = 'user',
    options: { port?: number; nick?: string } = {},
  ): Promise<IrcTestClient> {
    const { host } = testEnv.irc();
    const port = options.port ?? testEnv.irc().port;
    const nick = options.nick ?? `${name.slice(0, 10)}${randomBytes(2).toString('hex')}`;
    const irc = new IRC.Client();
    const wrapper = new IrcTestClient(nick, irc);
    irc.on('message', (event: { nick: string; target: string; message: string; type: string }) => {
      wrapper.received.push({
        from: event.nick,
        target: event.target,
        text: event.message,
        type: event.type,
      });
    });
    const registered = new Promise<void>((resolve, reject) => {
      irc.once('registered', () => resolve());
      irc.once('close', () => reject(new Error(`IRC connection for ${nick} closed before registration`)));
    });
    irc.connect({ host, port, nick, username: nick, gecos: `test ${nick}`, auto_reconnect: false });
    await registered;
    return wrapper;
  }

  say(target: string, text: string): void {
    this.irc.say(target, text);
  }

  messagesFrom(from: string): string[] {
    return this.received.filter((m) => m.from.toLowerCase() === from.toLowerCase()).map((m) => m.text);
  }

  waitForMessage(from: string, text: string | RegExp, timeoutMs = 10_000): Promise<string> {
    const matches = (t: string) => (typeof text === 'string' ? t === text : text.test(t));
    return waitFor(
      `${this.nick} to receive ${String(text)} from ${from}`,
      () => this.messagesFrom(from).find(matches),
      timeoutMs,
    );
  }

  async quit(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.irc.once('close', () => resolve());
      this.irc.quit('bye');
      setTimeout(resolve, 1_000);
    });
  }
}

export function randomNick(prefix: string): string {
  return `${prefix}${randomBytes(2).toString('hex')}`;
}
