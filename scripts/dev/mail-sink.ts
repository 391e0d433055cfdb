import type { AddressInfo } from "node:net";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";

/** One message the sink received, as parsed. */
export interface SunkMail {
  to: string[];
  from: string;
  subject: string;
  text: string;
  receivedAt: Date;
}

export interface MailSink {
  /** `smtp://127.0.0.1:<port>`: what SMTP_URL is set to. */
  url: string;
  /** Received so far, oldest first (the last 200 kept). */
  messages(): SunkMail[];
  /** The first message to `address` received after `since` messages, within `timeoutMs`. */
  next(address: string, opts?: { after?: number; timeoutMs?: number }): Promise<SunkMail>;
  /** Holds each message this long before accepting it (a slow mail server), from now on. */
  slowDown(ms: number): void;
  close(): Promise<void>;
}

/**
 * A local SMTP server that keeps what it is sent and delivers nothing: the dev stack's outgoing mail, shown on its
 * `/dev/mail` page, and the tests' inbox. It listens on 127.0.0.1 only, without TLS or authentication.
 */
export async function startMailSink(port = 0): Promise<MailSink> {
  const received: SunkMail[] = [];
  const waiters = new Set<() => void>();
  let acceptDelayMs = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    banner: "Hallmark development mail sink",
    onData(stream, session, callback) {
      simpleParser(stream)
        .then(async (mail) => {
          if (acceptDelayMs) await new Promise((r) => setTimeout(r, acceptDelayMs));
          received.push({
            to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
            from: typeof session.envelope.mailFrom === "object" && session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
            subject: mail.subject ?? "",
            text: mail.text ?? "",
            receivedAt: new Date(),
          });
          if (received.length > 200) received.shift();
          for (const wake of waiters) wake();
          callback();
        })
        .catch((err: Error) => callback(err));
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const { port: bound } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${bound}`,
    messages: () => [...received],
    slowDown(ms) {
      acceptDelayMs = ms;
    },
    async next(address, opts = {}) {
      const after = opts.after ?? 0;
      const wanted = address.toLowerCase();
      const find = () => received.slice(after).find((m) => m.to.includes(wanted));
      const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
      for (;;) {
        const found = find();
        if (found) return found;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no mail to ${address} arrived within ${opts.timeoutMs ?? 10_000} ms`);
        await new Promise<void>((resolve) => {
          const wake = () => {
            waiters.delete(wake);
            clearTimeout(timer);
            resolve();
          };
          const timer = setTimeout(wake, Math.min(left, 250));
          waiters.add(wake);
        });
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
