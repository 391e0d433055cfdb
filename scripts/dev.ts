import { ConfigError } from "../core/config.ts";
import { startStack } from "./dev/stack.ts";

/** `npm run dev`: the whole platform on this machine, embedded services for whatever the environment leaves out. */
try {
  const stack = await startStack();
  const { devInfo } = stack;
  process.stdout.write(
    [
      "",
      "Hallmark is running.",
      `  GraphQL     ${devInfo.graphqlUrl}${stack.config.graphiql ? "  (GraphiQL: open it in a browser)" : ""}`,
      `  API key     ${devInfo.apiKey}`,
      `  Collection  ${devInfo.collectionId}`,
      `  Chain       ${devInfo.rpcUrl}  (chain id ${devInfo.chainId}; CertificateRegistry ${devInfo.contracts.CertificateRegistry})`,
      `  Written to  ${stack.dataDir}/dev.json`,
      "Press Ctrl-C to stop.",
      "",
    ].join("\n"),
  );
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\n${signal}: stopping…\n`);
    await stack.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
  } else {
    process.stderr.write(`Hallmark could not start: ${(err as Error).message}\n`);
  }
  process.exit(1);
}
