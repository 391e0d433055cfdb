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
  type GraphQLField,
  type GraphQLSchema,
  type GraphQLType,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationRule,
  type ValueNode,
} from "graphql";
import type { Plugin } from "graphql-yoga";

/** What one GraphQL request may ask for; see README "API limits and security". */
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

/** Arguments taken as the page size of a list field. */
const PAGE_SIZE_ARGS = ["first", "last", "limit", "take", "pageSize"];
/** A list field whose size is a variable or left to the server counts as a full page of this many items. */
export const ASSUMED_PAGE_SIZE = 100;
/** A list field without a page-size argument (a certificate's attributes, an institution's webhooks) counts as this many. */
export const ASSUMED_LIST_SIZE = 10;

/** A request refused by a limit: HTTP 400 whether the client accepts application/json or graphql-response+json. */
export function limitError(code: string, message: string, extra: Record<string, unknown> = {}): GraphQLError {
  // `spec: false` keeps Yoga from answering 200 to application/json clients, as it does for ordinary validation errors.
  return new GraphQLError(message, { extensions: { code, ...extra, http: { status: 400, spec: false } } });
}

export interface OperationMeasure {
  depth: number;
  cost: number;
  aliases: number;
  directives: number;
}

/**
 * Measures one operation, each fragment once (so a "fragment bomb" costs its size, not its expansion):
 * - depth: 1 for a root field, +1 per nested selection.
 * - cost: 1 per object (or interface/union) field, leaves free, multiplied by the size of every enclosing list:
 *   the literal `first`/`last`/`limit` argument, or {@link ASSUMED_PAGE_SIZE} when it is a variable without a value
 *   or absent, or {@link ASSUMED_LIST_SIZE} for a list with no such argument. An upper estimate of the objects returned.
 * - aliases and directives: counted as if fragments were inlined.
 * Fields named `__*` (introspection, `__typename`) count only their aliases and directives.
 */
export function measureOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> = {},
): OperationMeasure {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  const memo = new Map<string, OperationMeasure>();
  const inProgress = new Set<string>();
  const zero = (): OperationMeasure => ({ depth: 0, cost: 0, aliases: 0, directives: 0 });

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
      total.cost += m.cost;
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
    if (node.name.value.startsWith("__")) return { depth: 0, cost: 0, ...own };
    const def = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[node.name.value] : undefined;
    if (!def) return { depth: 1, cost: 0, ...own };
    const named = getNamedType(def.type);
    const inner = node.selectionSet && isCompositeType(named) ? selectionSet(node.selectionSet, named) : zero();
    const perItem = (isLeafType(named) ? 0 : 1) + inner.cost;
    return {
      depth: 1 + inner.depth,
      cost: perItem * listSize(def.type, node, def),
      aliases: own.aliases + inner.aliases,
      directives: own.directives + inner.directives,
    };
  };

  const listSize = (type: GraphQLType, node: FieldNode, def: GraphQLField<unknown, unknown>): number => {
    let lists = 0;
    for (let t: GraphQLType = type; ; ) {
      if (isNonNullType(t)) t = getNullableType(t);
      else if (isListType(t)) {
        lists++;
        t = t.ofType;
      } else break;
    }
    if (!lists) return 1;
    const sizeArg = def.args.find((a) => PAGE_SIZE_ARGS.includes(a.name));
    if (!sizeArg) return ASSUMED_LIST_SIZE ** lists;
    const given = node.arguments?.find((a) => a.name.value === sizeArg.name);
    const size = given ? intValue(given.value) : typeof sizeArg.defaultValue === "number" ? sizeArg.defaultValue : undefined;
    return Math.max(0, size ?? ASSUMED_PAGE_SIZE);
  };

  const intValue = (value: ValueNode): number | undefined => {
    if (value.kind === Kind.INT) return Number(value.value);
    if (value.kind === Kind.VARIABLE) {
      const v = variables[value.name.value];
      if (typeof v === "number") return v;
      const declared = operation.variableDefinitions?.find((d) => d.variable.name.value === value.name.value)?.defaultValue;
      return declared?.kind === Kind.INT ? Number(declared.value) : undefined;
    }
    return undefined;
  };

  const root =
    operation.operation === "query" ? schema.getQueryType() : operation.operation === "mutation" ? schema.getMutationType() : schema.getSubscriptionType();
  const m = root ? selectionSet(operation.selectionSet, root) : zero();
  m.directives += operation.directives?.length ?? 0;
  return m;
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
    const operation = args.document.definitions.find(
      (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION && (!args.operationName || d.name?.value === args.operationName),
    );
    if (!operation) return undefined;
    const { cost } = measureOperation(args.schema, args.document, operation, args.variableValues ?? {});
    if (cost <= limits.maxCost) return undefined;
    return limitError("MAX_COST_EXCEEDED", `Operation would return up to ${cost} objects; at most ${limits.maxCost} allowed. Ask for smaller pages.`, {
      cost,
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
