import { z } from "zod";
import type { SolventConfig } from "../../core/config/schema.js";
import type { Env } from "../env.js";
import { MisconfiguredError, signingAccount } from "../publisher/publishTick.js";

/**
 * The Worker's secrets, checked once per isolate: a deployment with a
 * malformed key or a token that can never be presented should say so at once
 * (GET /health answers 503 naming the secrets), not on the first publish.
 * Problems name the secret and the rule it breaks, never its value.
 */

/** An admin token shorter than this is guessable enough to refuse. */
export const MIN_ADMIN_TOKEN_CHARS = 24;

export interface EnvProblem {
  /** The secret's name, e.g. SIGNING_KEY. */
  secret: string;
  /** What is wrong with it, without its value. */
  problem: string;
}

export interface EnvCheck {
  ok: boolean;
  problems: EnvProblem[];
  /** One sentence naming every problem; empty when ok. */
  message: string;
}

// Bearer tokens are matched as one run of non-space characters (worker/api/adminAuth.ts).
const adminToken = z
  .string()
  .min(MIN_ADMIN_TOKEN_CHARS, `must be at least ${MIN_ADMIN_TOKEN_CHARS} characters`)
  .regex(/^\S+$/, "must not contain white space (it could never be presented as a bearer token)");

const adminTokens = z.record(z.string(), adminToken);
const privateKey = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be a 0x-prefixed 32-byte hex private key");
const present = z.string().min(1, "is not set");

const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

function placeholders(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

/** Every secret the configuration names, with the schema it must satisfy and where it is named. */
function secretsNamedBy(config: SolventConfig): Map<string, { schema: z.ZodType; where: string }> {
  const out = new Map<string, { schema: z.ZodType; where: string }>();
  const need = (name: string, schema: z.ZodType, where: string) => {
    if (!out.has(name)) out.set(name, { schema, where });
  };
  config.chains.forEach((chain, c) =>
    chain.rpcUrls.forEach((url, u) => placeholders(url).forEach((name) => need(name, present, `chains[${c}].rpcUrls[${u}]`))),
  );
  config.issuers.forEach((issuer, i) => {
    if (issuer.relayer) need(issuer.relayer.keySecret, privateKey, `issuers[${i}].relayer.keySecret`);
    issuer.alerts?.destinations.forEach((d, k) => {
      const where = `issuers[${i}].alerts.destinations[${k}]`;
      placeholders(d.url).forEach((name) => need(name, present, `${where}.url`));
      if (d.kind === "webhook") need(d.secret, present, `${where}.secret`);
    });
  });
  return out;
}

function issueText(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "is invalid";
  // Paths inside ADMIN_TOKENS are issuer ids (not secret); values never appear in zod messages we produce.
  const at = issue.path.length > 0 ? `entry "${issue.path.map(String).join(".")}" ` : "";
  return issue.code === "invalid_type" ? `${at}has the wrong type` : `${at}${issue.message}`;
}

/**
 * Checks the secrets in `env` against their rules and against the names
 * `config` refers to (null when the configuration itself is unusable).
 * Pure: no logging, no caching (see `checkEnvOnce`).
 */
export function checkEnv(env: Env, config: SolventConfig | null): EnvCheck {
  const problems: EnvProblem[] = [];
  const add = (secret: string, problem: string) => problems.push({ secret, problem });

  try {
    signingAccount(env);
  } catch (error) {
    // Same sentence the publish path refuses with (publishTick → signingAccount).
    add("SIGNING_KEY", error instanceof MisconfiguredError ? error.message : "SIGNING_KEY cannot be used");
  }

  const token = env.ADMIN_TOKEN;
  if (token !== undefined && token !== "") {
    const parsed = adminToken.safeParse(token);
    if (!parsed.success) add("ADMIN_TOKEN", `ADMIN_TOKEN ${issueText(parsed.error)}`);
  }

  const tokens = env.ADMIN_TOKENS;
  if (typeof tokens === "string" && tokens.trim() !== "") {
    let json: unknown;
    try {
      json = JSON.parse(tokens);
    } catch {
      json = undefined;
    }
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
      add("ADMIN_TOKENS", "ADMIN_TOKENS must be a JSON object of issuer ids to tokens");
    } else {
      const parsed = adminTokens.safeParse(json);
      if (!parsed.success) add("ADMIN_TOKENS", `ADMIN_TOKENS ${issueText(parsed.error)}`);
      else if (config) {
        const unknown = Object.keys(parsed.data).filter((id) => !config.issuers.some((i) => i.id === id));
        if (unknown.length > 0) add("ADMIN_TOKENS", `ADMIN_TOKENS names issuer(s) not in the configuration: ${unknown.map((id) => `"${id.slice(0, 64)}"`).join(", ")}`);
      }
    }
  }

  if (config) {
    for (const [name, { schema, where }] of secretsNamedBy(config)) {
      const value = env[name];
      const parsed = schema.safeParse(typeof value === "string" ? value.trim() : value);
      if (!parsed.success) {
        const why = value === undefined || value === "" ? "is not set" : issueText(parsed.error);
        add(name, `${name} (named by ${where}) ${why} (wrangler secret put ${name})`);
      }
    }
  }

  const message = problems.length === 0 ? "" : `misconfigured secrets: ${problems.map((p) => p.problem).join("; ")}`;
  return { ok: problems.length === 0, problems, message };
}

let cached: { key: string; check: EnvCheck } | undefined;

/**
 * `checkEnv` once per isolate (again only when the secrets or the
 * configuration change), logging the problems once, by name.
 */
export function checkEnvOnce(env: Env, config: SolventConfig | null): EnvCheck {
  const named = config ? [...secretsNamedBy(config).keys()] : [];
  const key = JSON.stringify([config === null, ...["SIGNING_KEY", "ADMIN_TOKEN", "ADMIN_TOKENS", ...named].map((n) => [n, env[n]])]);
  if (cached?.key === key) return cached.check;
  const check = checkEnv(env, config);
  if (!check.ok) console.error(`solvent: misconfigured secrets ${check.problems.map((p) => p.secret).join(", ")}; GET /health lists why`);
  cached = { key, check };
  return check;
}
