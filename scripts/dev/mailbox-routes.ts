import { Router } from "express";
import { html } from "../../server/pages/html.ts";
import { page } from "../../server/pages/layout.ts";
import type { MailSink } from "./mail-sink.ts";

const STYLE = `
ol.mail { list-style: none; padding: 0; display: grid; gap: 1rem; }
ol.mail li { border: 1px solid var(--line); border-radius: .5rem; padding: 1rem; }
ol.mail pre { white-space: pre-wrap; margin: .5rem 0 0; }
`;

/**
 * `GET /dev/mail`: what the development stack's mail sink received, newest first. Mounted by `npm run dev` only: a
 * server started any other way (`npm start`) has no such route, and nothing leaves this machine.
 */
export function mailboxRoutes(sink: MailSink): Router {
  const router = Router();
  router.get("/dev/mail", (_req, res) => {
    const messages = sink.messages().reverse();
    res.set("Cache-Control", "no-store").type("html").send(
      page({
        title: "Mail sent · Hallmark development",
        section: "Development",
        style: STYLE,
        body: html`<h1>Mail sent (${String(messages.length)})</h1>
<p>The development stack delivers no e-mail: what it sends is kept here (the last 200), by its local SMTP sink at <span class="mono">${sink.url}</span>.</p>
${
  messages.length
    ? html`<ol class="mail">${messages.map(
        (m) => html`<li><strong>${m.subject}</strong>
<p>To <span class="mono">${m.to.join(", ")}</span> from <span class="mono">${m.from}</span>, <time datetime="${m.receivedAt.toISOString()}">${m.receivedAt.toISOString()}</time></p>
<pre>${m.text}</pre></li>`,
      )}</ol>`
    : html`<p>Nothing yet. Ask for a sign-in code on <a href="/holder">/holder</a>.</p>`
}`,
      }),
    );
  });
  return router;
}
