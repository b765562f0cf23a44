import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { checkEnvOnce } from "../config/secrets.js";
import { publisherFor } from "../publisher/issuerPublisher.js";
import { ADMIN_ROUTE, adminErrors } from "./adminRoute.js";
import type { AppEnv } from "./context.js";
import { forgetMovingAnswers } from "./edgeCache.js";
import { ApiError } from "./errors.js";
import { knownIssuer } from "./issuer.js";
import { parameterHook, requestOrigin } from "./openapi.js";
import { errorResponse, IssuerParams } from "./schemas.js";

const Published = z
  .object({ published: z.literal(true) })
  .passthrough()
  .openapi({ description: "`{ published: true, sequence, digest, ratioBps, flags }`" });
const PublisherStatus = z.object({}).passthrough().openapi({ description: "`{ lastAttemptAt, lastOutcome }`" });

/** `POST …/publish` runs the cron's tick now; `GET …/publisher` shows the last attempt and its outcome. */
export const adminPublish = new OpenAPIHono<AppEnv>({ defaultHook: parameterHook });

adminPublish.openapi(
  createRoute({
    ...ADMIN_ROUTE,
    method: "post",
    path: "/v1/admin/issuers/{issuer}/publish",
    middleware: [knownIssuer] as const,
    summary: "Publish now",
    description: "Runs the same tick as the cron for this issuer, now, through its publisher object.",
    request: { params: IssuerParams },
    responses: {
      201: { description: "Published.", content: { "application/json": { schema: Published } } },
      409: errorResponse("SEQUENCE_TAKEN: another publish took the sequence."),
      422: errorResponse("NOT_PUBLISHED: the snapshot could not be valued; nothing was published."),
      ...adminErrors,
    },
  }),
  async (c) => {
    // A key that cannot sign refuses here with the sentence GET /health lists (and publishTick would give).
    const keyProblem = checkEnvOnce(c.env, c.var.config).problems.find((p) => p.secret === "SIGNING_KEY");
    if (keyProblem) throw new ApiError("MISCONFIGURED", keyProblem.problem, { secret: keyProblem.secret });
    const outcome = await publisherFor(c.env, c.var.issuer.id).publish(c.var.issuer.id);
    if (!outcome.published) throw new ApiError(outcome.code, outcome.reason);
    // This location's cached latest, feed and lists make way for the new attestation now.
    await forgetMovingAnswers(requestOrigin(c), outcome.issuerId);
    return c.json(outcome, 201);
  },
);

adminPublish.openapi(
  createRoute({
    ...ADMIN_ROUTE,
    method: "get",
    path: "/v1/admin/issuers/{issuer}/publisher",
    middleware: [knownIssuer] as const,
    summary: "Publisher status",
    description: "The last publish attempt of this issuer and its outcome.",
    request: { params: IssuerParams },
    responses: {
      200: { description: "The status.", content: { "application/json": { schema: PublisherStatus } } },
      ...adminErrors,
    },
  }),
  async (c) => c.json(await publisherFor(c.env, c.var.issuer.id).status(), 200),
);
