import { describe, expect, it } from "vitest";
import { checkTargetAtRegistration, refusedAddress, resolveTarget, targetPolicy, WebhookTargetError, type HostResolver } from "../../../core/webhooks/target.ts";

// Every check here is on the address alone: no test in this file opens a connection.
const strict = targetPolicy("public", undefined);
const fixed = (...addresses: string[]): HostResolver => async () => addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
const noResolver: HostResolver = async (host) => {
  throw new Error(`resolver must not be asked (${host})`);
};

describe("webhook target address check", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["0.0.0.0", "unspecified"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["192.168.1.1", "private"],
    ["100.64.0.1", "carrierGradeNat"],
    ["100.100.100.200", "carrierGradeNat"], // Alibaba Cloud metadata
    ["169.254.169.254", "linkLocal"], // AWS, GCP, Azure metadata
    ["224.0.0.1", "multicast"],
    ["239.255.255.250", "multicast"],
    ["255.255.255.255", "broadcast"],
    ["240.0.0.1", "reserved"],
    ["192.0.0.192", "reserved"],
    ["198.18.0.1", "reserved"],
    ["::1", "loopback"],
    ["::", "unspecified"],
    ["fe80::1", "linkLocal"],
    ["fc00::1", "uniqueLocal"],
    ["fd00:ec2::254", "uniqueLocal"], // AWS metadata over IPv6
    ["ff02::1", "multicast"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:10.0.0.1", "private"],
    ["::ffff:169.254.169.254", "linkLocal"],
    ["64:ff9b::a00:1", "rfc6052"], // NAT64 of 10.0.0.1
    ["::ffff:0:a00:1", "rfc6145"],
    ["2002:a00:1::", "6to4"],
    ["2001::1", "teredo"],
    ["2001:db8::1", "reserved"],
    ["100::1", "discard"],
    ["::7f00:1", "IPv4-compatible"],
  ])("refuses %s (%s)", (address, why) => {
    expect(refusedAddress(address, strict)).toContain(why);
  });

  it.each(["93.184.215.14", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4001:80b::200e"])("accepts the public address %s", (address) => {
    expect(refusedAddress(address, strict)).toBeNull();
  });

  it("accepts everything when the policy is `any` (development and tests)", () => {
    expect(refusedAddress("127.0.0.1", targetPolicy("any", undefined))).toBeNull();
  });

  it("lets the allowlist name internal hosts and ranges, nothing more", () => {
    const policy = targetPolicy("public", "127.0.0.1, 10.20.0.0/16, fd12::/16, [fd34::1], hooks.internal");
    expect(refusedAddress("127.0.0.1", policy)).toBeNull();
    expect(refusedAddress("::ffff:127.0.0.1", policy)).toBeNull();
    expect(refusedAddress("10.20.3.4", policy)).toBeNull();
    expect(refusedAddress("fd12::5", policy)).toBeNull();
    expect(refusedAddress("fd34::1", policy)).toBeNull();
    expect(refusedAddress("127.0.0.2", policy)).toContain("loopback");
    expect(refusedAddress("10.21.0.1", policy)).toContain("private");
    expect(refusedAddress("::1", policy)).toContain("loopback");
  });

  it.each([
    "http://2130706433/",
    "http://0x7f.1/",
    "http://0177.0.0.1/",
    "http://127.1/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::1]:6379/",
    "http://0/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/",
  ])("refuses the odd form %s without resolving anything", async (url) => {
    await expect(resolveTarget(new URL(url), strict, noResolver)).rejects.toThrow(WebhookTargetError);
    await expect(checkTargetAtRegistration(new URL(url), strict, noResolver)).rejects.toThrow(WebhookTargetError);
  });

  it("refuses a name when any address it resolves to is refused (localhost:6379, a name with one internal address among public ones)", async () => {
    await expect(resolveTarget(new URL("http://localhost:6379/"), strict, fixed("127.0.0.1", "::1"))).rejects.toThrow(/loopback/);
    await expect(resolveTarget(new URL("https://hooks.example/"), strict, fixed("93.184.215.14", "10.0.0.7"))).rejects.toThrow(/private/);
    await expect(resolveTarget(new URL("https://hooks.example/"), strict, fixed("93.184.215.14"))).resolves.toEqual([{ address: "93.184.215.14", family: 4 }]);
  });

  it("trusts an allowlisted host name whatever it resolves to", async () => {
    const policy = targetPolicy("public", "hooks.internal");
    await expect(resolveTarget(new URL("http://HOOKS.internal/x"), policy, fixed("10.0.0.7"))).resolves.toEqual([{ address: "10.0.0.7", family: 4 }]);
  });

  it("accepts at registration a name that does not resolve yet (each delivery checks again), but not one resolving inward", async () => {
    const failing: HostResolver = async () => {
      throw new Error("ENOTFOUND");
    };
    await expect(checkTargetAtRegistration(new URL("https://later.example/"), strict, failing)).resolves.toBeUndefined();
    await expect(checkTargetAtRegistration(new URL("https://inward.example/"), strict, fixed("192.168.0.10"))).rejects.toThrow(/private/);
  });

  it("does not let a slow resolver hold a registration, and resolves nothing when every target is allowed", async () => {
    const never: HostResolver = () => new Promise(() => {});
    await expect(checkTargetAtRegistration(new URL("https://slow.example/"), strict, never, 100)).resolves.toBeUndefined();
    await expect(checkTargetAtRegistration(new URL("https://any.example/"), targetPolicy("any", undefined), noResolver)).resolves.toBeUndefined();
  });

  it("refuses a malformed allowlist at configuration", () => {
    expect(() => targetPolicy("public", "10.0.0.0/99")).toThrow();
  });
});
