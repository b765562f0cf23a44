/**
 * The scenario file format (scenarios/README.md describes it field by field):
 * a zod schema and a loader that names the file and the JSON path of every
 * problem, plus the cross-reference checks zod cannot express (every
 * symbolic name used is declared).
 */
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { z } from "zod";
import { FLAGS } from "../../core/flags.js";

const FLAG_NAMES = FLAGS.map((f) => f.name) as [string, ...string[]];

/** A symbolic name of something the runner deploys or derives (token, feed, pool, account). */
const name = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]{0,31}$/, "must be 1-32 letters, digits, '_' or '-', starting with a letter");
/** A local issuer id; the runner prefixes it with the scenario name. */
const localIssuerId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,20}$/, "must be 1-21 characters of a-z, 0-9 or '-'");
const assetId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/, "must be 1-32 characters of letters, digits, '.', '_' or '-'");
/** A non-negative decimal number written as a string, e.g. "1900000" or "0.23". */
export const decimal = z
  .string()
  .regex(
    /^(0|[1-9][0-9]*)(\.[0-9]{1,18})?$/,
    'must be a non-negative decimal number as a string, e.g. "1900000" or "0.23"',
  );
const positiveDecimal = decimal.refine((s) => /[1-9]/.test(s), "must be greater than zero");
const bps = z.number().int().min(0).max(1_000_000);

const chainlinkPrice = z.strictObject({
  kind: z.literal("chainlink"),
  feed: name,
  maxAgeSeconds: z.number().int().positive().default(3600),
});
const poolPrice = z.strictObject({ kind: z.literal("uniswapV3"), pool: name, quoteAsset: assetId });
const fixedPrice = z.strictObject({ kind: z.literal("fixed"), priceUsd: positiveDecimal });
const priceSource = z.discriminatedUnion("kind", [chainlinkPrice, poolPrice, fixedPrice]);
const marketPrice = z.discriminatedUnion("kind", [chainlinkPrice, poolPrice]);

const assetSchema = z.strictObject({
  id: assetId,
  /** The token this asset is on chain; its decimals are the asset's. Omit for an off-chain asset (then give decimals). */
  token: name.optional(),
  decimals: z.number().int().min(0).max(36).optional(),
  pegCurrency: z.boolean().optional(),
  prices: z.array(priceSource).min(1),
});

const holdingSchema = z.strictObject({
  type: z.literal("erc20"),
  asset: assetId,
  /** A token of the world. */
  token: name,
  /** The local id of the issuer (same scenario) whose liability this token is. */
  lookThrough: localIssuerId.optional(),
});

const holderSchema = z.strictObject({
  /** An account of the world: the runner signs its SPEC §8 ownership proof when ownership is "eoa". */
  account: name,
  name: z.string().min(1).max(80).optional(),
  ownership: z.enum(["eoa", "none"]).default("eoa"),
  holdings: z.array(holdingSchema).min(1),
});

const custodianSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/),
  name: z.string().min(1).max(80).optional(),
  /** Accounts of the world whose statements the custodian accepts. */
  signers: z.array(name).min(1),
  accounts: z.array(z.strictObject({ account: z.string().min(1).max(128), asset: assetId })).min(1),
});

const issuerSchema = z.strictObject({
  id: localIssuerId,
  name: z.string().min(1).max(100),
  assets: z.array(assetSchema).min(1),
  liabilities: z.strictObject({
    supply: z.strictObject({
      asset: assetId,
      /** The world's token that is this issuer's liability; its supply (minus escrows) is what is owed. */
      token: name,
      pegUsd: positiveDecimal.default("1"),
      escrows: z.array(name).default([]),
      marketPrices: z.array(marketPrice).default([]),
    }),
  }),
  reserves: z.strictObject({
    holders: z.array(holderSchema).default([]),
    custodians: z.array(custodianSchema).default([]),
  }),
  /** Passed through to the issuer's `policy` (core/config/schema.ts); the runner only adds ttlSeconds when absent. */
  policy: z.record(z.string(), z.number()).default({}),
  /** Send alerts to the runner's webhook receiver (generic webhook, HMAC-signed). */
  alerts: z
    .strictObject({
      events: z
        .array(z.enum(["flag_raised", "flag_cleared", "ratio_crossed", "publisher_stale", "signing_failed"]))
        .min(1)
        .optional(),
      ratioThresholdsBps: z.array(z.number().int().min(0)).optional(),
    })
    .optional(),
});

