import { sha256 } from "@noble/hashes/sha2.js";
import { type PrivateKeyAccount, privateKeyToAccount } from "viem/accounts";
import { z } from "zod";
import { bytesToHex, concatBytes, type Hex, hexToBytes, utf8 } from "../../core/bytes.js";
import type { SolventConfig } from "../../core/config/schema.js";
import { BLINDING_SECRET, presentSecret, secretProblem, secretsNamedBy } from "../../core/config/secretRules.js";
import type { Env } from "../env.js";

/**
 * Every secret of the Worker is parsed and checked here, and only here: the
 * signing key, the admin tokens, the relayer keys and every secret the
 * configuration names. `GET /health` reports the problems `checkEnv` finds;
 * the routes and jobs that use a secret call the same functions, so a secret
 * that /health calls invalid is refused everywhere it would be used (README
 * "Secrets" lists the rules). Problems name the secret and the rule it breaks,
 * never its value. Which secrets the configuration names, and their rules,
 * come from core/config/secretRules.ts, which the CLI checks with too.
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

/** A secret that is missing or breaks its rule, met where it was about to be used. */
export class MisconfiguredError extends Error {
  override readonly name = "MisconfiguredError";
}

// Bearer tokens are matched as one run of non-space characters (worker/api/adminAuth.ts).
const adminToken = z
  .string()
  .min(MIN_ADMIN_TOKEN_CHARS, `must be at least ${MIN_ADMIN_TOKEN_CHARS} characters`)
  .regex(/^\S+$/, "must not contain white space (it could never be presented as a bearer token)");

const adminTokens = z.record(z.string(), adminToken);

/**
 * The value of a secret the configuration names (an RPC key, a webhook
 * secret): a string with something other than white space, used verbatim.
 * Null when it is not set.
 */
export const namedSecret: (env: Record<string, unknown>, name: string) => string | null = presentSecret;

/** A 0x-hex secp256k1 private key held in secret `name`; MisconfiguredError when it is missing or unusable. */
export function privateKeySecret(env: Record<string, unknown>, name: string): PrivateKeyAccount {
  const problem = secretProblem(env, name, "privateKey");
  if (problem !== null) throw new MisconfiguredError(`${problem} (wrangler secret put ${name})`);
  try {
    return privateKeyToAccount((env[name] as string).trim() as `0x${string}`);
  } catch {
    // The library's message quotes the key's value: never pass it on.
    throw new MisconfiguredError(
      `${name} is not a valid secp256k1 private key (it must be between 1 and the curve order)`,
    );
  }
}

/** The blinding secret of private ledgers, as bytes, and its public id (never the secret). */
export interface BlindingSecret {
  bytes: Uint8Array;
  /** First 8 bytes, 0x-hex, of SHA-256(utf8("solvent/blinding-secret-id") || secret): names the secret a ledger was built with. */
  id: Hex;
}

/** `secretId` of a blinding secret: which secret built a ledger, without revealing it. */
export function blindingSecretId(secret: Uint8Array): Hex {
  return bytesToHex(sha256(concatBytes(utf8("solvent/blinding-secret-id"), secret)).subarray(0, 8));
}

/**
 * LEDGER_BLINDING_SECRET as the private ledger build uses it; MisconfiguredError
 * when it is missing or not 0x + at least 64 hex digits. Only builds read it:
 * every stored node keeps its opening, so proofs never need it.
 */
export function blindingSecret(env: Record<string, unknown>): BlindingSecret {
  const problem = secretProblem(env, BLINDING_SECRET, "blindingSecret");
  if (problem !== null)
    throw new MisconfiguredError(
      `${problem}: private ledgers cannot be built without it (wrangler secret put ${BLINDING_SECRET})`,
    );
  const bytes = hexToBytes((env[BLINDING_SECRET] as string).trim(), BLINDING_SECRET);
  return { bytes, id: blindingSecretId(bytes) };
}

/** The key that signs attestations (SIGNING_KEY). */
export function signingAccount(env: Pick<Env, "SIGNING_KEY">): PrivateKeyAccount {
  return privateKeySecret(env as Record<string, unknown>, "SIGNING_KEY");
}

/** The admin tokens as the admin routes use them, or the problems that make them unusable. */
export type AdminCredentials =
  | {
      ok: true;
      /** ADMIN_TOKEN, for every issuer; null when not set. */
      deployment: string | null;
      /** ADMIN_TOKENS: issuer id → that issuer's own token. */
      perIssuer: ReadonlyMap<string, string>;
    }
  | { ok: false; problems: EnvProblem[] };

