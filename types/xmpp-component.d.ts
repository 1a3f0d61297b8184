/** The parts of @xmpp/component 0.13 (CJS, no types published, no @types package) that Parley uses. */
declare module '@xmpp/component' {
  import { EventEmitter } from 'node:events';
  import type { Element } from '@xmpp/xml';
  import type xmlFactory from '@xmpp/xml';

  export interface IncomingContext {
    stanza: Element;
    /** The single child of an iq get/set. */
    element: Element;
    id: string;
    type: string;
    name: string;
  }

  /** Returns the iq result's child, `true` (an empty result), an `<error/>` element, or nothing (service-unavailable). */
  export type IqHandler = (
    ctx: IncomingContext,
    next: () => Promise<unknown>,
  ) => Promise<Element | true | undefined> | Element | true | undefined;

  export interface Component extends EventEmitter {
    /** 'online' once the handshake succeeded; 'offline', 'connecting', 'disconnect', … otherwise. */
    status: string;
    /** The TCP socket of the component link while connected (a net.Socket), else null. */
    socket: import('node:net').Socket | null;
    start(): Promise<unknown>;
    stop(): Promise<void>;
    send(element: Element): Promise<void>;
    iqCallee: {
      get(ns: string, name: string, handler: IqHandler): void;
      set(ns: string, name: string, handler: IqHandler): void;
    };
    reconnect: { delay: number; start(): void; stop(): void };
  }

  export function component(options: { service: string; domain: string; password: string }): Component;
  export const xml: typeof xmlFactory;
}
