/**
 * A real SMTP listener for tests (the `smtp-server` package on 127.0.0.1, random port) that keeps
 * every mail it receives, parsed just enough to read recipients, subject and text body.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { waitFor } from './wait.js';

export interface ReceivedMail {
  /** SMTP envelope recipients (RCPT TO), lower-cased. */
  to: string[];
  from: string;
  headers: Map<string, string>;
  subject: string;
  /** The decoded text/plain body. */
  text: string;
  raw: string;
}

/** Header block and body of an RFC 5322 message; the body decoded from its transfer encoding. */
export function parseMail(raw: string): Pick<ReceivedMail, 'headers' | 'subject' | 'text'> {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const body = raw.slice(split + 4);
  const headers = new Map<string, string>();
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const encoding = headers.get('content-transfer-encoding')?.toLowerCase();
  let text = body;
  if (encoding === 'quoted-printable') {
    const bytes = body
      .replace(/=\r\n/g, '')
      .replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    text = Buffer.from(bytes, 'latin1').toString('utf8');
  } else if (encoding === 'base64') {
    text = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  }
  return { headers, subject: headers.get('subject') ?? '', text: text.replace(/\r\n/g, '\n') };
}

export class TestMailbox {
  private constructor(
    private readonly server: SMTPServer,
    readonly port: number,
    /** Every mail received, oldest first. */
    readonly mails: ReceivedMail[],
  ) {}

  static async start(): Promise<TestMailbox> {
    const mails: ReceivedMail[] = [];
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          mails.push({
            to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            raw,
            ...parseMail(raw),
          });
          callback();
        });
      },
    });
    const port = await new Promise<number>((resolve, reject) => {
      server.on('error', reject);
      const listening = server.listen(0, '127.0.0.1', () =>
        resolve((listening.address() as AddressInfo).port),
      );
    });
    return new TestMailbox(server, port, mails);
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  /**
   * The newest mail to `address` (received after `afterCount` mails in total), waiting for it
   * `timeoutMs` at the most.
   */
  async mailTo(address: string, afterCount = 0, timeoutMs?: number): Promise<ReceivedMail> {
    return waitFor(
      `a mail to ${address}`,
      () =>
        this.mails
          .slice(afterCount)
          .filter((m) => m.to.includes(address.toLowerCase()))
          .at(-1),
      timeoutMs,
    );
  }

  /** The confirmation token in a mail: alone on its line, 43 base64url characters. */
  static tokenIn(mail: ReceivedMail): string {
    const match = /^([A-Za-z0-9_-]{43})$/m.exec(mail.text);
    if (!match) throw new Error(`no confirmation token in the mail:\n${mail.text}`);
    return match[1]!;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
