import { Hono } from "hono";
import { recentRelayAttempts } from "../relayer/relayStore.js";
import type { AppEnv } from "./context.js";
import { ApiError } from "./errors.js";

/**
 * `GET /v1/issuers/:issuer/relayer`: whether attestations are relayed on-chain
 * for this issuer, where to, and the latest attempts with their outcome.
 */
export const relayerRoutes = new Hono<AppEnv>();

relayerRoutes.get("/v1/issuers/:issuer/relayer", async (c) => {
  const issuerId = c.req.param("issuer");
  const issuer = c.var.config.issuers.find((i) => i.id === issuerId);
  if (!issuer) throw new ApiError(404, "UNKNOWN_ISSUER", `issuer "${issuerId.slice(0, 80)}" is not configured`);
  c.header("Cache-Control", "public, max-age=15");
  c.header("Access-Control-Allow-Origin", "*");
  if (!issuer.relayer) return c.json({ issuer: issuerId, configured: false, attempts: [] });
  const attempts = await recentRelayAttempts(c.env.DB, issuerId);
  return c.json({
    issuer: issuerId,
    configured: true,
    chainId: issuer.relayer.chainId,
    oracle: issuer.relayer.oracle,
    heartbeatSeconds: issuer.relayer.heartbeatSeconds,
    lastSubmitted: attempts.find((a) => a.status === "submitted")?.sequence.toString() ?? null,
    attempts: attempts.map((a) => ({
      sequence: a.sequence.toString(),
      attempt: a.attempt,
      status: a.status,
      txHash: a.txHash,
      gasUsed: a.gasUsed?.toString() ?? null,
      reason: a.reason,
      at: a.at,
    })),
  });
});
