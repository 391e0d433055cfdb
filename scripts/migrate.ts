import { join, resolve } from "node:path";
import { ConfigError, loadConfig } from "../core/config.ts";
import { openDatabase, pendingMigrations } from "../core/db/index.ts";
import { cliTranslator } from "../core/i18n/translator.ts";

/**
 * `npm run migrate`: applies the pending migrations to DATABASE_URL (or the data folder's PGlite). Run it once per
 * release, before starting the new version's servers and workers, which refuse a database that is behind.
 */
const { t } = cliTranslator();
try {
  const config = loadConfig();
  const database = await openDatabase({ url: config.databaseUrl, dir: join(resolve(config.dataDir), "db"), migrations: "apply" });
  try {
    const left = await pendingMigrations(database.db);
    if (left.length) throw new Error(t("cli.migrate.stillPending", { migrations: left.join(", ") }));
  } finally {
    await database.close();
  }
  // Read by deploy scripts and tests: the same words in every language.
  process.stderr.write("database schema is up to date\n");
} catch (err) {
  process.stderr.write(`${err instanceof ConfigError ? err.message : t("cli.migrate.failed", { error: (err as Error).message })}\n`);
  process.exit(1);
}
