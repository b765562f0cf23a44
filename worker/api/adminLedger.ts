import { Hono } from "hono";
import { ledgerStatus, putLedger, storedTreeObject, uploadShape, type LedgerIntakeOptions } from "../ledger/ledgerIntake.js";
import { adminAuth } from "./adminAuth.js";
import type { AppEnv } from "./context.js";
import { ApiError } from "./errors.js";
import { answerLedgerError, bodyFormat, configuredLedger, requestedAsOf, requestedUnits, statusUrl, uploadBody } from "./ledgerRequest.js";

export type AdminLedgerOptions = LedgerIntakeOptions;

/**
 * Ledger upload and status, behind adminAuth (workflows: worker/ledger/ledgerIntake.ts). Mounted at `/`.
 * `PUT /v1/admin/issuers/:issuer/ledger` streams and validates the body; a
 * ledger of at most `syncRowLimit` rows is built in the request (201), a
 * larger one is spooled to R2 and built by the queue consumer (202).
 */
export function createAdminLedger(options: AdminLedgerOptions = {}): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.onError(answerLedgerError);

  app.put("/v1/admin/issuers/:issuer/ledger", adminAuth, async (c) => {
    const target = configuredLedger(c);
    const upload = { format: bodyFormat(c), units: requestedUnits(c) ?? "decimal", asOf: requestedAsOf(c), ...uploadBody(c) };
    const result = await putLedger(c.env, target, upload, options);
    return c.json({ ...result, statusUrl: statusUrl(c, target.issuerId, result.ledgerId) }, result.status === "building" ? 202 : 201);
  });

  // What an upload must look like: the ledger assets in order, each with the decimals its amounts are written in.
  app.get("/v1/admin/issuers/:issuer/ledger", adminAuth, (c) => {
    c.header("Cache-Control", "no-store");
    return c.json(uploadShape(configuredLedger(c)));
  });

  app.get("/v1/admin/issuers/:issuer/ledgers/:ledgerId", adminAuth, async (c) => {
    const status = await ledgerStatus(c.env, c.req.param("issuer"), c.req.param("ledgerId"));
    c.header("Cache-Control", "no-store");
    return c.json({ ...status, statusUrl: statusUrl(c, status.issuer, status.ledgerId) });
  });

  // The stored tree of a complete ledger, for audits and re-computation: its manifest, and shard objects as stored.
  app.get("/v1/admin/issuers/:issuer/ledgers/:ledgerId/tree/manifest", adminAuth, async (c) => {
    const manifest = await storedTreeObject(c.env, c.req.param("issuer"), c.req.param("ledgerId"));
    return new Response(manifest.body, { headers: { "Content-Type": "application/json", "Cache-Control": "no-store" } });
  });
  app.get("/v1/admin/issuers/:issuer/ledgers/:ledgerId/tree/shards/:shard", adminAuth, async (c) => {
    const shard = c.req.param("shard");
    if (!/^(0|[1-9][0-9]{0,8})$/.test(shard)) throw new ApiError(400, "INVALID_PARAMETER", "shard must be a shard number", { field: "shard" });
    const object = await storedTreeObject(c.env, c.req.param("issuer"), c.req.param("ledgerId"), Number(shard));
    return new Response(object.body, {
      headers: { "Content-Type": "application/octet-stream", "Content-Length": String(object.size), "Cache-Control": "no-store" },
    });
  });

  return app;
}

/** The routes with the default limits. */
export const adminLedger = createAdminLedger();
