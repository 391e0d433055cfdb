import {
  getNamedType,
  getNullableType,
  GraphQLError,
  isCompositeType,
  isInterfaceType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  Lexer,
  Source,
  TokenKind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLSchema,
  type GraphQLType,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationRule,
} from "graphql";
import type { Plugin } from "graphql-yoga";
import { getComplexity, type ComplexityEstimator } from "graphql-query-complexity";
import { MAX_PAGE_SIZE } from "../builder.ts";

/** What one GraphQL request may ask for; see docs/operations.md "API limits and security". */
export interface QueryLimits {
  /** Deepest field nesting, counted from the root fields (1). Introspection fields are not counted. */
  maxDepth: number;
  /** Estimated objects a response may hold: see {@link measureOperation}. */
  maxCost: number;
  /** Aliased fields in one operation, fragments expanded. */
  maxAliases: number;
  /** Lexical tokens in the document, counted before it is parsed. */
  maxTokens: number;
  /** Directives in one operation, fragments expanded. */
  maxDirectives: number;
  /** False: `__schema` and `__type` are refused (`__typename` stays allowed). */
  introspection: boolean;
}

/** Arguments taken as the page size of a list field or a connection. */
const PAGE_SIZE_ARGS = ["first", "last", "limit", "take", "pageSize"];
/** A connection asked for without `first`/`last` returns this many items (server/schema/pagination.ts). */
export const DEFAULT_PAGE_SIZE = 20;
/** A page size given as a variable without a value counts as the largest page allowed. */
export const ASSUMED_PAGE_SIZE = MAX_PAGE_SIZE;
/** A list field without a page-size or list argument (a certificate's attributes, an institution's webhooks) counts as this many. */
export const ASSUMED_LIST_SIZE = 10;
/** Fields a document may expand to (fragments inlined) before its cost is not worked out but refused. */
export const MAX_COST_NODES = 10_000;

/** A request refused by a limit: HTTP 400 whether the client accepts application/json or graphql-response+json. */
export function limitError(code: string, message: string, extra: Record<string, unknown> = {}): GraphQLError {
  // `spec: false` keeps Yoga from answering 200 to application/json clients, as it does for ordinary validation errors.
  return new GraphQLError(message, { extensions: { code, ...extra, http: { status: 400, spec: false } } });
}

export interface OperationMeasure {
  depth: number;
  aliases: number;
  directives: number;
}

/**
 * Measures one operation, each fragment once (so a "fragment bomb" costs its size, not its expansion):
 * - depth: 1 for a root field, +1 per nested selection.
 * - aliases and directives: counted as if fragments were inlined.
 * Fields named `__*` (introspection, `__typename`) count only their aliases and directives. Cost is {@link queryCost}.
 */
export function measureOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
): OperationMeasure {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  const memo = new Map<string, OperationMeasure>();
  const inProgress = new Set<string>();
  const zero = (): OperationMeasure => ({ depth: 0, aliases: 0, directives: 0 });

  const fragment = (name: string): OperationMeasure => {
    const known = memo.get(name);
    if (known) return known;
    const def = fragments.get(name);
    // Unknown fragments and cycles are reported by the standard rules; count them as nothing here.
    if (!def || inProgress.has(name)) return zero();
    inProgress.add(name);
    const type = schema.getType(def.typeCondition.name.value);
    const m = type && isCompositeType(type) ? selectionSet(def.selectionSet, type) : zero();
    m.directives += def.directives?.length ?? 0;
    inProgress.delete(name);
    memo.set(name, m);
    return m;
  };

  const selectionSet = (set: SelectionSetNode, parent: GraphQLCompositeType): OperationMeasure => {
    const total = zero();
    const add = (m: OperationMeasure) => {
      total.depth = Math.max(total.depth, m.depth);
      total.aliases += m.aliases;
      total.directives += m.directives;
    };
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        add(field(sel, parent));
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        const type = sel.typeCondition ? schema.getType(sel.typeCondition.name.value) : parent;
        const m = type && isCompositeType(type) ? selectionSet(sel.selectionSet, type) : zero();
        m.directives += sel.directives?.length ?? 0;
        add(m);
      } else {
        const m = fragment(sel.name.value);
        add({ ...m, directives: m.directives + (sel.directives?.length ?? 0) });
      }
    }
    return total;
  };

  const field = (node: FieldNode, parent: GraphQLCompositeType): OperationMeasure => {
    const own = { aliases: node.alias ? 1 : 0, directives: node.directives?.length ?? 0 };
    if (node.name.value.startsWith("__")) return { depth: 0, ...own };
    const def = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[node.name.value] : undefined;
    if (!def) return { depth: 1, ...own };
    const named = getNamedType(def.type);
    const inner = node.selectionSet && isCompositeType(named) ? selectionSet(node.selectionSet, named) : zero();
    return { depth: 1 + inner.depth, aliases: own.aliases + inner.aliases, directives: own.directives + inner.directives };
  };

  const root =
    operation.operation === "query" ? schema.getQueryType() : operation.operation === "mutation" ? schema.getMutationType() : schema.getSubscriptionType();
  const m = root ? selectionSet(operation.selectionSet, root) : zero();
  m.directives += operation.directives?.length ?? 0;
  return m;
}

