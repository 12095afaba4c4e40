import type nodemailer from "nodemailer";
import { type Config, mailDir } from "../config.ts";
import type { Logger } from "./logger.ts";

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

/** Sends mail by the configured transport: `file` (one .eml per message), `smtp` or `log`. */
export interface Mailer {
  readonly transport: "file" | "smtp" | "log";
  send(message: MailMessage): Promise<void>;
}

/**
 * nodemailer is loaded with the first message, not at start: it is the largest package the API
 * imports (about 100 ms of a start and 15 MiB of memory), and most instances send little mail.
 */
function lazily<T>(make: (mailer: typeof nodemailer) => T): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => made ??= import("nodemailer").then((m) => make(m.default));
}

export function createMailer(config: Config, logger: Logger): Mailer {
  switch (config.MAIL_TRANSPORT) {
    case "file":
      return fileMailer(config.MAIL_FROM, mailDir(config));
    case "log":
      return logMailer(logger);
    case "smtp":
      return smtpMailer(config);
  }
}

/** Writes each message, fully formatted (RFC 5322), to `<dir>/<time>-<id>.eml`. */
export function fileMailer(from: string, dir: string): Mailer {
  const builder = lazily((m) => m.createTransport({ streamTransport: true, buffer: true, newline: "unix" }));
  return {
    transport: "file",
    async send(message) {
      const info = await (await builder()).sendMail({ from, ...message });
      await Deno.mkdir(dir, { recursive: true });
      const name = `${new Date().toISOString().replaceAll(":", "-")}-${crypto.randomUUID()}.eml`;
      await Deno.writeFile(`${dir}/${name}`, info.message as Uint8Array, { mode: 0o600 });
    },
  };
}

/** Logs only that a message went out and to whom: never the body (it may hold a reset link). */
function logMailer(logger: Logger): Mailer {
  return {
    transport: "log",
    send(message) {
      logger.info("mail sent", { transport: "log", to: message.to, subject: message.subject });
      return Promise.resolve();
    },
  };
}

function smtpMailer(config: Config): Mailer {
  const transport = lazily((m) =>
    m.createTransport({
      host: config.SMTP_HOST,
      port: config.SMTP_PORT,
      secure: config.SMTP_SECURITY === "tls",
      requireTLS: config.SMTP_SECURITY === "starttls",
      ignoreTLS: config.SMTP_SECURITY === "none",
      auth: config.SMTP_USER ? { user: config.SMTP_USER, pass: config.SMTP_PASSWORD ?? "" } : undefined,
    })
  );
  return {
    transport: "smtp",
    async send(message) {
      await (await transport()).sendMail({ from: config.MAIL_FROM, ...message });
    },
  };
}
