import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { deliverWebhook } from "../../../core/webhooks/deliver.ts";
import { checkTargetAtRegistration, targetPolicy, type HostResolver } from "../../../core/webhooks/target.ts";

// Real servers, on loopback only.
const servers: { server: Server; sockets: Set<Socket> }[] = [];
afterEach(async () => {
  for (const { server, sockets } of servers.splice(0)) {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  }
});

async function serve(handler: (req: IncomingMessage, res: import("node:http").ServerResponse) => void) {
  const connections: Socket[] = [];
  const requests: { host?: string; path?: string; body: string }[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      requests.push({ host: req.headers.host, path: req.url, body });
      handler(req, res);
    });
  });
  server.on("connection", (s) => {
    connections.push(s);
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  servers.push({ server, sockets });
  return { port: (server.address() as AddressInfo).port, connections, requests };
}

const loopbackAllowed = targetPolicy("public", "127.0.0.1");
const strict = targetPolicy("public", undefined);
const resolveTo = (address: string): HostResolver => async () => [{ address, family: 4 }];

describe("deliverWebhook", () => {
  it("connects to the checked address, keeping the URL's host name in the Host header", async () => {
    const receiver = await serve((_req, res) => res.writeHead(204).end());
    const error = await deliverWebhook({
      url: `http://hooks.example:${receiver.port}/in?x=1`,
      headers: { "content-type": "application/json" },
      body: '{"a":1}',
      policy: loopbackAllowed,
      resolve: resolveTo("127.0.0.1"),
      timeoutMs: 2_000,
    });
    expect(error).toBeNull();
    expect(receiver.requests).toEqual([{ host: `hooks.example:${receiver.port}`, path: "/in?x=1", body: '{"a":1}' }]);
  });

  it("refuses a name that resolved to a public address at registration and to a refused one at delivery, without connecting", async () => {
    // The rebinding attacker's receiver: were the address not checked after resolution, the delivery would land here.
    const internal = await serve((_req, res) => res.writeHead(204).end());
    let answers = 0;
    const rebinding: HostResolver = async () => [{ address: answers++ === 0 ? "93.184.215.14" : "127.0.0.1", family: 4 }];
    const url = `http://rebind.example:${internal.port}/admin`;
    await expect(checkTargetAtRegistration(new URL(url), strict, rebinding)).resolves.toBeUndefined();
    const error = await deliverWebhook({ url, headers: {}, body: "{}", policy: strict, resolve: rebinding, timeoutMs: 2_000 });
    expect(error).toMatch(/refused.*loopback/);
    expect(answers).toBe(2);
    expect(internal.connections).toHaveLength(0);
  });

  it("tries each checked address in turn, as for any name (localhost's ::1 refused, then 127.0.0.1)", async () => {
    const receiver = await serve((_req, res) => res.writeHead(204).end());
    const both: HostResolver = async () => [
      { address: "::1", family: 6 },
      { address: "127.0.0.1", family: 4 },
    ];
    const error = await deliverWebhook({ url: `http://localhost:${receiver.port}/`, headers: {}, body: "{}", policy: targetPolicy("any", undefined), resolve: both, timeoutMs: 2_000 });
    expect(error).toBeNull();
    expect(receiver.requests).toHaveLength(1);
  });

  it("refuses a literal internal address without connecting", async () => {
    const internal = await serve((_req, res) => res.writeHead(204).end());
    const error = await deliverWebhook({ url: `http://2130706433:${internal.port}/`, headers: {}, body: "{}", policy: strict, resolve: resolveTo("127.0.0.1"), timeoutMs: 2_000 });
    expect(error).toMatch(/loopback/);
    expect(internal.connections).toHaveLength(0);
  });

  it("treats a redirect as a failed delivery and does not follow it", async () => {
    const elsewhere = await serve((_req, res) => res.writeHead(204).end());
    const redirecting = await serve((_req, res) => res.writeHead(307, { location: `http://127.0.0.1:${elsewhere.port}/` }).end());
    const error = await deliverWebhook({ url: `http://127.0.0.1:${redirecting.port}/`, headers: {}, body: "{}", policy: loopbackAllowed, resolve: resolveTo("127.0.0.1"), timeoutMs: 2_000 });
    expect(error).toMatch(/HTTP 307.*redirects are not followed/);
    expect(elsewhere.connections).toHaveLength(0);
  });

  it("gives up on a receiver that never answers after the timeout", async () => {
    const tarpit = await serve(() => {}); // reads the request, never answers
    const started = Date.now();
    const error = await deliverWebhook({ url: `http://127.0.0.1:${tarpit.port}/`, headers: {}, body: "{}", policy: loopbackAllowed, resolve: resolveTo("127.0.0.1"), timeoutMs: 300 });
    expect(error).toBe("no answer within 300 ms");
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("answers a non-2xx status as the error", async () => {
    const failing = await serve((_req, res) => res.writeHead(503).end("busy"));
    expect(await deliverWebhook({ url: `http://127.0.0.1:${failing.port}/`, headers: {}, body: "{}", policy: loopbackAllowed, resolve: resolveTo("127.0.0.1"), timeoutMs: 2_000 })).toBe("HTTP 503");
  });
});