/** How many list levels wrap a type (`[[X]]` is 2). */
function listLevels(type: GraphQLType): number {
  let lists = 0;
  for (let t: GraphQLType = type; ; ) {
    if (isNonNullType(t)) t = getNullableType(t);
    else if (isListType(t)) {
      lists++;
      t = t.ofType;
    } else return lists;
  }
}

/** A Relay connection type: its `edges`/`nodes` hold the page its field's `first`/`last` asks for. */
const isConnection = (type: GraphQLType): boolean =>
  isObjectType(type) && type.name.endsWith("Connection") && "pageInfo" in type.getFields() && ("edges" in type.getFields() || "nodes" in type.getFields());

/** The page size a field's arguments ask for: a number given, or undefined when absent or a variable without a value. */
function pageArg(args: Record<string, unknown>): number | undefined {
  for (const name of PAGE_SIZE_ARGS) if (typeof args[name] === "number") return Math.max(0, args[name]);
  return undefined;
}

/**
 * Per-field cost for graphql-query-complexity, an upper estimate of the objects a response holds: 1 per object (or
 * interface/union) field, leaves and `__*` free, times the number of items of every enclosing list.
 * - A connection field (`certificates(first: 100)`) multiplies what it holds by its page: `first`/`last`, or
 *   {@link DEFAULT_PAGE_SIZE} when neither is given, {@link ASSUMED_PAGE_SIZE} when it is a variable without a
 *   value; its `edges`/`nodes` lists are that page, and its `pageInfo` is metadata, free.
 * - Another list field: its page-size argument, else the length of the list it is given (`nodes(ids: [...])`), else
 *   {@link ASSUMED_LIST_SIZE} per list level.
 */
export const listAwareEstimator: ComplexityEstimator = ({ type, field, node, args, childComplexity }) => {
  if (field.name.startsWith("__")) return 0;
  const named = getNamedType(field.type);
  if (isLeafType(named)) return 0;
  if (named.name === "PageInfo" && isConnection(type)) return 0;
  const pageVariable = node.arguments?.some((a) => PAGE_SIZE_ARGS.includes(a.name.value) && a.value.kind === Kind.VARIABLE);
  if (isConnection(named)) {
    const page = pageArg(args) ?? (pageVariable ? ASSUMED_PAGE_SIZE : DEFAULT_PAGE_SIZE);
    return 1 + page * childComplexity;
  }
  const lists = listLevels(field.type);
  if (!lists) return 1 + childComplexity;
  // The page is counted once, on the connection field that holds it.
  if (isConnection(type) && (field.name === "edges" || field.name === "nodes")) return 1 + childComplexity;
  const hasPageArg = field.args.some((a) => PAGE_SIZE_ARGS.includes(a.name));
  const listArg = field.args.find((a) => isListType(getNullableType(a.type)) && Array.isArray(args[a.name]));
  const size = hasPageArg
    ? (pageArg(args) ?? ASSUMED_PAGE_SIZE)
    : listArg
      ? (args[listArg.name] as unknown[]).length
      : ASSUMED_LIST_SIZE ** lists;
  return size * (1 + childComplexity);
};

/**
 * The cost of the operation a request runs (see {@link listAwareEstimator}), with its variables; `Infinity` when
 * fragments expand to more than {@link MAX_COST_NODES} fields, which no page of this API needs.
 */
export function queryCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName?: string | null,
  variables: Record<string, unknown> = {},
): number {
  try {
    return getComplexity({ schema, query: document, variables, operationName: operationName ?? undefined, estimators: [listAwareEstimator], maxQueryNodes: MAX_COST_NODES });
  } catch (err) {
    if (err instanceof GraphQLError && /maximum allowed number of nodes/.test(err.message)) return Infinity;
    // Variables that do not fit their types: execution refuses them before anything runs, with its own 400 and
    // the field at fault, which an error thrown from here would replace with a bare 200.
    if (err instanceof GraphQLError) return 0;
    throw err;
  }
}

