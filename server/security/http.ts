import { getOperationAST, GraphQLError, type DocumentNode } from "graphql";
import type { Plugin } from "graphql-yoga";

/**
 * Headers that prove a request was preflighted: a browser sends none of them cross-site without asking the server
 * first (CORS), so a request carrying one cannot be a cross-site forgery.
 */
export const CSRF_HEADERS = ["x-graphql-csrf", "apollo-require-preflight", "x-apollo-operation-name", "x-graphql-yoga-csrf"] as const;

/** Content types an HTML form or a `no-cors` fetch may send cross-site without a preflight. */
const SIMPLE_CONTENT_TYPES = new Set(["application/x-www-form-urlencoded", "multipart/form-data", "text/plain"]);
const MIME = /^[!#$%&'*+.^_`|~0-9a-z-]+\/[!#$%&'*+.^_`|~0-9a-z-]+$/;

function httpError(code: string, message: string, status: number, headers?: Record<string, string>): GraphQLError {
  return new GraphQLError(message, { extensions: { code, http: { status, ...(headers ? { headers } : {}) } } });
}

/**
 * True when a browser would have preflighted the request: it has a content type other than the three simple ones, or
 * one of {@link CSRF_HEADERS}. GET requests carry no content type, so they need the header, as in Apollo Server's
 * `csrfPrevention`.
 */
export function isPreflighted(headers: Headers): boolean {
  const contentType = headers.get("content-type");
  if (contentType !== null) {
    const mime = contentType.split(";")[0]!.trim().toLowerCase();
    // An unparseable type may be read as text/plain by a browser: it proves nothing.
    if (MIME.test(mime) && !SIMPLE_CONTENT_TYPES.has(mime)) return true;
  }
  return CSRF_HEADERS.some((h) => !!headers.get(h));
}

/**
 * Yoga plugin for the GraphQL-over-HTTP edges Yoga leaves open or answers without a GraphQL error:
 * - CSRF prevention: a request a browser could send cross-site without a preflight is refused (400 CSRF_PREVENTED);
 * - a POST body of an unsupported content type: 415 UNSUPPORTED_MEDIA_TYPE (Yoga answers an empty 415);
 * - a batched (array) body: 400 BATCHING_NOT_SUPPORTED; a body without `query`: 400 BAD_REQUEST;
 * - a mutation over GET: 405 METHOD_NOT_ALLOWED with `Allow: POST`.
 */
export function useHttpGuards(): Plugin {
  return {
    onRequestParse({ request, requestParser }) {
      if (!isPreflighted(request.headers)) {
        throw httpError(
          "CSRF_PREVENTED",
          `This request could have been sent cross-site by a browser: send it with Content-Type: application/json, or with a non-empty \`${CSRF_HEADERS[0]}\` header`,
          400,
        );
      }
      if (request.method === "POST" && !requestParser) {
        throw httpError(
          "UNSUPPORTED_MEDIA_TYPE",
          `Unsupported Content-Type "${request.headers.get("content-type") ?? ""}": send application/json`,
          415,
        );
      }
      return {
        onRequestParseDone({ requestParserResult }) {
          if (Array.isArray(requestParserResult)) {
            throw httpError("BATCHING_NOT_SUPPORTED", "Batched requests are not supported: send one operation per request", 400);
          }
          // Not a well-formed GraphQL-over-HTTP request: 400 whatever the client accepts (Yoga answers 200 to application/json).
          if (requestParserResult && typeof requestParserResult === "object" && requestParserResult.query == null) {
            throw httpError("BAD_REQUEST", "Must provide a query string", 400);
          }
        },
      };
    },
    onParse({ context }) {
      const { request, params } = context as { request?: Request; params?: { operationName?: string } };
      return ({ result }) => {
        if (request?.method !== "GET" || result instanceof Error || !result) return;
        const operation = getOperationAST(result as DocumentNode, params?.operationName);
        if (operation?.operation === "mutation") {
          throw httpError("METHOD_NOT_ALLOWED", "Mutations are only accepted over POST", 405, { Allow: "POST" });
        }
      };
    },
  };
}
