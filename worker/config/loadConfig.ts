import { ConfigError, parseConfig, parseConfigText } from "../../core/config/parseConfig.js";
import type { SolventConfig } from "../../core/config/schema.js";
import bundledConfig from "../../config/solvent.config.json";
import type { Env } from "../env.js";

let cached: { text: string | undefined; config: SolventConfig } | undefined;

/**
 * The deployment configuration: `SOLVENT_CONFIG` (JSON text, used by the local
 * demo and tests) when set, else the bundled config/solvent.config.json.
 * Parsed once per isolate; a bad configuration throws ConfigError naming
 * every bad field.
 */
export function loadConfig(env: Pick<Env, "SOLVENT_CONFIG">): SolventConfig {
  const text = typeof env.SOLVENT_CONFIG === "string" && env.SOLVENT_CONFIG !== "" ? env.SOLVENT_CONFIG : undefined;
  if (cached && cached.text === text) return cached.config;
  const config = text === undefined ? parseConfig(bundledConfig) : parseConfigText(text, "SOLVENT_CONFIG");
  cached = { text, config };
  return config;
}

export { ConfigError };
