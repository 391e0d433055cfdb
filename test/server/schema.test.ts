import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isIntrospectionType,
  isObjectType,
  isSpecifiedScalarType,
  lexicographicSortSchema,
} from "graphql";
import { describe, expect, it } from "vitest";
import { schema } from "../../server/schema/index.ts";
import { SCHEMA_FILE, schemaSDL } from "../../server/schema-sdl.ts";

describe("the GraphQL schema", () => {
  it(`matches the committed ${SCHEMA_FILE}`, () => {
    const committed = readFileSync(fileURLToPath(new URL(`../../${SCHEMA_FILE}`, import.meta.url)), "utf8");
    // toBe would print both schemas; the hint is what a reader needs.
    expect(committed === schemaSDL(), `${SCHEMA_FILE} is stale: run \`npm run schema:print\` and commit ${SCHEMA_FILE}`).toBe(true);
  });

  it("describes every type, field, argument, enum value and input field", () => {
    const missing: string[] = [];
    const need = (what: string, description: string | null | undefined) => {
      if (!description?.trim()) missing.push(what);
    };
    for (const type of Object.values(lexicographicSortSchema(schema).getTypeMap())) {
      if (isIntrospectionType(type) || isSpecifiedScalarType(type)) continue;
      need(type.name, type.description);
      if (isObjectType(type) || isInterfaceType(type)) {
        for (const field of Object.values(type.getFields())) {
          need(`${type.name}.${field.name}`, field.description);
          for (const arg of field.args) need(`${type.name}.${field.name}(${arg.name})`, arg.description);
        }
      } else if (isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) need(`${type.name}.${field.name}`, field.description);
      } else if (isEnumType(type)) {
        for (const value of type.getValues()) need(`${type.name}.${value.name}`, value.description);
      }
    }
    expect(missing, `undescribed schema elements:\n  ${missing.join("\n  ")}`).toEqual([]);
  });
});
