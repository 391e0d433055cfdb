import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../core/config.ts";

describe("config", () => {
  it("defaults to the embedded development stack", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ env: "development", dataDir: ".data", port: 4000, graphiql: true });
    expect(c.chain).toMatchObject({ chainId: 31337, embeddedPort: 8545, rpcUrl: undefined });
    expect(c.redisUrl).toBeUndefined();
    expect(c.databaseUrl).toBeUndefined();
  });

  it("reports every problem at once", () => {
    let error: ConfigError | undefined;
    try {
      loadConfig({ PORT: "http", REDIS_URL: "not a url", CHAIN_ID: "-1", SIGNER_PRIVATE_KEY: "0x12" });
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.problems.map((p) => p.split(":")[0]).sort()).toEqual(["CHAIN_ID", "PORT", "REDIS_URL", "SIGNER_PRIVATE_KEY"]);
  });

  it("never falls back to embedded services or development keys in production", () => {
    expect(() => loadConfig({ NODE_ENV: "production" })).toThrow(
      /DATABASE_URL: required[\s\S]*REDIS_URL: required[\s\S]*CHAIN_RPC_URL: required[\s\S]*SIGNER_PRIVATE_KEY: required[\s\S]*CUSTODY_SECRET: required/,
    );
    const c = loadConfig({
      NODE_ENV: "production",
      DATABASE_URL: "postgres://u:p@db/hallmark",
      REDIS_URL: "redis://cache:6379",
      CHAIN_RPC_URL: "http://besu:8545",
      CHAIN_ID: "1337",
      SIGNER_PRIVATE_KEY: `0x${"11".repeat(32)}`,
      PUBLIC_URL: "https://certs.example.org",
      CUSTODY_SECRET: "c".repeat(64),
    });
    expect(c.graphiql).toBe(false);
  });

  it("treats an empty variable as unset", () => {
    expect(loadConfig({ REDIS_URL: "", PORT: "" }).port).toBe(4000);
  });

  it("serves no ops listener unless OPS_PORT is set, on loopback by default, and checks the chain head only of an external chain", () => {
    expect(loadConfig({}).ops).toEqual({ port: undefined, host: "127.0.0.1", checkTimeoutMs: 2_000, chainHeadMaxAgeSeconds: 0 });
    const external = { CHAIN_RPC_URL: "http://besu:8545", SIGNER_PRIVATE_KEY: `0x${"11".repeat(32)}` };
    expect(loadConfig({ ...external, OPS_PORT: "9464" }).ops).toEqual({ port: 9464, host: "127.0.0.1", checkTimeoutMs: 2_000, chainHeadMaxAgeSeconds: 60 });
    expect(loadConfig({ ...external, OPS_HOST: "10.0.0.5", OPS_CHECK_TIMEOUT_MS: "500", CHAIN_HEAD_MAX_AGE_SECONDS: "0" }).ops).toMatchObject({ host: "10.0.0.5", checkTimeoutMs: 500, chainHeadMaxAgeSeconds: 0 });
    expect(() => loadConfig({ OPS_PORT: "99999", OPS_CHECK_TIMEOUT_MS: "10" })).toThrow(/OPS_PORT[\s\S]*OPS_CHECK_TIMEOUT_MS/);
  });
});
