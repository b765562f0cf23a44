import { type Address, getAddress, parseAbi } from "viem";
import type { Hex } from "../../core/bytes.js";
import type { IssuerConfig, SolventConfig } from "../../core/config/schema.js";
import { secretProblem, secretsNamedBy } from "../../core/config/secretRules.js";
import { parseCustodianStatement } from "../../core/custodianStatement.js";
import { formatUnits, formatUsd18, RATIO_BPS_MAX } from "../../core/numbers.js";
import { NATIVE_TOKEN } from "../../core/reservesTree.js";
import { holdingKind } from "../../core/sources/holdingKinds.js";
import { priceTick } from "../../core/valuation/priceQuorum.js";
import type { HoldingReading, LedgerReading } from "../../core/valuation/readings.js";
import { type Snapshot, valueSnapshot } from "../../core/valuation/snapshot.js";
import { createChainClient } from "../../worker/sources/chainClient.js";
import { gatherReadings } from "../../worker/sources/gatherReadings.js";
import { UsageError } from "./io.js";

/**
 * A tick without signing or storing (`solvent config check --rpc`): the
 * Worker's own readers and the core's valuation, run here in Node, plus what
 * only a person setting up can be warned about (a token whose symbol or
 * decimals do not match the asset it is configured as).
 */

export type CheckLevel = "pass" | "fail" | "warn" | "note";

export interface DryRunCheck {
  level: CheckLevel;
  subject: string;
  detail: string;
}

export interface DryRunIssuer {
  issuer: string;
  checks: DryRunCheck[];
  /** Null when valuation refused (the reason is a failed check). */
  summary: {
    ratioBps: number | null;
    reservesUsd: string;
    onchainReservesUsd: string;
    offchainReservesUsd: string;
    liabilitiesUsd: string | null;
    flags: { name: string; reason: string }[];
  } | null;
  /** True when no chain of the issuer could be read at all. */
  unreachable: boolean;
}

export interface StatementInput {
  file: string;
  body: unknown;
}

const erc20Meta = parseAbi(["function symbol() view returns (string)", "function decimals() view returns (uint8)"]);

/** Runs the dry tick for every issuer (or one), with `${NAME}` RPC placeholders filled from `secrets`. */
export async function dryRun(
  config: SolventConfig,
  options: { issuerId?: string; secrets: Record<string, unknown>; statements: StatementInput[]; now?: bigint },
): Promise<DryRunIssuer[]> {
  const issuers =
    options.issuerId === undefined ? config.issuers : config.issuers.filter((i) => i.id === options.issuerId);
  if (issuers.length === 0) throw new UsageError(`--issuer "${options.issuerId}" is not in the configuration`);
  missingSecrets(config, issuers, options.secrets);
  const now = options.now ?? BigInt(Math.floor(Date.now() / 1000));
  const out: DryRunIssuer[] = [];
  for (const issuer of issuers) out.push(await dryRunIssuer(config, issuer, options, now));
  return out;
}

/** A placeholder without its secret would fail every read of the chain: say so before reading anything. */
function missingSecrets(
  config: SolventConfig,
  issuers: readonly IssuerConfig[],
  secrets: Record<string, unknown>,
): void {
  // The Worker's rule (core/config/secretRules.ts): a secret of only white space is not set either.
  const named = secretsNamedBy(config, { chainIds: new Set(issuers.flatMap(chainIdsOf)), rpcOnly: true });
  const missing = new Set(named.filter((s) => secretProblem(secrets, s.name, s.rule) !== null).map((s) => s.name));
  if (missing.size > 0) {
    const names = [...missing].join(", ");
    throw new UsageError(
      `the RPC URLs need ${names}: set ${missing.size === 1 ? "it" : "them"} in the environment for --rpc (e.g. ${[...missing][0]}=… solvent config check FILE --rpc)`,
    );
  }
}

function chainIdsOf(issuer: IssuerConfig): number[] {
  const ids = [
    ...issuer.reserves.holders.map((h) => h.chainId),
    ...(issuer.liabilities.supply?.tokens.map((t) => t.chainId) ?? []),
  ];
  for (const a of issuer.assets)
    for (const p of a.prices) if (p.kind === "chainlink" || p.kind === "uniswapV3") ids.push(p.chainId);
  return ids;
}

