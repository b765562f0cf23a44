import { errorResponse } from "./schemas.js";

/** What every admin route declares: its tag and the bearer token it needs. */
export const ADMIN_ROUTE = { tags: ["admin"], security: [{ bearerAuth: [] }] };

/** The refusals every admin route can answer, before its own. */
export const adminErrors = {
  401: errorResponse("UNAUTHORIZED: no bearer token."),
  403: errorResponse("FORBIDDEN: the token is not valid for this issuer."),
  404: errorResponse("UNKNOWN_ISSUER or NOT_FOUND."),
  503: errorResponse("MISCONFIGURED: no admin token is configured."),
} as const;

/** The refusal of a request body that arrives too slowly (worker/api/bodyTimeout.ts). */
export const bodyTimeoutError = {
  408: errorResponse("REQUEST_TIMEOUT: the body arrived slower than 10 s plus 1 s per 16 KiB; nothing of it was kept."),
} as const;
