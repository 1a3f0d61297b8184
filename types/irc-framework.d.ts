/** The parts of irc-framework (CJS, no types published) that Parley uses. */
declare module 'irc-framework' {
  import { EventEmitter } from 'node:events';
  namespace IRC {
    interface ConnectOptions {
      host: string;
      port: number;
      nick: string;
      username?: string;
      gecos?: string;
      tls?: boolean;
      auto_reconnect?: boolean;
      auto_reconnect_max_wait?: number;
      auto_reconnect_max_retries?: number;
      ping_interval?: number;
      ping_timeout?: number;
      encoding?: string;
      /** say()/notice() re-split text longer than this many bytes (default 350). */
      message_max_length?: number;
      /** Server password (PASS). */
      password?: string;
    }
    class Client extends EventEmitter {
      constructor(options?: Partial<ConnectOptions>);
      user: { nick: string; username: string; gecos: string; away: boolean };
      network: {
        name: string;
        options: Record<string, string | string[] | undefined>;
        supports(key: string): unknown;
      };
      connected: boolean;
      connect(options?: Partial<ConnectOptions>): void;
      quit(message?: string): void;
      say(target: string, message: string): void;
      notice(target: string, message: string): void;
      raw(...args: string[]): void;
      changeNick(nick: string): void;
      ping(message?: string): void;
      addMonitor(target: string): void;
      removeMonitor(target: string): void;
      whois(nick: string, cb?: (event: Record<string, unknown>) => void): void;
    }
  }
  const IRC: { Client: typeof IRC.Client };
  export default IRC;
  export = IRC;
}
