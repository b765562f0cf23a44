import bundledConfig from "../../config/solvent.config.json";
import { ConfigError, parseConfig, parseConfigText } from "../../core/config/parseConfig.js";
import type { SolventConfig } from "../../core/config/schema.js";
import type { Env } from "../env.js";

/** The configuration of the deployment, or why it cannot be used. */
export type ConfigState =
  | { ok: true; config: SolventConfig }
  | {
      ok: false;
      error: ConfigError;
      /** Where the configuration came from, as an operator would name it. */
      source: "SOLVENT_CONFIG" | "config/solvent.config.json";
      /** Its text, for the config_invalid alert (never served publicly). */
      text: string;
    };

let cached: { text: string | undefined; state: ConfigState } | undefined;

/**
 * The deployment configuration: `SOLVENT_CONFIG` (JSON text, used by the local
 * runs and tests) when set, else the bundled config/solvent.config.json.
 * Parsed once per isolate (again only when SOLVENT_CONFIG changes); a bad
 * configuration is a state, never a throw, so every caller decides how to
 * fail closed (worker/config/configInvalid.ts).
 */
export function configState(env: Pick<Env, "SOLVENT_CONFIG">): ConfigState {
  const text = typeof env.SOLVENT_CONFIG === "string" && env.SOLVENT_CONFIG !== "" ? env.SOLVENT_CONFIG : undefined;
  if (cached && cached.text === text) return cached.state;
  let state: ConfigState;
  try {
    state = {
      ok: true,
      config: text === undefined ? parseConfig(bundledConfig) : parseConfigText(text, "SOLVENT_CONFIG"),
    };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    state =
      text === undefined
        ? { ok: false, error, source: "config/solvent.config.json", text: JSON.stringify(bundledConfig) }
        : { ok: false, error, source: "SOLVENT_CONFIG", text };
  }
  cached = { text, state };
  return state;
}

/** The configuration; throws ConfigError naming every bad field when it cannot be used. */
export function loadConfig(env: Pick<Env, "SOLVENT_CONFIG">): SolventConfig {
  const state = configState(env);
  if (!state.ok) throw state.error;
  return state.config;
}

export { ConfigError };