async function dryRunIssuer(
  config: SolventConfig,
  issuer: IssuerConfig,
  options: { secrets: Record<string, unknown>; statements: StatementInput[] },
  now: bigint,
): Promise<DryRunIssuer> {
  const checks: DryRunCheck[] = [];
  const add = (level: CheckLevel, subject: string, detail: string) => checks.push({ level, subject, detail });

  const statements = [];
  for (const input of options.statements) {
    const body = input.body as { statement?: unknown; signature?: unknown } | null;
    let statement;
    try {
      statement = parseCustodianStatement(body?.statement);
    } catch (e) {
      throw new UsageError(
        `--statement ${input.file}: ${(e as Error).message} (the file is the body solvent statement sign writes)`,
      );
    }
    if (typeof body?.signature !== "string") throw new UsageError(`--statement ${input.file}: has no "signature"`);
    if (statement.issuer === issuer.id) statements.push({ statement, signature: body.signature as Hex });
  }

  // No previous statements here: the dry run's nonce check starts fresh, like a first publish.
  const readings = await gatherReadings({
    issuer,
    chains: config.chains,
    secrets: options.secrets,
    statements,
    ledger: issuer.liabilities.ledger ? dryLedger(issuer) : null,
    now,
    fetchFn: fetch,
    issuers: config.issuers,
    localAttestation: async () => null,
  });

  for (const b of readings.blocks) {
    if (b.result.ok)
      add("pass", `chain ${b.chainId}`, `answers as chain ${b.chainId}; pinned block ${b.result.value.number}`);
    else add("fail", `chain ${b.chainId}`, b.result.reason);
  }
  const unreachable = readings.blocks.length > 0 && readings.blocks.every((b) => !b.result.ok);

  for (const o of readings.ownership) {
    const holder = issuer.reserves.holders.find(
      (h) => h.chainId === o.chainId && h.address.toLowerCase() === o.holder.toLowerCase(),
    );
    const subject = `holder ${holder?.name ? `"${holder.name}" ` : ""}${o.holder} on chain ${o.chainId}`;
    if (o.method === "none")
      add(
        "note",
        subject,
        'ownership "none": read and reported, never counted (UNPROVEN_OWNERSHIP); make a proof with solvent ownership sign',
      );
    else add(o.proven ? "pass" : "fail", subject, `ownership ${o.method}: ${o.detail}`);
  }

  for (const h of readings.holdings) {
    const subject = `${h.kind} ${h.asset} of ${h.holder} on chain ${h.chainId}${holdingKind(h.kind).contractField === null ? "" : ` (${h.source})`}`;
    if (!h.result.ok) {
      add("fail", subject, `could not be read: ${h.result.reason}`);
      continue;
    }
    const asset = issuer.assets.find((a) => a.id === h.asset);
    const { amount, decimals } = h.result.value;
    add("pass", subject, `balance ${formatUnits(amount, decimals)} ${h.asset}`);
    if (asset && asset.decimals !== decimals) {
      add(
        "warn",
        subject,
        `the token has ${decimals} decimals, asset ${asset.id} is configured with ${asset.decimals}: on-chain amounts use the token's own, statements and ledgers the asset's; is the token address right?`,
      );
    }
  }
  checks.push(...(await symbolChecks(config, issuer, readings.holdings, options.secrets)));

  for (const s of readings.supply) {
    const subject = `liability token ${s.token} on chain ${s.chainId}`;
    if (!s.result.ok) add("fail", subject, `could not be read: ${s.result.reason}`);
    else {
      const { totalSupply, decimals, escrows } = s.result.value;
      const escrowed = escrows.reduce((sum, e) => sum + e.amount, 0n);
      add(
        "pass",
        subject,
        `totalSupply ${formatUnits(totalSupply, decimals)} ${issuer.liabilities.supply!.asset}, ${formatUnits(escrowed, decimals)} of it in ${escrows.length} escrow(s)`,
      );
    }
  }

  // As valuation sees them: bands applied, pool quotes in USD.
  const priced = priceTick(issuer, readings);
  for (const o of [...priced.observations, ...priced.marketPrices]) {
    const subject = `price of ${o.asset} from ${o.source}`;
    if (o.result.ok) add("pass", subject, `$${formatUsd18(o.result.value.priceUsd, 4)}`);
    else add("fail", subject, o.result.reason);
  }

  for (const s of readings.statements) {
    const subject = `statement ${s.custodian}/${s.account}/${s.asset}`;
    add(
      s.result.ok ? "pass" : "fail",
      subject,
      s.result.ok ? `accepted, signed by ${s.result.value.signer}` : s.result.reason,
    );
  }
  for (const c of issuer.reserves.custodians) {
    for (const a of c.accounts) {
      if (!readings.statements.some((s) => s.custodian === c.id && s.account === a.account && s.asset === a.asset)) {
        add(
          "note",
          `custodian ${c.id}/${a.account}/${a.asset}`,
          "no statement given (--statement FILE): counted only once the publisher has a signed statement",
        );
      }
    }
  }
  for (const a of readings.attested) {
    if (a.url === null)
      add(
        "note",
        `look-through of issuer "${a.issuer}"`,
        "counted from that issuer's published attestation, which a dry run does not have",
      );
    else
      add(
        a.result.ok ? "pass" : "fail",
        `look-through of issuer "${a.issuer}" at ${a.url}`,
        a.result.ok ? `ratio ${a.result.value.ratioBps} bps, sequence ${a.result.value.sequence}` : a.result.reason,
      );
  }

  const valued = valueSnapshot({ issuer, readings });
  if (!valued.ok) {
    add("fail", "valuation", valued.reason);
    return { issuer: issuer.id, checks, summary: null, unreachable };
  }
  for (const q of valued.snapshot.prices)
    if (q.priceUsd === null) add("fail", `asset ${q.asset}`, `unpriced: ${q.reason}`);
  return { issuer: issuer.id, checks, summary: summarize(issuer, valued.snapshot), unreachable };
}