const statementSchema = z.strictObject({
  issuer: localIssuerId,
  custodian: z.string().min(1),
  account: z.string().min(1),
  asset: assetId,
  /** Whole units of the asset (its configured decimals). */
  amount: decimal,
  /**
   * How the statement is signed: an account of the world signs it (EIP-712,
   * SPEC §9); "none" posts it without a signature; "invalid" with 65 bytes
   * that are no signature of it.
   */
  sign: z.union([z.literal("none"), z.literal("invalid"), z.strictObject({ by: name })]),
  /** The admin route's expected answer: an exact status or "2xx" / "4xx". */
  expectStatus: z.union([z.number().int().min(100).max(599), z.literal("2xx"), z.literal("4xx")]),
});

const stateSchema = z.strictObject({
  /** token → account → balance in whole tokens; the runner mints or burns to reach it. */
  balances: z.record(name, z.record(name, decimal)).default({}),
  /** feed → answer in USD; every feed of the scenario is republished before each tick (updatedAt = now − ageSeconds). */
  feeds: z
    .record(
      name,
      z.union([
        positiveDecimal,
        z.strictObject({ answer: positiveDecimal, ageSeconds: z.number().int().min(0).default(0) }),
      ]),
    )
    .default({}),
  /** pool → price of its base token in its quote token. */
  pools: z.record(name, positiveDecimal).default({}),
  statements: z.array(statementSchema).default([]),
});

/** An exact USD amount, or an approximate one within toleranceBps. */
const usdMatcher = z.union([decimal, z.strictObject({ approx: decimal, toleranceBps: bps })]);
const ratioMatcher = z.union([
  z.number().int().min(0),
  z.strictObject({ min: z.number().int().min(0), max: z.number().int().min(0) }),
]);
const flagName = z.enum(FLAG_NAMES);

const itemMatcher = z
  .strictObject({
    /** On-chain item: the holder account and the token. */
    holder: name.optional(),
    token: name.optional(),
    /** Off-chain item: the custodian id and account. */
    custodian: z.string().optional(),
    account: z.string().optional(),
    /** Expected SPEC §3 status (0 proven, 1 unproven, 2 statement, 3 excluded). */
    status: z.number().int().min(0).max(3).optional(),
    valueUsd: usdMatcher.optional(),
    /** details.exclusion, e.g. "circular", "statement-missing"; a list accepts any of them. */
    exclusion: z.union([z.string(), z.null(), z.array(z.string()).min(1)]).optional(),
    /** details.amountRead in whole tokens (what was read though not counted). */
    amountRead: decimal.optional(),
  })
  .refine(
    (m) => (m.holder !== undefined && m.token !== undefined) !== (m.custodian !== undefined && m.account !== undefined),
    "name either holder + token or custodian + account",
  );

const gateSchema = z.strictObject({
  query: z.strictObject({
    minRatioBps: z.number().int().min(0).optional(),
    maxAgeSeconds: z.number().int().positive().optional(),
    denyFlags: z.string().min(1).optional(),
  }),
  allow: z.boolean(),
  /** Reason codes that must be among the gate's reasons: "RATIO_BELOW_MIN", or "FLAG_DENIED:<FLAG>". */
  reasons: z.array(z.string().regex(/^[A-Z_]+(:[A-Z_]+)?$/)).default([]),
});

const issuerExpectSchema = z.strictObject({
  flagsSet: z.array(flagName).default([]),
  flagsNotSet: z.array(flagName).default([]),
  /** Flag → a substring its report reason must contain. */
  flagReasons: z.partialRecord(flagName, z.string().min(1)).default({}),
  ratioBps: ratioMatcher.optional(),
  reservesUsd: usdMatcher.optional(),
  liabilitiesUsd: usdMatcher.optional(),
  offchainReservesUsd: usdMatcher.optional(),
  gate: gateSchema.optional(),
  items: z.array(itemMatcher).default([]),
  prices: z
    .array(
      z.strictObject({
        asset: assetId,
        priceUsd: usdMatcher.optional(),
        method: z.enum(["median", "lower", "single", "none"]).optional(),
        divergent: z.boolean().optional(),
      }),
    )
    .default([]),
  /** Alerts that must reach the webhook receiver (HMAC verified) within withinSeconds after the tick. */
  alerts: z
    .array(
      z.strictObject({
        event: z.enum(["flag_raised", "flag_cleared", "ratio_crossed"]),
        flag: flagName.optional(),
        withinSeconds: z.number().int().positive().max(300).default(90),
      }),
    )
    .default([]),
});