function issueText(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "is invalid";
  // Paths inside ADMIN_TOKENS are issuer ids (not secret); values never appear in zod messages we produce.
  const at = issue.path.length > 0 ? `entry "${issue.path.map(String).join(".")}" ` : "";
  return issue.code === "invalid_type" ? `${at}has the wrong type` : `${at}${issue.message}`;
}

/**
 * Parses ADMIN_TOKEN and ADMIN_TOKENS. Any problem with either (a short
 * token, white space, ADMIN_TOKENS that is not a JSON object of tokens, or
 * that names an issuer `config` does not have) makes the whole set unusable:
 * the admin routes then answer 503 naming the problem and authenticate no one.
 * `config` is null when the configuration cannot be read (the issuer names in
 * ADMIN_TOKENS are then not checked).
 */
export function adminCredentials(
  env: Pick<Env, "ADMIN_TOKEN" | "ADMIN_TOKENS">,
  config: SolventConfig | null,
): AdminCredentials {
  const problems: EnvProblem[] = [];
  let deployment: string | null = null;
  const perIssuer = new Map<string, string>();

  const token = env.ADMIN_TOKEN;
  if (token !== undefined && token !== "") {
    const parsed = adminToken.safeParse(token);
    if (parsed.success) deployment = parsed.data;
    else problems.push({ secret: "ADMIN_TOKEN", problem: `ADMIN_TOKEN ${issueText(parsed.error)}` });
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
      problems.push({ secret: "ADMIN_TOKENS", problem: "ADMIN_TOKENS must be a JSON object of issuer ids to tokens" });
    } else {
      const parsed = adminTokens.safeParse(json);
      if (!parsed.success) {
        problems.push({ secret: "ADMIN_TOKENS", problem: `ADMIN_TOKENS ${issueText(parsed.error)}` });
      } else {
        const unknown = config ? Object.keys(parsed.data).filter((id) => !config.issuers.some((i) => i.id === id)) : [];
        if (unknown.length > 0) {
          const names = unknown.map((id) => `"${id.slice(0, 64)}"`).join(", ");
          problems.push({
            secret: "ADMIN_TOKENS",
            problem: `ADMIN_TOKENS names issuer(s) not in the configuration: ${names}`,
          });
        }
        for (const [id, value] of Object.entries(parsed.data)) perIssuer.set(id, value);
      }
    }
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, deployment, perIssuer };
}

/**
 * The tokens that may administer `issuerId`: the deployment-wide ADMIN_TOKEN
 * and that issuer's own entry of ADMIN_TOKENS, never another issuer's.
 * `configured` is false when the deployment has no admin token at all.
 */
export function issuerAdminTokens(
  admin: Extract<AdminCredentials, { ok: true }>,
  issuerId: string,
): { configured: boolean; tokens: string[] } {
  const tokens: string[] = [];
  if (admin.deployment !== null) tokens.push(admin.deployment);
  const own = admin.perIssuer.get(issuerId);
  if (own !== undefined) tokens.push(own);
  return { configured: admin.deployment !== null || admin.perIssuer.size > 0, tokens };
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

  const admin = adminCredentials(env, config);
  if (!admin.ok) problems.push(...admin.problems);

  if (config) {
    for (const { name, rule, where } of secretsNamedBy(config)) {
      if (rule === "present") {
        if (namedSecret(env, name) === null)
          add(name, `${name} (named by ${where}) is not set (wrangler secret put ${name})`);
        continue;
      }
      if (rule === "blindingSecret") {
        const problem = secretProblem(env, name, rule);
        if (problem !== null)
          add(name, `${problem.replace(name, `${name} (needed by ${where})`)} (wrangler secret put ${name})`);
        continue;
      }
      try {
        privateKeySecret(env, name);
      } catch (error) {
        add(name, `${(error as Error).message.replace(name, `${name} (named by ${where})`)}`);
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
  const named = config ? secretsNamedBy(config).map((s) => s.name) : [];
  const key = JSON.stringify([
    config === null,
    ...["SIGNING_KEY", "ADMIN_TOKEN", "ADMIN_TOKENS", ...named].map((n) => [n, env[n]]),
  ]);
  if (cached?.key === key) return cached.check;
  const check = checkEnv(env, config);
  if (!check.ok)
    console.error(
      `solvent: misconfigured secrets ${check.problems.map((p) => p.secret).join(", ")}; GET /health lists why`,
    );
  cached = { key, check };
  return check;
}
