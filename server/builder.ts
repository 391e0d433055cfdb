import SchemaBuilder from "@pothos/core";
import ErrorsPlugin from "@pothos/plugin-errors";
import RelayPlugin, { decodeGlobalID, resolveNodes } from "@pothos/plugin-relay";
import ScopeAuthPlugin from "@pothos/plugin-scope-auth";
import { GraphQLError, isObjectType, type GraphQLResolveInfo } from "graphql";
import type { ApiKeyScope } from "./auth/caller.ts";
import type { Context } from "./context.ts";
import { InvalidInputError, notFound } from "./errors.ts";

/** The most items a connection page or `nodes` answers at once. */
export const MAX_PAGE_SIZE = 100;

/** The builder, for resolvers its own options hold. */
const self = (): Parameters<typeof resolveNodes>[0] => builder as never;

/** A global id names a Node type of this schema; anything else (another type, a forged name) names nothing. */
function isNodeTypename(info: GraphQLResolveInfo, typename: string): boolean {
  const type = info.schema.getType(typename);
  return isObjectType(type) && type.getInterfaces().some((i) => i.name === "Node");
}

export const builder = new SchemaBuilder<{
  Context: Context;
  AuthScopes: { authenticated: boolean; scope: ApiKeyScope; operator: boolean; holder: boolean; emailHolder: boolean; readData: boolean };
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
    LocalizedText: { Input: unknown; Output: unknown };
  };
  DefaultFieldNullability: false;
}>({
  plugins: [ScopeAuthPlugin, ErrorsPlugin, RelayPlugin],
  defaultFieldNullability: false,
  // Expected failures are members of each mutation's result union, beside its payload (not wrapped in a
  // `…Success` object); every mutation can refuse its input.
  errors: {
    defaultTypes: [InvalidInputError],
    directResult: true,
    defaultUnionOptions: {
      name: ({ fieldName }) => `${fieldName.slice(0, 1).toUpperCase()}${fieldName.slice(1)}Result`,
      description: "The operation's payload, or the expected failure that refused it: select `... on Error { code message field }`. Nothing of a refused request is recorded.",
    },
  },
  relay: {
    // `id` stays each object's database id (UUID) for existing clients; `nodeId` is the Relay global id.
    idFieldName: "nodeId",
    idFieldOptions: { description: "Global id (opaque): pass it to `node(id:)`, or wherever an id is taken." },
    // An id that does not decode names nothing: answered NOT_FOUND like a missing object, never a server error.
    decodeGlobalID: (globalID) => {
      try {
        return decodeGlobalID(globalID);
      } catch {
        return { typename: "", id: globalID };
      }
    },
    nodeTypeOptions: { description: "An object that can be fetched again by its global id (`nodeId`) with `node(id:)`." },
    nodeQueryOptions: {
      description: "An object of the caller's institution by global id; NOT_FOUND (and null) when the id names nothing the caller may read.",
      authScopes: { scope: "read" },
      args: { id: { description: "Global id (`nodeId`)." } },
      resolve: async (_root, { id }, _ctx, info, resolveNode) => {
        const node = isNodeTypename(info, id.typename) ? await resolveNode(id) : null;
        if (node instanceof Error) throw node;
        if (!node) throw notFound("node");
        return node;
      },
    },
    nodesQueryOptions: {
      description: `Objects of the caller's institution by global id, in order (at most ${MAX_PAGE_SIZE}); each one not found is null with a NOT_FOUND error at its index.`,
      authScopes: { scope: "read" },
      args: { ids: { description: "Global ids (`nodeId`)." } },
      resolve: async (_root, { ids }, ctx, info): Promise<unknown[]> => {
        if (ids.length > MAX_PAGE_SIZE) {
          throw new GraphQLError(`at most ${MAX_PAGE_SIZE} ids`, { extensions: { code: "BAD_USER_INPUT", field: "ids" } });
        }
        const known = ids.map((id) => isNodeTypename(info, id.typename));
        // The plugin's own callback would load every id given, Node type or not: only the known ones are loaded.
        const nodes = await resolveNodes(self(), ctx, info, ids.filter((_id, i) => known[i]));
        let next = 0;
        return known.map((k) => {
          const node = k ? nodes[next++] : null;
          // An Error in a list is reported at its index, the item itself answered null.
          return node ?? notFound("node");
        });
      },
    },
    pageInfoTypeOptions: { description: "Where a page stands in its connection." },
    hasNextPageFieldOptions: { description: "More items follow this page (in the requested order)." },
    hasPreviousPageFieldOptions: { description: "Items precede this page (in the requested order)." },
    startCursorFieldOptions: { description: "Cursor of the page's first item; null for an empty page." },
    endCursorFieldOptions: { description: "Cursor of the page's last item; null for an empty page." },
    pageInfoFieldOptions: { description: "Where this page stands." },
    edgesFieldOptions: { description: "The page's items, each with its cursor." },
    nodeFieldOptions: { description: "The item." },
    cursorFieldOptions: { description: "Opaque position of this item; pass it as `after` or `before`." },
    firstArgOptions: { description: `Items after \`after\` (or from the start), at most ${MAX_PAGE_SIZE}; 20 when neither \`first\` nor \`last\` is given.` },
    afterArgOptions: { description: "Cursor: the page starts after this item." },
    lastArgOptions: { description: `Items before \`before\` (or up to the end), at most ${MAX_PAGE_SIZE}.` },
    beforeArgOptions: { description: "Cursor: the page ends before this item." },
  },
  scopeAuth: {
    authScopes: (ctx) => ({
      // An institution's key; operator keys act for no institution and hold only `operator`.
      authenticated: !!ctx.caller && !ctx.caller.operator,
      scope: (scope) => !!ctx.caller && (ctx.caller.scopes.includes(scope) || ctx.caller.scopes.includes("admin")),
      operator: !!ctx.caller?.operator,
      // A holder signed in with Ethereum (a session token, not an API key).
      holder: !!ctx.holder,
      // A holder without a wallet, signed in with a one-time code sent to their e-mail address.
      emailHolder: !!ctx.emailHolder,
      // Set on the object types that hold an institution's data, so every path to them (a mutation's payload,
      // `viewer`, a nested field) needs what the read roots need: an institution key must hold READ. Other
      // callers (anonymous, holders, the operator) reach those types only through roots that decide for them.
      readData: !ctx.caller || !!ctx.caller.operator || ctx.caller.scopes.includes("read") || ctx.caller.scopes.includes("admin"),
    }),
    unauthorizedError: (_parent, ctx) =>
      ctx.caller
        ? new GraphQLError("This API key lacks the scope this field needs", { extensions: { code: "FORBIDDEN" } })
        : new GraphQLError("Authentication required: send `Authorization: Bearer <api key>`", {
            extensions: { code: "UNAUTHENTICATED" },
          }),
  },
});
