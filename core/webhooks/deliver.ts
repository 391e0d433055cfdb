import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { LookupAddress } from "node:dns";
import { isIP, type LookupFunction } from "node:net";
import { resolveTarget, type HostResolver, type WebhookTargetPolicy } from "./target.ts";

export interface DeliveryRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  policy: WebhookTargetPolicy;
  resolve: HostResolver;
  /** The whole attempt (resolve, connect, answer) ends after this long. */
  timeoutMs: number;
  /** Aborts the attempt (the worker stopping). */
  signal?: AbortSignal;
}

/** `null` when the receiver answered 2xx; otherwise why the delivery failed. Never throws. */
export async function deliverWebhook(req: DeliveryRequest): Promise<string | null> {
  const signal = req.signal ? AbortSignal.any([req.signal, AbortSignal.timeout(req.timeoutMs)]) : AbortSignal.timeout(req.timeoutMs);
  try {
    const url = new URL(req.url);
    const checked = await Promise.race([resolveTarget(url, req.policy, req.resolve), aborted(signal)]);
    const https = url.protocol === "https:";
    const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
    // Node connects to what this lookup answers, and nothing else: the addresses just checked, tried in turn as
    // it tries any name's addresses. Host header and TLS name stay the URL's, so certificates still verify.
    const lookup: LookupFunction = (_hostname, options, callback) => {
      if (options.all) (callback as (err: null, addresses: LookupAddress[]) => void)(null, checked);
      else callback(null, checked[0]!.address, checked[0]!.family);
    };
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const call = (https ? httpsRequest : httpRequest)(
        {
          host,
          lookup,
          port: url.port || (https ? 443 : 80),
          path: `${url.pathname}${url.search}`,
          method: "POST",
          headers: { ...req.headers, host: url.host, "content-length": Buffer.byteLength(req.body) },
          ...(https && !isIP(host) ? { servername: host } : {}),
          signal,
          // No agent: a kept-alive socket would skip the address check of the next delivery.
          agent: false,
        },
        resolve,
      );
      call.on("error", reject);
      call.end(req.body);
    });
    // The answer's body is never read: a receiver cannot make the worker hold or buffer anything.
    res.destroy();
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400) return `HTTP ${status}: redirects are not followed`;
    if (status < 200 || status >= 300) return `HTTP ${status}`;
    return null;
  } catch (err) {
    if (signal.aborted && !req.signal?.aborted) return `no answer within ${req.timeoutMs} ms`;
    return (err as Error).message;
  }
}

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}
