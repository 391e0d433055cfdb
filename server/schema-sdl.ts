import { lexicographicSortSchema, printSchema } from "graphql";
import { schema } from "./schema/index.ts";

/** The repository's `schema.graphql`, relative to the project root. */
export const SCHEMA_FILE = "schema.graphql";

/** The API's schema as SDL, types and fields sorted, as committed in `schema.graphql`. */
export function schemaSDL(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
