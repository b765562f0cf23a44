import type { Context, MiddlewareHandler } from "hono";
import type { IssuerConfig } from "../../core/config/schema.js";
import { echo } from "../../core/errors.js";
import type { AppEnv } from "./context.js";
import { ApiError } from "./errors.js";

/** The configured issuer `id`, or 404 UNKNOWN_ISSUER naming it (bounded). */
export function configuredIssuer(c: Context<AppEnv>, id: string): IssuerConfig {
  const issuer = c.var.config.issuers.find((i) => i.id === id);
  if (!issuer) throw new ApiError("UNKNOWN_ISSUER", `issuer "${echo(id)}" is not published here`);
  return issuer;
}

/** Route middleware of every route under `{issuer}`: the issuer it names as `c.var.issuer`, or 404 UNKNOWN_ISSUER. */
export const knownIssuer: MiddlewareHandler<AppEnv> = async (c, next) => {
  c.set("issuer", configuredIssuer(c, c.req.param("issuer") ?? ""));
  await next();
};
