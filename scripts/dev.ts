import { ConfigError } from "../core/config.ts";
import { cliTranslator } from "../core/i18n/translator.ts";
import { startStack } from "./dev/stack.ts";

/** `npm run dev`: the whole platform on this machine, embedded services for whatever the environment leaves out. */
const { t } = cliTranslator();
try {
  const stack = await startStack();
  const { devInfo } = stack;
  process.stdout.write(
    [
      "",
      t("cli.dev.running"),
      t(stack.config.graphiql ? "cli.dev.graphqlWithGraphiql" : "cli.dev.graphql", { url: devInfo.graphqlUrl }),
      t("cli.dev.apiKey", { key: devInfo.apiKey }),
      t("cli.dev.collection", { id: devInfo.collectionId }),
      t("cli.dev.chain", { url: devInfo.rpcUrl, chainId: String(devInfo.chainId), contract: devInfo.contracts.CertificateRegistry }),
      t("cli.dev.writtenTo", { file: `${stack.dataDir}/dev.json` }),
      // Scripts and tests wait for this line to know the stack is up: the same words in every language.
      "Press Ctrl-C to stop.",
      "",
    ].join("\n"),
  );
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\n${t("cli.dev.stopping", { signal })}\n`);
    await stack.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
  } else {
    process.stderr.write(`${t("cli.dev.failed", { error: (err as Error).message })}\n`);
  }
  process.exit(1);
}
