import type { IssuerConfig, SolventConfig } from "../../core/config/schema.js";
import type { Env } from "../env.js";

/**
 * Hono environment shared by every sub-app. `config` is set once per request
 * by app.ts; `adminIssuer` once admin auth has accepted the token for it.
 */
export interface AppEnv {
  Bindings: Env;
  Variables: { config: SolventConfig; adminIssuer: string };
}

/** What the knownIssuer middleware adds: a route that declares it reads `c.var.issuer`, and only such a route. */
export interface IssuerEnv {
  Bindings: Env;
  Variables: { config: SolventConfig; adminIssuer: string; issuer: IssuerConfig };
}