/**
 * The ledger is uploaded to the publisher, never read here: liabilities stand at zero for it and the summary says so.
 * Its asOf is now, so a dry run never raises LIABILITIES_STALE for a ledger it did not read.
 */
function dryLedger(issuer: IssuerConfig): LedgerReading {
  const assets = issuer.liabilities.ledger!.assets;
  return {
    ledgerId: "dry-run",
    assets: [...assets],
    root: `0x${"00".repeat(32)}`,
    rootSums: assets.map(() => 0n),
    users: 0,
    asOf: Math.floor(Date.now() / 1000),
    order: "commitment",
  };
}

function summarize(issuer: IssuerConfig, snapshot: Snapshot): NonNullable<DryRunIssuer["summary"]> {
  const t = snapshot.totals;
  const ledger = issuer.liabilities.ledger !== undefined;
  return {
    ratioBps: ledger ? null : t.ratioBps,
    reservesUsd: t.reservesUsd.toString(),
    onchainReservesUsd: t.onchainReservesUsd.toString(),
    offchainReservesUsd: t.offchainReservesUsd.toString(),
    liabilitiesUsd: ledger ? null : t.liabilitiesUsd.toString(),
    flags: snapshot.flags.map((f) => ({ name: f.name, reason: f.reason })),
  };
}

/**
 * Token symbols against the assets they are configured as (WETH for ETH is fine: a wrapped coin): the token each
 * holding was read in (a vault's underlying; the chain's coin has no symbol), then the liability token.
 */
async function symbolChecks(
  config: SolventConfig,
  issuer: IssuerConfig,
  holdings: readonly HoldingReading[],
  secrets: Record<string, unknown>,
): Promise<DryRunCheck[]> {
  const wanted: { chainId: number; source: Address; token: Address; asset: string; via: string }[] = [];
  for (const h of holdings) {
    // a failed read is already reported with its reason
    if (!h.result.ok || h.result.value.token === NATIVE_TOKEN) continue;
    const token = h.result.value.token;
    const via = token === h.source ? "token " : `${holdingKind(h.kind).noun} ${h.source}'s underlying `;
    wanted.push({ chainId: h.chainId, source: h.source, token, asset: h.asset, via });
  }
  const supply = issuer.liabilities.supply;
  for (const t of supply?.tokens ?? []) {
    const token = getAddress(t.token);
    wanted.push({ chainId: t.chainId, source: token, token, asset: supply!.asset, via: "token " });
  }
  const checks: DryRunCheck[] = [];
  const seen = new Set<string>();
  for (const w of wanted) {
    const key = `${w.chainId}:${w.source}:${w.asset}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const chain = config.chains.find((c) => c.chainId === w.chainId);
    if (!chain) continue;
    try {
      const client = createChainClient(chain, secrets);
      const symbol = await client.readContract({ address: w.token, abi: erc20Meta, functionName: "symbol" });
      const subject = `${w.via}${w.token} on chain ${w.chainId}`;
      const upper = symbol.toUpperCase();
      const id = w.asset.toUpperCase();
      if (upper === id || upper === `W${id}`)
        checks.push({ level: "pass", subject, detail: `symbol ${symbol} matches asset ${w.asset}` });
      else
        checks.push({
          level: "warn",
          subject,
          detail: `symbol is "${symbol.slice(0, 40)}", configured as asset ${w.asset}: is the address right?`,
        });
    } catch {
      // a token without symbol() is legal (ERC-20 makes it optional); its balance read says whether the address works
    }
  }
  return checks;
}

/** "102.89 %" from basis points; the cap means nothing is owed. */
export function ratioText(bps: number): string {
  if (BigInt(bps) >= RATIO_BPS_MAX) return "∞ (no liabilities)";
  return `${Math.floor(bps / 100)}.${String(bps % 100).padStart(2, "0")} %`;
}

/** usd18 as "$1,234,567.89" (display only). */
export function usdText(value: bigint | string): string {
  const [whole = "0", frac = "00"] = formatUsd18(BigInt(value), 2).split(".");
  return `$${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",")}.${frac}`;
}
