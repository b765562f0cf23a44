import { Hono } from "hono";
import { echo } from "../../core/errors.js";
import { checkEnvOnce } from "../config/secrets.js";
import { publisherFor } from "../publisher/issuerPublisher.js";
import { adminAuth } from "./adminAuth.js";
import { forgetMovingAnswers } from "./edgeCache.js";
import type { AppEnv } from "./context.js";
import { ApiError } from "./errors.js";

/**
 * `POST /v1/admin/issuers/:issuer/publish` runs the same tick as the cron,
 * now, through the issuer's publisher object; `GET …/publisher` shows the
 * last attempt and its outcome.
 */
export const adminPublish = new Hono<AppEnv>();

function knownIssuer(c: { var: AppEnv["Variables"] }, issuer: string): string {
  if (!c.var.config.issuers.some((i) => i.id === issuer)) throw new ApiError(404, "UNKNOWN_ISSUER", `issuer "${echo(issuer)}" is not configured`);
  return issuer;
}

adminPublish.post("/v1/admin/issuers/:issuer/publish", adminAuth, async (c) => {
  const issuer = knownIssuer(c, c.req.param("issuer"));
  // A key that cannot sign refuses here with the sentence GET /health lists (and publishTick would give).
  const keyProblem = checkEnvOnce(c.env, c.var.config).problems.find((p) => p.secret === "SIGNING_KEY");
  if (keyProblem) throw new ApiError(503, "MISCONFIGURED", keyProblem.problem, { secret: keyProblem.secret });
  const outcome = await publisherFor(c.env, issuer).publish(issuer);
  if (outcome.published) {
    // This location's cached latest, feed and lists make way for the new attestation now.
    await forgetMovingAnswers(new URL(c.req.url).origin, issuer);
    return c.json(outcome, 201);
  }
  const status = outcome.code === "SEQUENCE_TAKEN" ? 409 : outcome.code === "MISCONFIGURED" ? 503 : 422;
  return c.json({ error: { code: outcome.code, message: outcome.reason } }, status);
});

adminPublish.get("/v1/admin/issuers/:issuer/publisher", adminAuth, async (c) => {
  const issuer = knownIssuer(c, c.req.param("issuer"));
  return c.json(await publisherFor(c.env, issuer).status());
});
