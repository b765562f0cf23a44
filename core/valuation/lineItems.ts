import type { Address } from "viem";
import type { Hex } from "../bytes.js";
import type { CustodianConfig, HolderConfig, IssuerConfig } from "../config/schema.js";
import { FUTURE_SKEW_SECONDS } from "../custodianStatement.js";
import { valueUsd } from "../numbers.js";
import { type ReserveLineItem, ReserveStatus, ZERO_ADDRESS } from "../reservesTree.js";
import { type HoldingConfig, type HoldingType, holdingKind } from "../sources/holdingKinds.js";
import { findAttested, haircutBps, haircutPrice, isOwnLiabilityToken, lookThroughName } from "./lookThrough.js";
import type { PriceQuorum } from "./priceQuorum.js";
import type { BlockReading, HoldingReading, OwnershipMethod, StatementReading, TickReadings } from "./readings.js";

/**
 * Why an item is status 3: a source failing or going stale (STALE_SOURCE),
 * or the reserve leading back to the issuer (CIRCULAR_RESERVES).
 */
export type ExclusionCause =
  | "block-failed"
  | "not-read"
  | "read-failed"
  | "unpriced"
  | "statement-missing"
  | "statement-invalid"
  | "statement-stale"
  | "attestation-missing"
  | "attestation-invalid"
  | "attestation-stale"
  | "own-token"
  | "circular";

export const SOURCE_FAILURE_CAUSES: ReadonlySet<ExclusionCause> = new Set<ExclusionCause>([
  "block-failed",
  "not-read",
  "read-failed",
  "unpriced",
  "statement-missing",
  "statement-invalid",
  "statement-stale",
  "attestation-missing",
  "attestation-invalid",
  "attestation-stale",
]);

export const CIRCULAR_CAUSES: ReadonlySet<ExclusionCause> = new Set<ExclusionCause>(["own-token", "circular"]);

/** A look-through holding: whose attestation it relied on and the haircut applied to the market price. */
export interface LookThroughDetails {
  issuer: string;
  /** External publisher base URL; null for an issuer of this deployment. */
  url: string | null;
  /** The attestation relied on; null when none could be (the item is then status 3). */
  attestation: {
    sequence: bigint;
    observedAt: bigint;
    validUntil: bigint;
    ratioBps: number;
    digest: Hex;
    signer: Address;
  } | null;
  /** The asset's chosen market price; the leaf's priceUsd is floor(marketPriceUsd × haircutBps / 10000). */
  marketPriceUsd: bigint | null;
  /** min(ratioBps, 10000). */
  haircutBps: number | null;
  /** Path back to this issuer when circular, e.g. ["x", "y", "x"]. */
  circular: string[] | null;
}

export interface OnchainDetails {
  kind: HoldingType;
  asset: string;
  chainId: number;
  holderName: string | null;
  /** The token, NATIVE_TOKEN or the vault: where the balance sits (the label's last part). */
  source: Address;
  /** Decimals of the leaf token as read on chain; null when the read failed. */
  decimals: number | null;
  blockNumber: bigint | null;
  /** Vault shares held (ERC-4626 only). */
  shares: bigint | null;
  /** Amount read but not in the leaf (status 3 because unpriced). */
  amountRead: bigint | null;
  ownership: { method: OwnershipMethod; proven: boolean; detail: string };
  lookThrough: LookThroughDetails | null;
  reason: string | null;
  exclusion: ExclusionCause | null;
}

export interface CustodianDetails {
  kind: "custodian";
  asset: string;
  decimals: number;
  custodian: string;
  account: string;
  statement: { amount: bigint; asOf: bigint; nonce: bigint; signer: Address } | null;
  reason: string | null;
  exclusion: ExclusionCause | null;
}

export type LineItemDetails = OnchainDetails | CustodianDetails;

export interface ValuedLineItem {
  item: ReserveLineItem;
  details: LineItemDetails;
}

export interface LineItemInputs {
  issuer: IssuerConfig;
  readings: TickReadings;
  prices: ReadonlyMap<string, PriceQuorum>;
}

const lower = (a: string) => a.toLowerCase() as Address;

export function custodianLabel(custodian: string, account: string, asset: string): string {
  return `custodian:${custodian}:${account}:${asset}`;
}

function findHolding(
  readings: readonly HoldingReading[],
  holder: HolderConfig,
  h: HoldingConfig,
): HoldingReading | undefined {
  const holderAddress = lower(holder.address);
  const source = lower(holdingKind(h.type).source(h));
  return readings.find(
    (r) =>
      r.chainId === holder.chainId &&
      lower(r.holder) === holderAddress &&
      r.kind === h.type &&
      lower(r.source) === source &&
      r.asset === h.asset,
  );
}

function blockOf(blocks: readonly BlockReading[], chainId: number): BlockReading["result"] {
  const found = blocks.find((b) => b.chainId === chainId);
  return found ? found.result : { ok: false, reason: `no block was pinned for chain ${chainId}` };
}