/**
 * A document's cost without variables, kept with the parsed document (Yoga parses a query text once and hands the
 * same document to every request that sends it): walking the ~20 fields of a dashboard's page again on every
 * request was a few percent of its CPU time. With variables the cost depends on their values and is computed
 * each time.
 */
const costs = new WeakMap<DocumentNode, { schema: GraphQLSchema; byOperation: Map<string, number> }>();

function cachedCost(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined, variables: Record<string, unknown>): number {
  for (const _ in variables) return queryCost(schema, document, operationName, variables);
  let entry = costs.get(document);
  if (!entry || entry.schema !== schema) costs.set(document, (entry = { schema, byOperation: new Map() }));
  const name = operationName ?? "";
  let cost = entry.byOperation.get(name);
  if (cost === undefined) entry.byOperation.set(name, (cost = queryCost(schema, document, operationName, variables)));
  return cost;
}

/** Validation rule: depth, aliases and directives of every operation; introspection when it is off. */
export function queryLimitsRule(limits: QueryLimits): ValidationRule {
  return (context) => ({
    Document(document) {
      for (const def of document.definitions) {
        if (def.kind !== Kind.OPERATION_DEFINITION) continue;
        const m = measureOperation(context.getSchema(), document, def);
        const name = def.name ? ` "${def.name.value}"` : "";
        if (m.depth > limits.maxDepth) {
          context.reportError(limitError("MAX_DEPTH_EXCEEDED", `Operation${name} is ${m.depth} fields deep; at most ${limits.maxDepth} allowed`, { depth: m.depth, maxDepth: limits.maxDepth }));
        }
        if (m.aliases > limits.maxAliases) {
          context.reportError(limitError("MAX_ALIASES_EXCEEDED", `Operation${name} has ${m.aliases} aliases; at most ${limits.maxAliases} allowed`, { aliases: m.aliases, maxAliases: limits.maxAliases }));
        }
        if (m.directives > limits.maxDirectives) {
          context.reportError(limitError("MAX_DIRECTIVES_EXCEEDED", `Operation${name} has ${m.directives} directives; at most ${limits.maxDirectives} allowed`, { directives: m.directives, maxDirectives: limits.maxDirectives }));
        }
      }
    },
    Field(node) {
      if (!limits.introspection && (node.name.value === "__schema" || node.name.value === "__type")) {
        context.reportError(limitError("INTROSPECTION_DISABLED", "Introspection is disabled on this server", {}));
      }
    },
  });
}

/** Counts the document's lexical tokens, stopping at `max + 1`; a syntax error leaves the count to the parser. */
export function countTokens(query: string, max: number): number {
  const lexer = new Lexer(new Source(query));
  let n = 0;
  try {
    while (lexer.advance().kind !== TokenKind.EOF && n <= max) n++;
  } catch {
    // The parser reports the syntax error.
  }
  return n;
}

/**
 * Yoga plugin applying {@link QueryLimits}: tokens before parsing, depth, aliases, directives and introspection while
 * validating, cost just before execution (when variable values are known).
 */
export function useQueryLimits(limits: QueryLimits): Plugin {
  const rule = queryLimitsRule(limits);
  const checkCost = (args: { schema: GraphQLSchema; document: DocumentNode; operationName?: string | null; variableValues?: Record<string, unknown> | null }) => {
    const cost = cachedCost(args.schema, args.document, args.operationName, args.variableValues ?? {});
    if (cost <= limits.maxCost) return undefined;
    const shown = Number.isFinite(cost) ? cost : `more than ${limits.maxCost}`;
    return limitError("MAX_COST_EXCEEDED", `Operation would return up to ${shown} objects; at most ${limits.maxCost} allowed. Ask for smaller pages.`, {
      cost: Number.isFinite(cost) ? cost : null,
      maxCost: limits.maxCost,
    });
  };
  return {
    onParams({ params, setResult }) {
      if (typeof params.query !== "string") return;
      const tokens = countTokens(params.query, limits.maxTokens);
      if (tokens > limits.maxTokens) {
        setResult({ errors: [limitError("MAX_TOKENS_EXCEEDED", `Document has more than ${limits.maxTokens} tokens`, { maxTokens: limits.maxTokens })] });
      }
    },
    onValidate({ addValidationRule }) {
      addValidationRule(rule);
    },
    onExecute({ args, setResultAndStopExecution }) {
      const error = checkCost(args);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const error = checkCost(args);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
  };
}
