import nodemailer from "nodemailer";

/** One e-mail: a plain-text body, and an HTML one for clients that show it. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
}

/** Sends e-mail; behind this interface so tests and the dev stack hand in their own SMTP server's URL. */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
  close(): void;
}

/** A mailer over SMTP (`smtp://user:pass@host:587`, `smtps://…:465`), through nodemailer: a connection per message. */
export function smtpMailer(url: string, from: string): Mailer {
  const transport = nodemailer.createTransport(url, { from });
  return {
    async send(message) {
      await transport.sendMail({ from, ...message });
    },
    close() {
      transport.close();
    },
  };
}
