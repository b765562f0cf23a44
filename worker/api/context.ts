import type { SolventConfig } from "../../core/config/schema.js";
import type { Env } from "../env.js";

/** Hono environment shared by every sub-app. `config` is set once per request by app.ts. */
export interface AppEnv {
  Bindings: Env;
  Variables: { config: SolventConfig };
}
