import { createRoute } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { echo } from "../../core/errors.js";
import { DEFAULT_MIN_RATIO_BPS, gateReasons, noAttestationReason, unknownIssuerReason } from "../../core/gatePolicy.js";
import { latestAttestation, type StoredAttestation } from "../storage/attestationStore.js";
import type { AppEnv } from "./context.js";
import { ApiError } from "./errors.js";
import { GateAnswer, GateQuery, gateAnswerJson } from "./gateSchemas.js";
import { NO_STORE, publicApi } from "./openapi.js";
import { commonErrors, errorResponse, IssuerParams } from "./schemas.js";

const noStore: MiddlewareHandler<AppEnv> = async (c, next) => {
  c.header("Cache-Control", NO_STORE);
  await next();
};

/**
 * SPEC §10 `GET /v1/issuers/{issuer}/gate`: may a lending market accept the
 * issuer's token right now? Fails closed: an unknown issuer or a missing
 * attestation is `allow: false` with a reason, a storage failure is 503, and
 * nothing but a fresh, valid attestation meeting every criterion allows.
 */
export const gateRoutes = publicApi();

gateRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/issuers/{issuer}/gate",
    middleware: [noStore] as const,
    tags: ["integration"],
    summary: "Lending gate",
    description:
      "Decides whether the issuer's latest attestation meets the caller's criteria now. `allow` is true only when an attestation exists, " +
      "now <= validUntil, now - observedAt <= maxAgeSeconds, ratioBps >= minRatioBps and none of denyFlags is set. Every failed condition is " +
      "listed in `reasons`. An unknown issuer or one without attestations is answered 200 with `allow: false`; any status other than 200 " +
      "never means allow. The answer depends on the clock: `Cache-Control: no-store`.",
    request: { params: IssuerParams, query: GateQuery },
    responses: {
      200: {
        description: "The decision, with the signed attestation it rests on.",
        headers: { "Cache-Control": { schema: { type: "string", example: NO_STORE }, description: NO_STORE } },
        content: { "application/json": { schema: GateAnswer } },
      },
      ...commonErrors,
      503: errorResponse("UNAVAILABLE: the attestation store could not be read; treat as not allowed."),
    },
  }),
  async (c) => {
    const { issuer: issuerId } = c.req.valid("param");
    const query = c.req.valid("query");
    const now = BigInt(Math.floor(Date.now() / 1000));
    const issuer = c.var.config.issuers.find((i) => i.id === issuerId);
    const minRatioBps = query.minRatioBps ?? DEFAULT_MIN_RATIO_BPS;
    const denyFlags = query.denyFlags ?? 0n;
    if (!issuer) {
      const criteria = { minRatioBps, maxAgeSeconds: query.maxAgeSeconds ?? null, denyFlags };
      // The id comes from the path: echoed bounded, never in full.
      return c.json(gateAnswerJson(echo(issuerId), now, criteria, null, [unknownIssuerReason(issuerId)]), 200);
    }
    const criteria = { minRatioBps, maxAgeSeconds: query.maxAgeSeconds ?? BigInt(issuer.policy.ttlSeconds), denyFlags };
    let stored: StoredAttestation | null;
    try {
      stored = await latestAttestation(c.env.DB, issuer.id);
    } catch (error) {
      console.error("gate: reading the latest attestation failed", issuer.id, error);
      throw new ApiError("UNAVAILABLE", "the attestation store could not be read; the gate does not allow", {
        allow: false,
      });
    }
    if (stored === null)
      return c.json(gateAnswerJson(issuer.id, now, criteria, null, [noAttestationReason(issuer.id)]), 200);
    return c.json(
      gateAnswerJson(issuer.id, now, criteria, stored, gateReasons(stored.attestation, criteria, now)),
      200,
    );
  },
);