/** Only flags are checked on tick 1 (to show the event, not the setup, raised them). */
const beforeExpectSchema = z.strictObject({
  flagsSet: z.array(flagName).default([]),
  flagsNotSet: z.array(flagName).default([]),
});

export const scenarioSchema = z.strictObject({
  $comment: z.string().optional(),
  name: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,23}$/, "must be 1-24 characters of a-z, 0-9 or '-', starting with a letter"),
  description: z.string().min(1),
  world: z.strictObject({
    /** Accounts by role; each gets its own key (derived by the runner). */
    accounts: z.array(name).min(1),
    tokens: z.record(name, z.strictObject({ decimals: z.number().int().min(0).max(36) })),
    /** Chainlink-style feeds (8 decimals) with their initial answer. */
    feeds: z.record(name, z.strictObject({ answer: positiveDecimal })).default({}),
    /** v3-style pools: the price of one `base` in `quote`. */
    pools: z.record(name, z.strictObject({ base: name, quote: name, price: positiveDecimal })).default({}),
  }),
  issuers: z.array(issuerSchema).min(1),
  before: stateSchema,
  after: stateSchema,
  expectBefore: z.record(localIssuerId, beforeExpectSchema).default({}),
  expect: z.record(localIssuerId, issuerExpectSchema),
});

export type Scenario = z.output<typeof scenarioSchema>;
export type ScenarioIssuer = Scenario["issuers"][number];
export type ScenarioState = Scenario["before"];
export type IssuerExpect = z.output<typeof issuerExpectSchema>;
export type UsdMatcher = z.output<typeof usdMatcher>;

export class ScenarioFileError extends Error {
  override readonly name = "ScenarioFileError";
}

function jsonPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path)
    out +=
      typeof part === "number"
        ? `[${part}]`
        : /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(String(part))
          ? `${out === "" ? "" : "."}${String(part)}`
          : `[${JSON.stringify(String(part))}]`;
  return out === "" ? "(root)" : out;
}

