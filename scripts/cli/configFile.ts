import { ConfigError, parseConfig } from "../../core/config/parseConfig.js";
import type { IssuerConfig, SolventConfig } from "../../core/config/schema.js";
import { UsageError } from "./io.js";
import { readJsonInput } from "./readInput.js";

/** A configuration that must be valid for the command to go on: every problem is listed when it is not. */
export async function readValidConfig(file: string, what = "--config"): Promise<SolventConfig> {
  const json = await readJsonInput(file, what);
  try {
    return parseConfig(json);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const list = e.issues.map((i) => `  ${i.path}: ${i.message}`).join("\n");
    throw new UsageError(`${what}: ${file} is not a valid configuration (solvent config check ${file}):\n${list}`);
  }
}

/** The issuer `id` of the configuration, or a usage error listing the ones there are. */
export function configuredIssuer(config: SolventConfig, id: string, file: string): IssuerConfig {
  const issuer = config.issuers.find((i) => i.id === id);
  if (!issuer)
    throw new UsageError(
      `issuer "${id}" is not in ${file}; it configures ${config.issuers.map((i) => `"${i.id}"`).join(", ")}`,
    );
  return issuer;
}
