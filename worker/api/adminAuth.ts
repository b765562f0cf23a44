import type { MiddlewareHandler } from "hono";
import { echo } from "../../core/errors.js";
import { bytesEqual } from "../../core/bytes.js";
import type { Env } from "../env.js";
import type { AppEnv } from "./context.js";
import { ApiError } from "./errors.js";

/**
 * The tokens that may administer `issuerId`: the deployment-wide ADMIN_TOKEN
 * and that issuer's own entry of ADMIN_TOKENS (never another issuer's).
 * `configured` is false when the deployment has no admin token at all.
 */
export function adminTokensFor(env: Pick<Env, "ADMIN_TOKEN" | "ADMIN_TOKENS">, issuerId: string): { configured: boolean; tokens: string[] } {
  const tokens: string[] = [];
  let configured = false;
  if (typeof env.ADMIN_TOKEN === "string" && env.ADMIN_TOKEN !== "") {
    configured = true;
    tokens.push(env.ADMIN_TOKEN);
  }
  if (typeof env.ADMIN_TOKENS === "string" && env.ADMIN_TOKENS.trim() !== "") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(env.ADMIN_TOKENS);
    } catch {
      // The text is a secret: never echo it.
      throw new ApiError(503, "MISCONFIGURED", "ADMIN_TOKENS is not a JSON object of issuer ids to tokens");
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new ApiError(503, "MISCONFIGURED", "ADMIN_TOKENS is not a JSON object of issuer ids to tokens");
    }
    const entries = parsed as Record<string, unknown>;
    for (const value of Object.values(entries)) if (typeof value === "string" && value !== "") configured = true;
    const own = Object.hasOwn(entries, issuerId) ? entries[issuerId] : undefined;
    if (typeof own === "string" && own !== "") tokens.push(own);
  }
  return { configured, tokens };
}

// A per-isolate random HMAC key: comparing HMACs of equal length hides both
// the content and the length of the configured tokens from timing.
let macKey: Promise<CryptoKey> | undefined;
function hmacKey(): Promise<CryptoKey> {
  macKey ??= crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, ["sign"]) as Promise<CryptoKey>;
  return macKey;
}

const encoder = new TextEncoder();

async function mac(key: CryptoKey, text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(text)));
}

/** Whether `presented` equals one of `tokens`, in time independent of where (or whether) they differ. */
export async function tokenMatches(presented: string, tokens: readonly string[]): Promise<boolean> {
  const key = await hmacKey();
  const presentedMac = await mac(key, presented);
  let match = false;
  // Every candidate is compared; no early exit.
  for (const token of tokens) match = bytesEqual(presentedMac, await mac(key, token)) || match;
  return match;
}

function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer[ ]+([^\s]+)\s*$/i.exec(header ?? "");
  return match?.[1] ?? null;
}

/**
 * Guards `/v1/admin/issuers/:issuer/*`: `Authorization: Bearer <token>` with
 * ADMIN_TOKEN or ADMIN_TOKENS[issuer]. Missing → 401 (with
 * `WWW-Authenticate: Bearer`), wrong → 403, nothing configured → 503.
 * Tokens are never logged.
 */
export const adminAuth: MiddlewareHandler<AppEnv> = async (c, next) => {
  const issuerId = c.req.param("issuer") ?? "";
  const { configured, tokens } = adminTokensFor(c.env, issuerId);
  if (!configured) throw new ApiError(503, "MISCONFIGURED", "no admin token is configured for this deployment");
  const presented = bearerToken(c.req.header("Authorization"));
  if (presented === null) {
    c.header("WWW-Authenticate", 'Bearer realm="solvent-admin"');
    throw new ApiError(401, "UNAUTHORIZED", "admin routes need an Authorization: Bearer token");
  }
  if (!(await tokenMatches(presented, tokens))) {
    throw new ApiError(403, "FORBIDDEN", `the token is not valid for issuer "${echo(issuerId)}"`);
  }
  await next();
};
