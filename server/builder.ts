import SchemaBuilder from "@pothos/core";
import ScopeAuthPlugin from "@pothos/plugin-scope-auth";
import { GraphQLError } from "graphql";
import type { ApiKeyScope } from "./auth/api-keys.ts";
import type { Context } from "./context.ts";

export const builder = new SchemaBuilder<{
  Context: Context;
  AuthScopes: { authenticated: boolean; scope: ApiKeyScope; operator: boolean };
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
  };
  DefaultFieldNullability: false;
}>({
  plugins: [ScopeAuthPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authScopes: (ctx) => ({
      // An institution's key; operator keys act for no institution and hold only `operator`.
      authenticated: !!ctx.caller && !ctx.caller.operator,
      scope: (scope) => !!ctx.caller && (ctx.caller.scopes.includes(scope) || ctx.caller.scopes.includes("admin")),
      operator: !!ctx.caller?.operator,
    }),
    unauthorizedError: (_parent, ctx) =>
      ctx.caller
        ? new GraphQLError("This API key lacks the scope this field needs", { extensions: { code: "FORBIDDEN" } })
        : new GraphQLError("Authentication required: send `Authorization: Bearer <api key>`", {
            extensions: { code: "UNAUTHENTICATED" },
          }),
  },
});
