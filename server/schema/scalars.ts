import { GraphQLError, Kind, valueFromASTUntyped } from "graphql";
import { builder } from "../builder.ts";

builder.scalarType("DateTime", {
  description: "An instant, as an ISO-8601 string with a time zone (e.g. 2030-06-30T00:00:00Z).",
  serialize: (value) => (value as Date).toISOString(),
  parseValue: (value) => {
    const date = typeof value === "string" && /T.*(Z|[+-]\d\d:?\d\d)$/.test(value) ? new Date(value) : undefined;
    if (!date || Number.isNaN(date.getTime())) {
      throw new GraphQLError("DateTime must be an ISO-8601 string with a time zone", { extensions: { code: "BAD_USER_INPUT" } });
    }
    return date;
  },
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw new GraphQLError("DateTime must be a string", { extensions: { code: "BAD_USER_INPUT" } });
    const date = new Date(ast.value);
    if (Number.isNaN(date.getTime()) || !/T.*(Z|[+-]\d\d:?\d\d)$/.test(ast.value)) {
      throw new GraphQLError("DateTime must be an ISO-8601 string with a time zone", { extensions: { code: "BAD_USER_INPUT" } });
    }
    return date;
  },
});

builder.scalarType("LocalizedText", {
  description:
    'Text in one language (a string), or in several: a language map of BCP 47 tag → text, e.g. `{ "zh-CN": "计算机科学学士", "en": "BSc Computer Science" }`. Pages show the reader\'s language, else a fallback; credentials and IIIF manifests carry every language.',
  serialize: (value) => value,
  // The map's tags and texts are checked where the field is (its errors name the field and tag).
  parseValue: (value) => {
    if (typeof value === "string" || (typeof value === "object" && value !== null && !Array.isArray(value))) return value;
    throw new GraphQLError("LocalizedText must be a string or a language map (an object of language tag → text)", { extensions: { code: "BAD_USER_INPUT" } });
  },
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING && ast.kind !== Kind.OBJECT) {
      throw new GraphQLError("LocalizedText must be a string or a language map (an object of language tag → text)", { extensions: { code: "BAD_USER_INPUT" } });
    }
    return valueFromASTUntyped(ast);
  },
});

builder.scalarType("JSON", {
  description: "Any JSON value.",
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: (ast) => valueFromASTUntyped(ast),
});
