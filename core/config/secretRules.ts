import { ledgerScheme, type SolventConfig } from "./schema.js";

/**
 * The rules for the secrets a configuration names, in one pure module: the
 * Worker checks its environment with them (worker/config/secrets.ts) and the
 * CLI checks a deployment's environment with the same ones before it reads
 * anything (`solvent config check --rpc`, `solvent run`).
 */

/** `${NAME}` in an RPC or alert URL: filled from the secret NAME. */
const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Every secret name `text` refers to as `${NAME}`, in order (repeats included). */
export function placeholderNames(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

/** `text` with every `${NAME}` replaced by `value(NAME)` (which may throw to refuse a missing secret). */
export function fillPlaceholders(text: string, value: (name: string) => string): string {
  return text.replace(PLACEHOLDER, (_, name: string) => value(name));
}

/**
 * `present`: a string with something other than white space (used verbatim);
 * `privateKey`: a 0x-hex secp256k1 key; `blindingSecret`: 0x + at least 64
 * hex digits (>= 32 random bytes), the SPEC §11 blinding secret.
 */
export type SecretRule = "present" | "privateKey" | "blindingSecret";

/** The Worker secret private ledgers derive their blindings and padding from (SPEC §11). */
export const BLINDING_SECRET = "LEDGER_BLINDING_SECRET";

export interface NamedSecret {
  name: string;
  rule: SecretRule;
  /** Where the configuration first names it, as a JSON path, e.g. `chains[0].rpcUrls[1]`. */
  where: string;
}

/**
 * Every secret the configuration names, once each (where it is first named),
 * in configuration order: RPC URL placeholders, relayer keys, alert URL
 * placeholders and webhook signing secrets. `chainIds` limits the RPC URLs to
 * those chains (the rest of the configuration is always scanned unless
 * `rpcOnly`).
 */
export function secretsNamedBy(
  config: SolventConfig,
  options: { chainIds?: ReadonlySet<number>; rpcOnly?: boolean } = {},
): NamedSecret[] {
  const out = new Map<string, NamedSecret>();
  const need = (name: string, rule: SecretRule, where: string) => {
    if (!out.has(name)) out.set(name, { name, rule, where });
  };
  config.chains.forEach((chain, c) => {
    if (options.chainIds && !options.chainIds.has(chain.chainId)) return;
    chain.rpcUrls.forEach((url, u) => {
      for (const name of placeholderNames(url)) need(name, "present", `chains[${c}].rpcUrls[${u}]`);
    });
  });
  if (options.rpcOnly) return [...out.values()];
  config.issuers.forEach((issuer, i) => {
    if (issuer.liabilities.ledger && ledgerScheme(issuer.liabilities.ledger) === "private")
      need(
        BLINDING_SECRET,
        "blindingSecret",
        `issuers[${i}].liabilities.ledger.scheme (issuer "${issuer.id}" is private)`,
      );
    if (issuer.relayer) need(issuer.relayer.keySecret, "privateKey", `issuers[${i}].relayer.keySecret`);
    issuer.alerts?.destinations.forEach((d, k) => {
      const where = `issuers[${i}].alerts.destinations[${k}]`;
      for (const name of placeholderNames(d.url)) need(name, "present", `${where}.url`);
      if (d.kind === "webhook") need(d.secret, "present", `${where}.secret`);
    });
  });
  return [...out.values()];
}

/** The value of a `present` secret, or null when it is not set (missing, not a string, or only white space). */
export function presentSecret(env: Record<string, unknown>, name: string): string | null {
  const value = env[name];
  return typeof value === "string" && value.trim() !== "" ? value : null;
}

const PRIVATE_KEY = /^0x[0-9a-fA-F]{64}$/;
const BLINDING_HEX = /^0x(?:[0-9a-fA-F]{2}){32,}$/;

/**
 * Why the secret `name` breaks `rule`, in a sentence that never quotes its
 * value, or null when it keeps it. A private key is checked for its form
 * here; whether it is on the curve is checked where it is turned into an
 * account (worker/config/secrets.ts).
 */
export function secretProblem(env: Record<string, unknown>, name: string, rule: SecretRule): string | null {
  if (rule === "present") return presentSecret(env, name) === null ? `${name} is not set` : null;
  if (rule === "blindingSecret") {
    if (presentSecret(env, name) === null) return `${name} is not set`;
    return BLINDING_HEX.test((env[name] as string).trim())
      ? null
      : `${name} must be 0x followed by at least 64 hex digits, an even number (32 or more random bytes)`;
  }
  if (presentSecret(env, name) === null) return `${name} is missing`;
  return PRIVATE_KEY.test((env[name] as string).trim()) ? null : `${name} is not a 0x-prefixed 32-byte hex private key`;
}