function onchainItem(inputs: LineItemInputs, holder: HolderConfig, h: HoldingConfig): ValuedLineItem {
  const { readings, prices } = inputs;
  const chainId = holder.chainId;
  const holderAddress = lower(holder.address);
  const kind = holdingKind(h.type);
  const at = { chainId, holder: holder.address };
  const source = lower(kind.source(h));
  const block = blockOf(readings.blocks, chainId);
  const reading = findHolding(readings.holdings, holder, h);
  const details: OnchainDetails = {
    kind: h.type,
    asset: h.asset,
    chainId,
    holderName: holder.name ?? null,
    source,
    decimals: null,
    blockNumber: block.ok ? block.value.number : null,
    shares: null,
    amountRead: null,
    ownership: kind.ownership.judge({ ...at, ownership: holder.ownership }, readings.ownership),
    lookThrough: null,
    reason: null,
    exclusion: null,
  };
  const item: ReserveLineItem = {
    ...kind.identity(at, h, null),
    amount: 0n,
    priceUsd: 0n,
    valueUsd: 0n,
    status: ReserveStatus.EXCLUDED,
  };
  const exclude = (exclusion: ExclusionCause, reason: string): ValuedLineItem => ({
    item,
    details: { ...details, exclusion, reason },
  });

  const look = h.type === "erc20" ? h.lookThrough : undefined;
  const attested = look ? findAttested(readings.attested, look) : undefined;
  if (look) {
    details.lookThrough = {
      issuer: look.issuer,
      url: look.url ?? null,
      attestation: null,
      marketPriceUsd: null,
      haircutBps: null,
      circular: attested?.circular ?? null,
    };
  }
  // What leads back to the issuer counts zero whatever was read; the amount read is still shown.
  const circular = circularReason(inputs.issuer, chainId, h, attested?.circular ?? null);
  if (circular) {
    if (block.ok && reading?.result.ok) {
      details.amountRead = reading.result.value.amount;
      details.decimals = reading.result.value.decimals;
    }
    return exclude(circular.exclusion, circular.reason);
  }

  if (!block.ok) return exclude("block-failed", `block of chain ${chainId} could not be pinned: ${block.reason}`);
  if (!reading) return exclude("not-read", `no reading was recorded for this ${h.type} holding of ${h.asset}`);
  if (!reading.result.ok) return exclude("read-failed", `balance read failed: ${reading.result.reason}`);

  const read = reading.result.value;
  item.token = kind.identity(at, h, read).token;
  details.decimals = read.decimals;
  details.shares = kind.shares(read);
  const quorum = prices.get(h.asset);
  if (!quorum || quorum.priceUsd === null) {
    details.amountRead = read.amount;
    return exclude("unpriced", `asset ${h.asset} has no price: ${quorum?.reason ?? "it was not priced"}`);
  }
  let priceUsd = quorum.priceUsd;
  if (look && details.lookThrough) {
    const who = lookThroughName(look);
    details.amountRead = read.amount;
    if (!attested)
      return exclude("attestation-missing", `no attestation of ${who} was read for this look-through holding`);
    if (!attested.result.ok)
      return exclude("attestation-invalid", `the attestation of ${who} cannot be relied on: ${attested.result.reason}`);
    const a = attested.result.value;
    if (a.observedAt > readings.observedAt + FUTURE_SKEW_SECONDS) {
      return exclude(
        "attestation-invalid",
        `the attestation of ${who} (sequence ${a.sequence}) was observed at ${a.observedAt}, after observedAt ${readings.observedAt}`,
      );
    }
    if (readings.observedAt > a.validUntil) {
      return exclude(
        "attestation-stale",
        `the attestation of ${who} (sequence ${a.sequence}) expired at validUntil ${a.validUntil}, before observedAt ${readings.observedAt}`,
      );
    }
    details.amountRead = null;
    const { sequence, observedAt, validUntil, ratioBps, digest, signer } = a;
    details.lookThrough = {
      ...details.lookThrough,
      attestation: { sequence, observedAt, validUntil, ratioBps, digest, signer: lower(signer) },
      marketPriceUsd: quorum.priceUsd,
      haircutBps: haircutBps(ratioBps),
    };
    priceUsd = haircutPrice(quorum.priceUsd, ratioBps);
  }
  item.amount = read.amount;
  item.priceUsd = priceUsd;
  item.valueUsd = valueUsd(read.amount, priceUsd, read.decimals);
  if (details.ownership.proven) {
    item.status = ReserveStatus.ON_CHAIN_PROVEN;
    return { item, details };
  }
  item.status = ReserveStatus.ON_CHAIN_UNPROVEN;
  return {
    item,
    details: {
      ...details,
      reason: `ownership of ${holderAddress} on chain ${chainId} is not proven: ${details.ownership.detail}`,
    },
  };
}

