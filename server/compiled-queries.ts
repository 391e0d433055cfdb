import { useGraphQlJit } from "@envelop/graphql-jit";
import { getOperationAST, getVariableValues, type ExecutionArgs } from "graphql";
import type { Plugin } from "graphql-yoga";

/**
 * Queries run as compiled JavaScript (graphql-jit), each document compiled once and kept with Yoga's parsed
 * document: a page of 100 certificates resolves about 1,500 fields, and the generic executor's per-field work
 * (field lookup, argument coercion, promise bookkeeping) was the largest part of its CPU time.
 *
 * Only queries whose variables are valid are compiled. graphql-js then answers everything else exactly as before:
 * mutations (result unions, idempotency, their input errors) and subscriptions (their event stream), and a query
 * with variables that do not fit their types, so its error message and `BAD_USER_INPUT` code
 * (`./security/variables.ts`) stay those of graphql-js rather than graphql-jit's own wording.
 */
export function useCompiledQueries(): Plugin {
  return useGraphQlJit(
    {},
    {
      enableIf: (args: ExecutionArgs) => {
        const operation = getOperationAST(args.document, args.operationName);
        if (operation?.operation !== "query") return false;
        if (!operation.variableDefinitions?.length) return true;
        const coerced = getVariableValues(args.schema, operation.variableDefinitions, args.variableValues ?? {}, { maxErrors: 1 });
        return !coerced.errors;
      },
    },
  ) as Plugin;
}
