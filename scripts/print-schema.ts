import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { SCHEMA_FILE, schemaSDL } from "../server/schema-sdl.ts";

/**
 * `npm run schema:print`: writes the GraphQL schema to `schema.graphql` at the project root.
 * `npm run schema:print -- --check`: writes nothing, exits 1 when the file is stale.
 */
const path = fileURLToPath(new URL(`../${SCHEMA_FILE}`, import.meta.url));
const sdl = schemaSDL();
if (process.argv.includes("--check")) {
  let current = "";
  try {
    current = readFileSync(path, "utf8");
  } catch {}
  if (current !== sdl) {
    process.stderr.write(`${SCHEMA_FILE} is stale: run \`npm run schema:print\` and commit it\n`);
    process.exit(1);
  }
  process.stdout.write(`${SCHEMA_FILE} is up to date\n`);
} else {
  writeFileSync(path, sdl);
  process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
}
