import type { Context, MiddlewareHandler } from "hono";
import { bytesEqual } from "../../core/bytes.js";
import type { SolventConfig } from "../../core/config/schema.js";
import { echo } from "../../core/errors.js";
import { adminCredentials, issuerAdminTokens } from "../config/secrets.js";
import type { Env } from "../env.js";
import type { AppEnv } from "./context.js";
import { ApiError } from "./errors.js";

/**
 * The tokens that may administer `issuerId`: the deployment-wide ADMIN_TOKEN
 * and that issuer's own entry of ADMIN_TOKENS (never another issuer's), as
 * parsed and checked by worker/config/secrets.ts. Tokens that /health calls
 * invalid authenticate no one: the route answers 503 naming the problem.
 */
export function adminTokensFor(
  env: Pick<Env, "ADMIN_TOKEN" | "ADMIN_TOKENS">,
  config: SolventConfig | null,
  issuerId: string,
): { configured: boolean; tokens: string[] } {
  const admin = adminCredentials(env, config);
  if (!admin.ok) {
    throw new ApiError(
      "MISCONFIGURED",
      `misconfigured secrets: ${admin.problems.map((p) => p.problem).join("; ")}; admin routes are closed until it is fixed`,
      {
        secrets: [...new Set(admin.problems.map((p) => p.secret))],
      },
    );
  }
  return issuerAdminTokens(admin, issuerId);
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
 * Checks `Authorization: Bearer <token>` for `issuerId` against ADMIN_TOKEN or
 * ADMIN_TOKENS[issuer]. Missing → 401 (with `WWW-Authenticate: Bearer`),
 * wrong → 403, nothing configured or a token that breaks its rule (README
 * "Secrets") → 503. Tokens are never logged.
 */
export async function authenticateAdmin(
  c: Context<AppEnv>,
  issuerId: string,
  config: SolventConfig | null,
): Promise<void> {
  const { configured, tokens } = adminTokensFor(c.env, config, issuerId);
  if (!configured) throw new ApiError("MISCONFIGURED", "no admin token is configured for this deployment");
  const presented = bearerToken(c.req.header("Authorization"));
  if (presented === null) {
    c.header("WWW-Authenticate", 'Bearer realm="solvent-admin"');
    throw new ApiError("UNAUTHORIZED", "admin routes need an Authorization: Bearer token");
  }
  if (!(await tokenMatches(presented, tokens))) {
    throw new ApiError("FORBIDDEN", `the token is not valid for issuer "${echo(issuerId)}"`);
  }
  c.set("adminIssuer", issuerId);
}

/**
 * Guards `/v1/admin/issuers/:issuer/*` (see authenticateAdmin); mounted once
 * on the admin sub-app (worker/api/adminApi.ts). A request it already
 * accepted for this issuer is not checked twice.
 */
export const adminAuth: MiddlewareHandler<AppEnv> = async (c, next) => {
  const issuerId = c.req.param("issuer") ?? "";
  if (c.var.adminIssuer !== issuerId) await authenticateAdmin(c, issuerId, c.var.config ?? null);
  await next();
};
