import { lookup as dnsLookup } from "node:dns/promises";
import { isIP } from "node:net";
import ipaddr from "ipaddr.js";

/**
 * Which addresses webhooks may reach. `public`: only globally routable unicast addresses, plus what `allowed`
 * names; `any`: everything (development and tests, whose receivers listen on loopback).
 */
export interface WebhookTargetPolicy {
  mode: "public" | "any";
  /** Host names (exact, case-insensitive) and CIDR ranges an operator trusts although they are internal. */
  allowed: { hosts: string[]; ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][] };
}

/** Resolves a host name to every address it has, as `dns.promises.lookup(host, { all: true })` does. */
export type HostResolver = (hostname: string) => Promise<{ address: string; family: number }[]>;

export const systemResolver: HostResolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

export class WebhookTargetError extends Error {
  /** The name did not resolve (then nothing was checked); otherwise an address was refused. */
  readonly unresolved: boolean;
  constructor(message: string, unresolved = false) {
    super(message);
    this.name = "WebhookTargetError";
    this.unresolved = unresolved;
  }
}

/** Parses WEBHOOK_ALLOWED_HOSTS: comma-separated host names, IP addresses and CIDR ranges. */
export function targetPolicy(mode: WebhookTargetPolicy["mode"], allowedHosts: string | undefined): WebhookTargetPolicy {
  const hosts: string[] = [];
  const ranges: WebhookTargetPolicy["allowed"]["ranges"] = [];
  for (const raw of (allowedHosts ?? "").split(",").map((s) => s.trim()).filter(Boolean)) {
    const entry = raw.replace(/^\[(.*)\]$/, "$1");
    if (entry.includes("/")) ranges.push(ipaddr.parseCIDR(entry));
    else if (ipaddr.isValid(entry) && isIP(entry)) {
      const addr = ipaddr.parse(entry);
      ranges.push([addr, addr.kind() === "ipv4" ? 32 : 128]);
    } else hosts.push(entry.toLowerCase());
  }
  return { mode, allowed: { hosts, ranges } };
}

/**
 * IPv6 blocks ipaddr.js counts as unicast that still reach IPv4 hosts or nothing routable: the deprecated
 * IPv4-compatible form (::a.b.c.d) would otherwise let `::7f00:1` stand in for 127.0.0.1.
 */
const REFUSED_EXTRA = [ipaddr.parseCIDR("::/96")];

/** Why this address may not be a webhook target, or null when it may. Pure: makes no connection. */
export function refusedAddress(address: string, policy: WebhookTargetPolicy): string | null {
  if (policy.mode === "any") return null;
  if (!isIP(address)) return `${address} is not an IP address`;
  // IPv4-mapped IPv6 (::ffff:a.b.c.d) is judged as the IPv4 address it reaches.
  const addr = ipaddr.process(address);
  if (policy.allowed.ranges.some(([net, bits]) => net.kind() === addr.kind() && addr.match([net, bits] as never))) return null;
  const range = addr.range();
  if (range !== "unicast") return `${address} is a ${range} address`;
  if (addr.kind() === "ipv6" && REFUSED_EXTRA.some((r) => addr.match(r as never))) return `${address} is an IPv4-compatible address`;
  return null;
}

/** The URL's host without IPv6 brackets. WHATWG parsing has already made `2130706433`, `0x7f.1` and `0177.0.0.1` into `127.0.0.1`. */
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, "$1");
}

/**
 * The addresses a delivery may connect to: the host literal, or every address the name resolves to, each
 * checked. The caller connects only to these, so a name cannot resolve to a public address for this check and an
 * internal one for the connection.
 */
export async function resolveTarget(url: URL, policy: WebhookTargetPolicy, resolve: HostResolver): Promise<{ address: string; family: 4 | 6 }[]> {
  const host = hostOf(url);
  if (isIP(host)) {
    const refused = refusedAddress(host, policy);
    if (refused) throw new WebhookTargetError(`webhook target refused: ${refused}`);
    return [{ address: host, family: isIP(host) as 4 | 6 }];
  }
  let addresses: { address: string; family: number }[];
  try {
    addresses = await resolve(host);
  } catch (err) {
    throw new WebhookTargetError(`webhook host ${host} does not resolve: ${(err as Error).message}`, true);
  }
  if (!addresses.length) throw new WebhookTargetError(`webhook host ${host} does not resolve`, true);
  if (!policy.allowed.hosts.includes(host.toLowerCase())) {
    for (const { address } of addresses) {
      const refused = refusedAddress(address, policy);
      if (refused) throw new WebhookTargetError(`webhook target refused: ${host} resolves to ${refused}`);
    }
  }
  return addresses.map(({ address }) => ({ address, family: isIP(address) as 4 | 6 }));
}

/**
 * The check at registration: a refused literal address, or a name that resolves to any refused address now, is
 * refused. A name that does not resolve yet is accepted; every delivery checks again.
 */
export async function checkTargetAtRegistration(url: URL, policy: WebhookTargetPolicy, resolve: HostResolver, timeoutMs = 2_000): Promise<void> {
  if (policy.mode === "any") return;
  // A slow resolver must not hold the request: past the deadline the name counts as not resolving yet.
  const bounded: HostResolver = (host) =>
    Promise.race([resolve(host), new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref())]);
  try {
    await resolveTarget(url, policy, bounded);
  } catch (err) {
    if (!(err instanceof WebhookTargetError) || !err.unresolved) throw err;
  }
}
