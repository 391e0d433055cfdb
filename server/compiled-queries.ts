import { useGraphQlJit } from "@envelop/graphql-jit";
import { getOperationAST, getVariableValues, GraphQLError, type DocumentNode, type ExecutionArgs, type ExecutionResult, type SourceLocation } from "graphql";
import type { Plugin } from "graphql-yoga";

/**
 * Queries run as compiled JavaScript (graphql-jit), each document compiled once and kept with Yoga's parsed
 * document: a page of 100 certificates resolves about 1,500 fields, and the generic executor's per-field work
 * (field lookup, argument coercion, promise bookkeeping) was the largest single part of its CPU time.
 *
 * Only queries whose variables are valid are compiled. graphql-js answers everything else exactly as before:
 * mutations (result unions, idempotency, their input errors) and subscriptions (their event stream), and a query
 * with variables that do not fit their types, so its error message and `BAD_USER_INPUT` code
 * (`./security/variables.ts`) stay those of graphql-js rather than graphql-jit's own wording.
 */
export function useCompiledQueries(): Plugin {
  const jit = useGraphQlJit({}, { enableIf: runsCompiled }) as Plugin;
  return {
    onExecute: (payload) =>
      jit.onExecute!({
        ...payload,
        setExecuteFn: (execute) =>
          payload.setExecuteFn(async (args) => withLocatedErrors((await execute(args)) as ExecutionResult, args.document)),
      }),
  };
}

/** A query whose variables fit their types; anything else runs on graphql-js. */
export function runsCompiled(args: ExecutionArgs): boolean {
  const operation = getOperationAST(args.document, args.operationName);
  if (operation?.operation !== "query") return false;
  if (!operation.variableDefinitions?.length) return true;
  return !getVariableValues(args.schema, operation.variableDefinitions, args.variableValues ?? {}, { maxErrors: 1 }).errors;
}

/**
 * graphql-jit's field errors carry `locations` but not the source positions Yoga serializes them from, so they
 * would reach the client without `locations`; they are made again as graphql-js makes them (same message, path,
 * extensions and original error, for the error masking), located in the document's source.
 */
function withLocatedErrors(result: ExecutionResult, document: DocumentNode): ExecutionResult {
  const source = document.loc?.source;
  if (!result.errors?.length || !source) return result;
  return {
    ...result,
    errors: result.errors.map((e) =>
      !e.nodes && !e.positions && e.locations?.length
        ? new GraphQLError(e.message, { source, positions: e.locations.map((l) => offsetOf(source.body, l)), path: e.path, originalError: e.originalError, extensions: e.extensions })
        : e,
    ),
  };
}

/** The character offset of a line and column (both from 1), with GraphQL's line terminators. */
function offsetOf(body: string, { line, column }: SourceLocation): number {
  const terminator = /\r\n|[\n\r]/g;
  let start = 0;
  for (let l = 1; l < line; l++) {
    const m = terminator.exec(body);
    if (!m) break;
    start = m.index + m[0].length;
  }
  return start + column - 1;
}
