/** Sends the e-mail confirmation mails over SMTP (nodemailer; server from PARLEY_SMTP_URL). */
import nodemailer, { type Transporter } from 'nodemailer';
import { logger } from '@parley/observability';

export interface ConfirmationMail {
  to: string;
  displayName: string;
  token: string;
  purpose: 'register' | 'email-change';
  expiresAt: Date;
}

export class ConfirmationMailer {
  private readonly transport: Transporter;

  constructor(
    smtpUrl: string,
    private readonly from: string,
    /** Where owners reach the console; the mail links to its confirmation page. */
    private readonly publicUrl: string,
  ) {
    this.transport = nodemailer.createTransport(smtpUrl);
  }

  /** Throws when the SMTP server does not accept the mail (the caller rolls back). */
  async send(mail: ConfirmationMail): Promise<void> {
    const intro =
      mail.purpose === 'register'
        ? 'Welcome to Parley. Please confirm your e-mail address to finish your registration.'
        : 'You asked to use this address for your Parley account. Please confirm it.';
    // The token sits alone on its own line: mail clients and tests can pick it out reliably.
    const text = [
      `Hello ${mail.displayName},`,
      '',
      intro,
      '',
      'Your confirmation token:',
      '',
      mail.token,
      '',
      'Confirm it by opening this link:',
      '',
      `${this.publicUrl.replace(/\/+$/, '')}/confirm?token=${encodeURIComponent(mail.token)}`,
      '',
      '(or with the API: POST /api/v1/auth/confirm {"token": "<the token>"}).',
      `It can be used once, until ${mail.expiresAt.toISOString()}.`,
      '',
      'If you did not ask for this, ignore this mail.',
    ].join('\n');
    const info = await this.transport.sendMail({
      from: this.from,
      to: mail.to,
      subject:
        mail.purpose === 'register' ? 'Confirm your Parley account' : 'Confirm your new e-mail address',
      text,
    });
    logger().info({ messageId: info.messageId, purpose: mail.purpose }, 'confirmation mail sent');
  }

  close(): void {
    this.transport.close();
  }
}
