import { GraphQLError, type ExecutionResult } from "graphql";
import type { Plugin } from "graphql-yoga";

/**
 * graphql-js answers a variable that does not fit its declared type (`Variable "$input" got invalid value …`)
 * with an error that carries no code. Such errors get BAD_USER_INPUT, as the API's own input errors do, so every
 * refusal of bad input has a stable `extensions.code`.
 */
export function useVariableErrorCodes(): Plugin {
  const withCodes = (result: ExecutionResult): ExecutionResult | undefined => {
    if (!result.errors?.some(uncodedVariableError)) return undefined;
    return {
      ...result,
      errors: result.errors.map((e) =>
        uncodedVariableError(e)
          ? new GraphQLError(e.message, { nodes: e.nodes, source: e.source, positions: e.positions, path: e.path, originalError: e.originalError, extensions: { ...e.extensions, code: "BAD_USER_INPUT" } })
          : e,
      ),
    };
  };
  return {
    onExecute: () => ({
      onExecuteDone: ({ result, setResult }) => {
        if (Symbol.asyncIterator in result) return;
        const coded = withCodes(result);
        if (coded) setResult(coded);
      },
    }),
    onSubscribe: () => ({
      onSubscribeResult: ({ result, setResult }) => {
        if (Symbol.asyncIterator in result) return;
        const coded = withCodes(result);
        if (coded) setResult(coded);
      },
    }),
  };
}

function uncodedVariableError(e: GraphQLError): boolean {
  return !e.path && !e.extensions?.code && /^Variable "\$[^"]+" /.test(e.message);
}
