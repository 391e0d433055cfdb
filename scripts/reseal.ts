import { join, resolve } from "node:path";
import { ConfigError, loadConfig } from "../core/config.ts";
import { openCustody } from "../core/custody/custody-secret.ts";
import { sealStoredSecrets } from "../core/custody/stored-secrets.ts";
import { openDatabase } from "../core/db/index.ts";
import { progressBar } from "./progress.ts";
import { cliTranslator } from "../core/i18n/translator.ts";

/**
 * `npm run reseal`: seals every stored secret under the first key of SEALING_KEYS (the step that lets an operator
 * drop an older sealing key afterwards). Safe while the platform runs. Exits 1 when a secret could not be opened
 * with any configured key: those still need an older key, which must stay listed.
 */
const { t } = cliTranslator();
try {
  const config = loadConfig();
  const db = await openDatabase({ url: config.databaseUrl, dir: join(resolve(config.dataDir), "db") });
  const keyring = openCustody(config).keyring();
  const bars = new Map<string, ReturnType<typeof progressBar>>();
  const report = await sealStoredSecrets(db.db, {
    keyring,
    reseal: true,
    onProgress: (column, done, total) => {
      let bar = bars.get(column);
      if (!bar) bars.set(column, (bar = progressBar(column, total)));
      bar.update(done);
      if (done >= total) bar.done();
    },
  });
  for (const u of report.unopenable) console.log(t("cli.reseal.unopenable", { column: u.column, id: u.id, problem: u.problem }));
  console.log(t("cli.reseal.summary", { sealed: report.sealed, key: keyring.current, unopenable: report.unopenable.length }));
  await db.close();
  process.exit(report.unopenable.length ? 1 : 0);
} catch (err) {
  process.stderr.write(`${err instanceof ConfigError ? err.message : t("cli.reseal.failed", { error: (err as Error).message })}\n`);
  process.exit(1);
}
