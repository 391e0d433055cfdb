import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** A JSON-RPC endpoint that forwards every request to a node and remembers which methods were asked for. */
export interface RpcRecorder {
  /** Give this to the processes under test instead of the node's URL. */
  rpcUrl: string;
  /** How many times each method was sent, batches counted item by item. */
  methods: Map<string, number>;
  close(): Promise<void>;
}

function record(methods: Map<string, number>, body: unknown): void {
  for (const call of Array.isArray(body) ? body : [body]) {
    const method = (call as { method?: unknown } | null)?.method;
    const name = typeof method === "string" ? method : "<no method>";
    methods.set(name, (methods.get(name) ?? 0) + 1);
  }
}

/**
 * Starts a recording proxy on 127.0.0.1 in front of `upstream`: bodies go through unchanged and answers come back
 * unchanged, so the processes behind it behave as they would against the node itself.
 */
export async function startRpcRecorder(upstream: string): Promise<RpcRecorder> {
  const methods = new Map<string, number>();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (c: Buffer) => chunks.push(c));
    request.on("end", async () => {
      const raw = Buffer.concat(chunks);
      try {
        record(methods, JSON.parse(raw.toString("utf8")));
      } catch {
        record(methods, { method: "<unparseable>" });
      }
      try {
        const answer = await fetch(upstream, {
          method: request.method,
          headers: { "content-type": request.headers["content-type"] ?? "application/json" },
          body: request.method === "POST" ? raw : undefined,
        });
        const text = Buffer.from(await answer.arrayBuffer());
        response.writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "application/json" });
        response.end(text);
      } catch (err) {
        // The node is gone (the test is ending): answer as an unreachable node would, with a connection reset.
        response.destroy(err as Error);
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    rpcUrl: `http://127.0.0.1:${port}`,
    methods,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
