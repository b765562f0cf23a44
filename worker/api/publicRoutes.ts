import { OpenAPIHono } from "@hono/zod-openapi";
import { coverageRoutes } from "../coverage/coverageRoutes.js";
import { adapterRoutes } from "./adapterRoutes.js";
import { alertRoutes } from "./alertRoutes.js";
import { attestationHistoryRoute } from "./attestationHistoryRoute.js";
import { attestationRoute } from "./attestationRoute.js";
import type { AppEnv } from "./context.js";
import { disputeRoutes } from "./disputeRoutes.js";
import { feedRoutes } from "./feedRoutes.js";
import { gateRoutes } from "./gateRoutes.js";
import { issuerListRoute } from "./issuerListRoute.js";
import { keysRoute } from "./keysRoute.js";
import { latestAttestationRoute } from "./latestAttestationRoute.js";
import { ledgerHistoryRoutes } from "./ledgerHistoryRoutes.js";
import { parameterHook } from "./openapi.js";
import { proofRoutes } from "./proofRoutes.js";
import { relayerRoutes } from "./relayerRoutes.js";
import { reportRoute } from "./reportRoute.js";

export { MAX_RANGE } from "./attestationHistoryRoute.js";
export { noAttestation } from "./errors.js";
export { configuredIssuer } from "./issuer.js";
export { IMMUTABLE_CACHE, SHORT_CACHE } from "./openapi.js";
export { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from "./schemas.js";

/**
 * Every public route, one file each (README "Adding a route"): public,
 * CORS-open (app.ts), rate-limited and edge-cached by path. `latest` comes
 * before `{sequence}`, which would also match it.
 */
export const publicRoutes = new OpenAPIHono<AppEnv>({ defaultHook: parameterHook });
publicRoutes.route("/", issuerListRoute);
publicRoutes.route("/", latestAttestationRoute);
publicRoutes.route("/", attestationRoute);
publicRoutes.route("/", attestationHistoryRoute);
publicRoutes.route("/", reportRoute);
publicRoutes.route("/", proofRoutes);
publicRoutes.route("/", ledgerHistoryRoutes);
publicRoutes.route("/", disputeRoutes);
publicRoutes.route("/", coverageRoutes);
publicRoutes.route("/", gateRoutes);
publicRoutes.route("/", feedRoutes);
publicRoutes.route("/", adapterRoutes);
publicRoutes.route("/", relayerRoutes);
publicRoutes.route("/", alertRoutes);
publicRoutes.route("/", keysRoute);
