import type { IssuerConfig, SolventConfig } from "../../core/config/schema.js";
import type { Env } from "../env.js";

/**
 * Hono environment shared by every sub-app. `config` is set once per request
 * by app.ts; `issuer` by the knownIssuer middleware of routes under
 * `{issuer}`; `adminIssuer` once admin auth has accepted the token for it.
 */
export interface AppEnv {
  Bindings: Env;
  Variables: { config: SolventConfig; issuer: IssuerConfig; adminIssuer: string };
}