/** Own liability token, or a look-through whose backing leads back to this issuer. */
function circularReason(
  issuer: IssuerConfig,
  chainId: number,
  h: HoldingConfig,
  path: string[] | null,
): { exclusion: ExclusionCause; reason: string } | null {
  const own =
    h.type === "erc20" &&
    (isOwnLiabilityToken(issuer, chainId, h.token) ||
      (h.lookThrough?.issuer === issuer.id && h.lookThrough.url === undefined));
  if (own) {
    const name = issuer.liabilities.supply?.asset ?? "liability";
    return {
      exclusion: "own-token",
      reason: `circular: ${lower(h.token)} is ${issuer.id}'s own liability token (${name}); it counts zero`,
    };
  }
  if (h.type === "erc20" && h.lookThrough && path) {
    return {
      exclusion: "circular",
      reason: `circular: the backing of ${lookThroughName(h.lookThrough)} leads back to ${issuer.id} (${path.join(" → ")}); it counts zero`,
    };
  }
  return null;
}

function statementProblem(
  inputs: LineItemInputs,
  custodian: CustodianConfig,
  reading: StatementReading | undefined,
): { exclusion: ExclusionCause; reason: string } | null {
  const { readings, issuer } = inputs;
  if (!reading) return { exclusion: "statement-missing", reason: "no statement was received for this account" };
  if (!reading.result.ok)
    return { exclusion: "statement-invalid", reason: `statement rejected: ${reading.result.reason}` };
  const s = reading.result.value;
  if (!custodian.signers.some((a) => lower(a) === lower(s.signer))) {
    return {
      exclusion: "statement-invalid",
      reason: `signer ${s.signer} is not registered for custodian ${custodian.id}`,
    };
  }
  if (s.asOf > readings.observedAt + FUTURE_SKEW_SECONDS) {
    return {
      exclusion: "statement-invalid",
      reason: `asOf ${s.asOf} lies more than ${FUTURE_SKEW_SECONDS}s after observedAt ${readings.observedAt}`,
    };
  }
  const maxAge = BigInt(issuer.policy.statementMaxAgeSeconds);
  if (s.asOf < readings.observedAt && readings.observedAt - s.asOf > maxAge) {
    return {
      exclusion: "statement-stale",
      reason: `statement asOf ${s.asOf} is ${readings.observedAt - s.asOf}s old, over the ${maxAge}s limit`,
    };
  }
  return null;
}

function custodianItem(
  inputs: LineItemInputs,
  custodian: CustodianConfig,
  account: CustodianConfig["accounts"][number],
): ValuedLineItem {
  const asset = inputs.issuer.assets.find((a) => a.id === account.asset);
  const decimals = asset?.decimals ?? 0;
  const reading = inputs.readings.statements.find(
    (s) => s.custodian === custodian.id && s.account === account.account && s.asset === account.asset,
  );
  const statement = reading?.result.ok
    ? {
        amount: reading.result.value.amount,
        asOf: reading.result.value.asOf,
        nonce: reading.result.value.nonce,
        signer: lower(reading.result.value.signer),
      }
    : null;
  const details: CustodianDetails = {
    kind: "custodian",
    asset: account.asset,
    decimals,
    custodian: custodian.id,
    account: account.account,
    statement,
    reason: null,
    exclusion: null,
  };
  const item: ReserveLineItem = {
    label: custodianLabel(custodian.id, account.account, account.asset),
    chainId: 0n,
    holder: ZERO_ADDRESS,
    token: ZERO_ADDRESS,
    amount: 0n,
    priceUsd: 0n,
    valueUsd: 0n,
    status: ReserveStatus.EXCLUDED,
  };
  const problem = statementProblem(inputs, custodian, reading);
  if (problem) return { item, details: { ...details, ...problem } };
  const quorum = inputs.prices.get(account.asset);
  if (!asset || !quorum || quorum.priceUsd === null) {
    return {
      item,
      details: {
        ...details,
        exclusion: "unpriced",
        reason: `asset ${account.asset} has no price: ${quorum?.reason ?? "it was not priced"}`,
      },
    };
  }
  const amount = statement!.amount;
  item.amount = amount;
  item.priceUsd = quorum.priceUsd;
  item.valueUsd = valueUsd(amount, quorum.priceUsd, decimals);
  item.status = ReserveStatus.OFF_CHAIN_STATEMENT;
  return { item, details };
}

/**
 * SPEC §3 line items in configuration order: every holder's holdings, then
 * every custodian's accounts. Every configured source yields exactly one
 * item; one that could not be read or priced is status 3 with its reason,
 * so reserves are only ever understated, never silently dropped.
 */
export function reserveLineItems(inputs: LineItemInputs): ValuedLineItem[] {
  const out: ValuedLineItem[] = [];
  for (const holder of inputs.issuer.reserves.holders) {
    for (const h of holder.holdings) out.push(onchainItem(inputs, holder, h));
  }
  for (const custodian of inputs.issuer.reserves.custodians) {
    for (const account of custodian.accounts) out.push(custodianItem(inputs, custodian, account));
  }
  return out;
}

/** Labels used by more than one item (their leaves would be indistinguishable by sourceId). */
export function duplicateLabels(items: readonly ValuedLineItem[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const { item } of items) (seen.has(item.label) ? dup : seen).add(item.label);
  return [...dup];
}
