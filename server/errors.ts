import { GraphQLError } from "graphql";
import { OperationError } from "../core/operations/errors.ts";

/** Expected failures become GraphQL errors carrying a stable `extensions.code`; anything else is masked by Yoga. */
export async function withOperationErrors<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof OperationError) {
      throw new GraphQLError(err.message, { extensions: { code: err.code, ...(err.field ? { field: err.field } : {}), ...err.details } });
    }
    throw err;
  }
}

export function notFound(what: string): GraphQLError {
  return new GraphQLError(`${what} not found`, { extensions: { code: "NOT_FOUND" } });
}
