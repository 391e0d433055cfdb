import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildSchema, parse, validate } from "graphql";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const readme = readFileSync(join(root, "README.md"), "utf8");
const scripts = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;

/** The README's section under `## <title>`, up to the next `## `. */
function section(title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  expect(start, `README section "${title}"`).toBeGreaterThan(-1);
  const end = readme.indexOf("\n## ", start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

const blocks = (text: string, lang: string) => [...text.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1]!);

/** The README is the front door: what it tells an operator to type must exist and must be accepted. */
describe("the README", () => {
  it("starts with two commands: one runs the platform, one runs the tests", () => {
    const [quick] = blocks(section("Quick start"), "sh");
    const commands = quick!.split("\n").filter((l) => l.trim()).map((l) => l.replace(/#.*/, "").trim());
    expect(commands).toEqual(["npm run dev", "npm test"]);
  });

  it("names only npm scripts that exist", () => {
    for (const [, name] of readme.matchAll(/npm run ([\w:-]+)/g)) expect(Object.keys(scripts), `npm run ${name}`).toContain(name);
  });

  it("takes an operator to issuing with migrate, deploy, start, worker and GraphQL alone", () => {
    const production = section("Running in production");
    const [shell] = blocks(production, "sh");
    const steps = shell!.split("\n").map((l) => l.replace(/#.*/, "").trim()).filter((l) => /^npm /.test(l));
    expect(steps).toEqual(["npm run migrate", "npm run deploy", "npm start", "npm run worker"]);
    const operations = blocks(production, "graphql").map((b) => parse(b).definitions[0]);
    const fields = operations.map((op: any) => op.selectionSet.selections[0].name.value);
    expect(fields).toEqual(["registerInstitution", "createCollection", "issueCertificate"]);
  });

  it("shows GraphQL the API accepts", () => {
    const schema = buildSchema(readFileSync(join(root, "schema.graphql"), "utf8"));
    const documents = blocks(readme, "graphql");
    expect(documents.length).toBeGreaterThan(0);
    for (const document of documents) expect(validate(schema, parse(document)).map((e) => e.message), document).toEqual([]);
  });

  it("says which verification standards are met, with their versions, and what a verifier needs", () => {
    const standards = section("Verification with standard tools");
    for (const line of [/Verifiable Credentials Data Model \| 2\.0/, /Bitstring Status List \| 1\.0/, /eddsa-rdfc-2022/, /Open Badges \| 3\.0/, /did:web/]) {
      expect(standards).toMatch(line);
    }
    expect(standards).toMatch(/What a verifier needs:/);
  });
});
