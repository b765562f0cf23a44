import { createRoute, z } from "@hono/zod-openapi";
import { ALERT_EVENTS } from "../../core/config/alertsSchema.js";
import { alertPage } from "../alerts/alertStore.js";
import { destinationLabel } from "../alerts/destinations.js";
import { knownIssuer } from "./issuer.js";
import { publicApi, SHORT_CACHE } from "./openapi.js";
import {
  commonErrors,
  DEFAULT_PAGE_LIMIT,
  decimalParam,
  errorResponse,
  IssuerParams,
  MAX_PAGE_LIMIT,
} from "./schemas.js";

const Destination = {
  destination: z
    .number()
    .int()
    .nonnegative()
    .openapi({ description: "index in the issuer's alerts.destinations when the alert was queued", example: 0 }),
  kind: z.enum(["webhook", "slack", "discord"]),
  host: z
    .string()
    .openapi({ description: "the URL's host only: paths and queries may hold tokens", example: "hooks.slack.com" }),
};

const Delivery = z
  .object({
    ...Destination,
    status: z.enum(["queued", "delivered", "retrying", "failed"]).openapi({
      description:
        "queued: waiting in the queue; delivered: answered 2xx; retrying: failed, will be retried; failed: gave up (dead-lettered) or could not be queued",
    }),
    attempts: z.number().int().nonnegative().openapi({ description: "delivery attempts made so far" }),
    httpStatus: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "the destination's answer to the latest attempt", example: 200 }),
    reason: z.string().openapi({ example: "HTTP 200" }),
    at: z.number().int().openapi({ description: "unix seconds of the latest step", example: 1767225660 }),
  })
  .openapi("AlertDelivery");

const Alert = z
  .object({
    id: z.string().openapi({ example: "12" }),
    event: z.enum(ALERT_EVENTS),
    severity: z.enum(["info", "warning", "critical"]),
    title: z.string().openapi({ example: "demo-stable: UNPROVEN_OWNERSHIP raised" }),
    text: z.string(),
    sequence: z
      .string()
      .nullable()
      .openapi({ description: "the attestation the alert is about, if any", example: "42" }),
    createdAt: z.number().int().openapi({ example: 1767225600 }),
    details: z
      .record(z.string(), z.unknown())
      .openapi({ description: "event fields: flag, reason, thresholdBps, direction, validUntil …" }),
    deliveries: z.array(Delivery).openapi({ description: "one per destination the alert was queued for" }),
  })
  .openapi("Alert");

const AlertList = z
  .object({
    issuer: z.string().openapi({ example: "demo-stable" }),
    destinations: z.array(z.object(Destination)).openapi({ description: "the destinations configured now" }),
    alerts: z.array(Alert).openapi({ description: "newest first" }),
    nextBefore: z
      .string()
      .nullable()
      .openapi({ description: "pass as `before` for the next (older) page; null on the last page", example: "3" }),
  })
  .openapi("AlertList");

const AlertQuery = z.object({
  before: decimalParam({ min: 1n, max: BigInt(Number.MAX_SAFE_INTEGER) })
    .optional()
    .openapi({
      param: { name: "before", in: "query" },
      description: "Only alerts with a smaller id (the previous page's `nextBefore`).",
      example: "40",
    }),
  limit: decimalParam({ min: 1n, max: BigInt(MAX_PAGE_LIMIT) })
    .optional()
    .openapi({
      param: { name: "limit", in: "query" },
      description: `Page size, 1 to ${MAX_PAGE_LIMIT}. Default ${DEFAULT_PAGE_LIMIT}.`,
      example: "20",
    }),
});

/** `GET /v1/issuers/{issuer}/alerts`: every stored alert, newest first, with where it was delivered. Public like the other read routes. */
export const alertRoutes = publicApi();

alertRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/issuers/{issuer}/alerts",
    tags: ["alerts"],
    summary: "Alerts",
    description:
      "Every alert raised for the issuer (flag raised or cleared, ratio crossing a threshold, stale publisher, failed signing), newest first, with its delivery status per destination.",
    middleware: [knownIssuer] as const,
    request: { params: IssuerParams, query: AlertQuery },
    responses: {
      200: {
        description: "One page (empty when nothing was raised).",
        content: { "application/json": { schema: AlertList } },
      },
      404: errorResponse("UNKNOWN_ISSUER: the issuer is not configured here."),
      ...commonErrors,
    },
  }),
  async (c) => {
    const issuer = c.var.issuer;
    const { before, limit } = c.req.valid("query");
    const page = await alertPage(c.env.DB, issuer.id, {
      limit: limit === undefined ? DEFAULT_PAGE_LIMIT : Number(limit),
      ...(before === undefined ? {} : { before: Number(before) }),
    });
    c.header("Cache-Control", SHORT_CACHE);
    return c.json(
      {
        issuer: issuer.id,
        destinations: (issuer.alerts?.destinations ?? []).map((d, i) => ({ destination: i, ...destinationLabel(d) })),
        alerts: page.alerts.map((a) => ({
          id: String(a.id),
          event: a.event,
          severity: a.severity,
          title: a.title,
          text: a.text,
          sequence: a.sequence === null ? null : a.sequence.toString(),
          createdAt: a.createdAt,
          details: a.details,
          deliveries: a.deliveries,
        })),
        nextBefore: page.nextBefore === null ? null : String(page.nextBefore),
      },
      200,
    );
  },
);
