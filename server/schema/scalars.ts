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

builder.scalarType("JSON", {
  description: "Any JSON value.",
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: (ast) => valueFromASTUntyped(ast),
});