/** Reads and validates one scenario file; throws ScenarioFileError listing every problem as `file: path: message`. */
export async function loadScenario(file: string): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw new ScenarioFileError(`${file}: cannot be read: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ScenarioFileError(`${file}: is not valid JSON: ${(e as Error).message}`);
  }
  const parsed = scenarioSchema.safeParse(json);
  if (!parsed.success) {
    throw new ScenarioFileError(
      parsed.error.issues.map((i) => `${file}: ${jsonPath(i.path)}: ${i.message}`).join("\n"),
    );
  }
  const problems = crossReferences(parsed.data).map((p) => `${file}: ${p}`);
  const expectedName = basename(file).replace(/\.json$/, "");
  if (parsed.data.name !== expectedName)
    problems.push(`${file}: name: "${parsed.data.name}" must match the file name ("${expectedName}")`);
  if (problems.length > 0) throw new ScenarioFileError(problems.join("\n"));
  return parsed.data;
}

/** Every symbolic name used must be declared in `world` (or be an issuer of the scenario). */
export function crossReferences(s: Scenario): string[] {
  const out: string[] = [];
  const accounts = new Set(s.world.accounts);
  const tokens = new Set(Object.keys(s.world.tokens));
  const feeds = new Set(Object.keys(s.world.feeds));
  const pools = new Set(Object.keys(s.world.pools));
  const issuers = new Set(s.issuers.map((i) => i.id));
  const need = (set: Set<string>, kind: string, value: string, path: string) => {
    if (!set.has(value))
      out.push(`${path}: ${kind} "${value}" is not declared in world.${kind === "issuer" ? "issuers" : `${kind}s`}`);
  };
  const dup = (values: string[], kind: string, path: string) => {
    const seen = new Set<string>();
    for (const v of values) seen.has(v) ? out.push(`${path}: ${kind} "${v}" is listed twice`) : seen.add(v);
  };
  dup(s.world.accounts, "account", "world.accounts");
  dup(
    s.issuers.map((i) => i.id),
    "issuer",
    "issuers",
  );
  for (const [p, pool] of Object.entries(s.world.pools)) {
    need(tokens, "token", pool.base, `world.pools.${p}.base`);
    need(tokens, "token", pool.quote, `world.pools.${p}.quote`);
    if (pool.base === pool.quote) out.push(`world.pools.${p}: base and quote must differ`);
  }
  s.issuers.forEach((issuer, i) => {
    const at = `issuers[${i}]`;
    const assetIds = new Set(issuer.assets.map((a) => a.id));
    const priceRefs = (
      prices: readonly { kind: string; feed?: string; pool?: string; quoteAsset?: string }[],
      path: string,
    ) =>
      prices.forEach((p, k) => {
        if (p.feed !== undefined) need(feeds, "feed", p.feed, `${path}[${k}].feed`);
        if (p.pool !== undefined) need(pools, "pool", p.pool, `${path}[${k}].pool`);
        if (p.quoteAsset !== undefined && !assetIds.has(p.quoteAsset))
          out.push(`${path}[${k}].quoteAsset: asset "${p.quoteAsset}" is not among this issuer's assets`);
      });
    issuer.assets.forEach((a, k) => {
      if (a.token !== undefined) need(tokens, "token", a.token, `${at}.assets[${k}].token`);
      if (a.token === undefined && a.decimals === undefined)
        out.push(`${at}.assets[${k}]: an asset without a token needs decimals`);
      priceRefs(a.prices, `${at}.assets[${k}].prices`);
    });
    const supply = issuer.liabilities.supply;
    need(tokens, "token", supply.token, `${at}.liabilities.supply.token`);
    supply.escrows.forEach((e, k) => {
      need(accounts, "account", e, `${at}.liabilities.supply.escrows[${k}]`);
    });
    priceRefs(supply.marketPrices, `${at}.liabilities.supply.marketPrices`);
    issuer.reserves.holders.forEach((h, k) => {
      need(accounts, "account", h.account, `${at}.reserves.holders[${k}].account`);
      h.holdings.forEach((hd, j) => {
        const hp = `${at}.reserves.holders[${k}].holdings[${j}]`;
        need(tokens, "token", hd.token, `${hp}.token`);
        if (!assetIds.has(hd.asset)) out.push(`${hp}.asset: asset "${hd.asset}" is not among this issuer's assets`);
        if (hd.lookThrough !== undefined) need(issuers, "issuer", hd.lookThrough, `${hp}.lookThrough`);
      });
    });
    issuer.reserves.custodians.forEach((c, k) => {
      c.signers.forEach((sg, j) => {
        need(accounts, "account", sg, `${at}.reserves.custodians[${k}].signers[${j}]`);
      });
    });
  });
  for (const phase of ["before", "after"] as const) {
    const st = s[phase];
    for (const [token, byAccount] of Object.entries(st.balances)) {
      need(tokens, "token", token, `${phase}.balances.${token}`);
      for (const account of Object.keys(byAccount))
        need(accounts, "account", account, `${phase}.balances.${token}.${account}`);
    }
    for (const feed of Object.keys(st.feeds)) need(feeds, "feed", feed, `${phase}.feeds.${feed}`);
    for (const pool of Object.keys(st.pools)) need(pools, "pool", pool, `${phase}.pools.${pool}`);
    st.statements.forEach((m, k) => {
      need(issuers, "issuer", m.issuer, `${phase}.statements[${k}].issuer`);
      if (typeof m.sign === "object") need(accounts, "account", m.sign.by, `${phase}.statements[${k}].sign.by`);
    });
  }
  for (const [id, e] of Object.entries(s.expect)) {
    need(issuers, "issuer", id, `expect.${id}`);
    e.items.forEach((m, k) => {
      if (m.holder !== undefined) need(accounts, "account", m.holder, `expect.${id}.items[${k}].holder`);
      if (m.token !== undefined) need(tokens, "token", m.token, `expect.${id}.items[${k}].token`);
    });
    if (e.alerts.length > 0 && !s.issuers.find((i) => i.id === id)?.alerts)
      out.push(`expect.${id}.alerts: issuer "${id}" has no alerts configured`);
  }
  for (const id of Object.keys(s.expectBefore)) need(issuers, "issuer", id, `expectBefore.${id}`);
  return out;
}
