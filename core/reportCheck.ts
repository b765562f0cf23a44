import { keccak256 } from "viem";
import { type Attestation, issuerKey, ZERO_HASH } from "./attestation.js";
import { SolventError } from "./errors.js";
import { FLAGS } from "./flags.js";
import { GROUP_ORDER, parsePoint, parseScalar, pedersen, SCHEME } from "./liabilities/private/group.js";
import { VALUE_LIMIT } from "./liabilities/private/quantise.js";
import { parseAmount, ratioBps, valueUsd } from "./numbers.js";
import { type ReserveLineItem, ReserveStatus, reserveLineItemFromJson, reservesRoot } from "./reservesTree.js";

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const sum = (values: readonly bigint[]) => values.reduce((a, b) => a + b, 0n);

/** Runs one check; a malformed field becomes a problem instead of an exception. False when it threw. */
function attempt(problems: string[], check: () => void): boolean {
  try {
    check();
    return true;
  } catch (error) {
    if (error instanceof SolventError) problems.push(error.message);
    else throw error;
    return false;
  }
}

function decodeReport(bytes: Uint8Array): Json | string {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return "the report is not valid UTF-8";
  }
  try {
    const json: unknown = JSON.parse(text);
    return isObject(json) ? json : "the report is not a JSON object";
  } catch (error) {
    return `the report is not valid JSON: ${(error as Error).message}`;
  }
}

function checkHeader(report: Json, a: Attestation, problems: string[]): void {
  if (report.version !== 1) problems.push(`report version ${JSON.stringify(report.version)} is not 1`);
  if (typeof report.issuer !== "string" || report.issuer === "")
    problems.push("report issuer must be a non-empty string");
  else if (issuerKey(report.issuer) !== a.issuer.toLowerCase())
    problems.push(`keccak256("${report.issuer}") is not the attestation issuer ${a.issuer}`);
  for (const key of ["sequence", "observedAt", "validUntil"] as const) {
    attempt(problems, () => {
      const value = parseAmount(report[key], `report.${key}`);
      if (value !== a[key]) problems.push(`report ${key} ${value} differs from the attestation's ${a[key]}`);
    });
  }
}

/**
 * A look-through item's price must be its market price cut to the attested
 * ratio: priceUsd = floor(marketPriceUsd × min(ratioBps, 10000) / 10000).
 */
function checkLookThrough(item: ReserveLineItem, look: unknown, index: number, problems: string[]): void {
  if (!isObject(look) || item.status === ReserveStatus.EXCLUDED) return;
  const at = `reserves.items[${index}].details.lookThrough`;
  const attestation = isObject(look.attestation) ? look.attestation : null;
  if (!attestation) {
    problems.push(`${at}: a counted look-through item (${item.label}) must name the attestation it relied on`);
    return;
  }
  const ratio = parseAmount(attestation.ratioBps, `${at}.attestation.ratioBps`);
  const market = parseAmount(look.marketPriceUsd, `${at}.marketPriceUsd`);
  const haircut = parseAmount(look.haircutBps, `${at}.haircutBps`);
  const expectedHaircut = ratio < 10000n ? ratio : 10000n;
  if (haircut !== expectedHaircut) problems.push(`${at}: haircutBps ${haircut} is not min(ratioBps ${ratio}, 10000)`);
  const expected = (market * expectedHaircut) / 10000n;
  if (item.priceUsd !== expected) {
    problems.push(
      `reserves.items[${index}] (${item.label}): priceUsd ${item.priceUsd} is not floor(${market} × ${expectedHaircut} / 10000) = ${expected}`,
    );
  }
}

/** Item values must follow from amount, price and the decimals the report states (SPEC §1). */
function checkItemValue(item: ReserveLineItem, raw: Json, index: number, problems: string[]): void {
  if (isObject(raw.details)) checkLookThrough(item, raw.details.lookThrough, index, problems);
  if (item.status === ReserveStatus.EXCLUDED || !isObject(raw.details) || typeof raw.details.decimals !== "string")
    return;
  const decimals = Number(parseAmount(raw.details.decimals, `reserves.items[${index}].details.decimals`, 77n));
  const expected = valueUsd(item.amount, item.priceUsd, decimals);
  if (expected !== item.valueUsd) {
    problems.push(
      `reserves.items[${index}] (${item.label}): valueUsd ${item.valueUsd} is not floor(${item.amount} × ${item.priceUsd} / 10^${decimals}) = ${expected}`,
    );
  }
}

/** Parses the items and returns the counted sums, or null when an item is unreadable. */
function checkReserves(report: Json, a: Attestation, problems: string[]): { onchain: bigint; offchain: bigint } | null {
  const reserves = report.reserves;
  if (!isObject(reserves) || !Array.isArray(reserves.items)) {
    problems.push("report reserves.items is missing");
    return null;
  }
  const rawItems: unknown[] = reserves.items;
  const items: ReserveLineItem[] = [];
  rawItems.forEach((raw, i) => {
    attempt(problems, () => {
      const item = reserveLineItemFromJson(raw, i);
      items.push(item);
      checkItemValue(item, raw as Json, i, problems);
    });
  });
  if (items.length !== rawItems.length) return null;
  attempt(problems, () => {
    const root = reservesRoot(items);
    if (root !== a.reservesRoot.toLowerCase())
      problems.push(
        `reservesRoot recomputed from the report items ${root} differs from the attestation's ${a.reservesRoot}`,
      );
    if (reserves.root !== undefined && reserves.root !== root)
      problems.push(`report reserves.root ${String(reserves.root)} is not the root of its items ${root}`);
  });
  const totalOf = (status: ReserveStatus) => sum(items.filter((x) => x.status === status).map((x) => x.valueUsd));
  return { onchain: totalOf(ReserveStatus.ON_CHAIN_PROVEN), offchain: totalOf(ReserveStatus.OFF_CHAIN_STATEMENT) };
}

function checkSupply(liabilities: Json, asset: Json, index: number, problems: string[]): void {
  const supply = Array.isArray(liabilities.supply) ? (liabilities.supply as unknown[]) : [];
  const values = supply.map((raw, i) => {
    const at = `liabilities.supply[${i}]`;
    const s = isObject(raw) ? raw : {};
    const total = parseAmount(s.totalSupply, `${at}.totalSupply`);
    const escrows = Array.isArray(s.escrows) ? (s.escrows as unknown[]) : [];
    const escrowed = sum(
      escrows.map((e, k) => parseAmount(isObject(e) ? e.amount : undefined, `${at}.escrows[${k}].amount`)),
    );
    const net = parseAmount(s.netSupply, `${at}.netSupply`);
    if (escrowed > total || net !== total - escrowed)
      problems.push(`${at}: netSupply ${net} is not totalSupply ${total} minus escrows ${escrowed}`);
    const decimals = Number(parseAmount(s.decimals, `${at}.decimals`, 77n));
    const value = parseAmount(s.valueUsd, `${at}.valueUsd`);
    const expected = valueUsd(net, parseAmount(s.pegUsd, `${at}.pegUsd`), decimals);
    if (value !== expected)
      problems.push(`${at}: valueUsd ${value} is not floor(${net} × pegUsd / 10^${decimals}) = ${expected}`);
    return value;
  });
  const stated = parseAmount(asset.valueUsd, `liabilities.assets[${index}].valueUsd`);
  if (stated !== sum(values))
    problems.push(
      `liabilities.assets[${index}] (${String(asset.asset)}): valueUsd ${stated} is not the sum ${sum(values)} of the supply entries`,
    );
}

/** Returns liabilitiesUsd as the sum of the per-asset values, checking each against its inputs. */
function checkLiabilities(report: Json, a: Attestation, problems: string[]): bigint | null {
  const liabilities = report.liabilities;
  if (!isObject(liabilities) || !Array.isArray(liabilities.assets)) {
    problems.push("report liabilities.assets is missing");
    return null;
  }
  const root = liabilities.root === null ? ZERO_HASH : liabilities.root;
  if (typeof root !== "string" || root.toLowerCase() !== a.liabilitiesRoot.toLowerCase()) {
    problems.push(
      `liabilities root ${String(liabilities.root)} (zero when null) differs from the attestation's liabilitiesRoot ${a.liabilitiesRoot}`,
    );
  }
  let total = 0n;
  let readable = true;
  (liabilities.assets as unknown[]).forEach((raw, i) => {
    const done = attempt(problems, () => {
      const at = `liabilities.assets[${i}]`;
      const asset = isObject(raw) ? raw : {};
      const value = parseAmount(asset.valueUsd, `${at}.valueUsd`);
      total += value;
      if (asset.source === "supply") return checkSupply(liabilities, asset, i, problems);
      const amount = parseAmount(asset.amount, `${at}.amount`);
      const price = parseAmount(asset.priceUsd, `${at}.priceUsd`);
      const decimals = Number(parseAmount(asset.decimals, `${at}.decimals`, 77n));
      const expected = valueUsd(amount, price, decimals);
      if (value !== expected)
        problems.push(
          `${at} (${String(asset.asset)}): valueUsd ${value} is not floor(${amount} × ${price} / 10^${decimals}) = ${expected}`,
        );
    });
    if (!done) readable = false;
  });
  return readable ? total : null;
}

const LEDGER_SCHEMES = ["sum-sha256-v1", "pedersen-ristretto255-v2"];

/**
 * SPEC §4 `liabilities.ledger`: an id, an asOf no later than observedAt, a leaf
 * count, a known scheme, `order` absent or "commitment", and root sums equal to
 * the ledger assets' amounts. Reports from before §4 named the ledger
 * (`ledgerId`, `users`) are only checked for their root sums.
 */
function checkLedger(report: Json, a: Attestation, problems: string[]): void {
  const liabilities = isObject(report.liabilities) ? report.liabilities : {};
  const ledger = liabilities.ledger;
  if (ledger === undefined || ledger === null) {
    if (liabilities.root !== null && liabilities.root !== undefined)
      problems.push("liabilities.root is set but liabilities.ledger does not name the ledger");
    return;
  }
  if (!isObject(ledger)) {
    problems.push("liabilities.ledger must be an object");
    return;
  }
  const legacy = "ledgerId" in ledger && !("id" in ledger);
  if (!legacy) {
    if (typeof ledger.id !== "string" || ledger.id === "")
      problems.push("liabilities.ledger.id must be a non-empty string");
    attempt(problems, () => {
      const asOf = parseAmount(ledger.asOf, "liabilities.ledger.asOf");
      if (asOf > a.observedAt)
        problems.push(`liabilities.ledger.asOf ${asOf} is after the attestation's observedAt ${a.observedAt}`);
    });
    attempt(problems, () => {
      if (parseAmount(ledger.leafCount, "liabilities.ledger.leafCount") < 1n)
        problems.push("liabilities.ledger.leafCount must be at least 1");
    });
    if (!LEDGER_SCHEMES.includes(ledger.scheme as string))
      problems.push(
        `liabilities.ledger.scheme ${JSON.stringify(ledger.scheme)} is not one of ${LEDGER_SCHEMES.join(", ")}`,
      );
    if ("order" in ledger && ledger.order !== "commitment")
      problems.push(`liabilities.ledger.order ${JSON.stringify(ledger.order)} must be "commitment" or absent`);
  }
  const ledgerAssets = Array.isArray(liabilities.assets)
    ? (liabilities.assets as unknown[]).filter((x): x is Json => isObject(x) && x.source === "ledger")
    : [];
  if (!legacy && ledger.scheme === SCHEME) {
    checkPrivateLedger(ledger, ledgerAssets, problems);
    return;
  }
  const sums = Array.isArray(ledger.rootSums) ? (ledger.rootSums as unknown[]) : [];
  if (sums.length !== ledgerAssets.length) {
    problems.push(`liabilities.ledger has ${sums.length} root sums for ${ledgerAssets.length} ledger asset(s)`);
    return;
  }
  ledgerAssets.forEach((asset, i) => {
    attempt(problems, () => {
      const sum = parseAmount(sums[i], `liabilities.ledger.rootSums[${i}]`);
      if (sum !== parseAmount(asset.amount, `liabilities ledger asset ${String(asset.asset)} amount`)) {
        problems.push(
          `liabilities.ledger.rootSums[${i}] ${sum} differs from the amount ${String(asset.amount)} of ledger asset ${String(asset.asset)}`,
        );
      }
    });
  });
}

const PRIVATE_LISTS = ["assets", "unitDecimals", "rootCommitments", "totals", "totalBlindings"] as const;

/**
 * A private ledger (SPEC §11, docs/spec.md §4): one entry per ledger asset in
 * each list, no `rootSums`; each root commitment opens to its total with its
 * total blinding (C = total·G + blinding·H), each total is below 2^64 units,
 * and each ledger asset's amount is its total × 10^(decimals − unitDecimals).
 */
function checkPrivateLedger(ledger: Json, ledgerAssets: Json[], problems: string[]): void {
  if ("rootSums" in ledger)
    problems.push("liabilities.ledger.rootSums must be absent for a private ledger (its totals are committed)");
  const lists: Partial<Record<(typeof PRIVATE_LISTS)[number], unknown[]>> = {};
  for (const name of PRIVATE_LISTS) {
    const list = ledger[name];
    if (!Array.isArray(list) || list.length !== ledgerAssets.length) {
      problems.push(
        `liabilities.ledger.${name} must list one entry per ledger asset (${ledgerAssets.length}), got ${Array.isArray(list) ? list.length : "none"}`,
      );
      return;
    }
    lists[name] = list;
  }
  ledgerAssets.forEach((asset, k) => {
    const at = (name: string) => `liabilities.ledger.${name}[${k}]`;
    attempt(problems, () => {
      if (lists.assets![k] !== asset.asset)
        problems.push(`${at("assets")} ${JSON.stringify(lists.assets![k])} is not ledger asset ${String(asset.asset)}`);
      const total = parseAmount(lists.totals![k], at("totals"));
      if (total >= VALUE_LIMIT) problems.push(`${at("totals")} ${total} does not fit below 2^64 units`);
      const commitment = parsePoint(String(lists.rootCommitments![k]), at("rootCommitments"));
      const blinding = parseScalar(String(lists.totalBlindings![k]), at("totalBlindings"));
      if (total < GROUP_ORDER && !commitment.equals(pedersen(total, blinding)))
        problems.push(`${at("rootCommitments")} does not open to total ${total} with ${at("totalBlindings")}`);
      const decimals = Number(parseAmount(asset.decimals, `liabilities ledger asset ${String(asset.asset)} decimals`));
      const kept = lists.unitDecimals![k];
      if (typeof kept !== "number" || !Number.isInteger(kept) || kept < 0 || kept > decimals) {
        problems.push(`${at("unitDecimals")} must be an integer from 0 to the asset's ${decimals} decimals`);
        return;
      }
      const amount = total * 10n ** BigInt(decimals - kept);
      if (amount !== parseAmount(asset.amount, `liabilities ledger asset ${String(asset.asset)} amount`))
        problems.push(
          `ledger asset ${String(asset.asset)} amount ${String(asset.amount)} is not ${at("totals")} ${total} × 10^${decimals - kept} = ${amount}`,
        );
    });
  });
}

/** One leaf of a ledger as a proof (or a full listing) shows it: its index and its 32-byte commitment. */
export interface LeafAt {
  leafIndex: number;
  commitment: Uint8Array;
}

/**
 * SPEC §2 leaf order against a report's `liabilities.ledger`: when it says
 * `"order": "commitment"`, leaves at higher indices have strictly greater
 * commitments (unsigned, byte-wise) and every index is below the leaf count.
 * Give every leaf (an audit of the stored tree) or just the ones a user holds
 * proofs for; ledgers without `order` are in random order and pass.
 */
export function checkLeafOrder(ledger: unknown, leaves: readonly LeafAt[]): string[] {
  if (!isObject(ledger) || ledger.order !== "commitment") return [];
  const problems: string[] = [];
  const count =
    typeof ledger.leafCount === "string" && /^(0|[1-9][0-9]*)$/.test(ledger.leafCount)
      ? Number(ledger.leafCount)
      : null;
  const sorted = [...leaves].sort((x, y) => x.leafIndex - y.leafIndex);
  sorted.forEach((leaf, i) => {
    if (count !== null && leaf.leafIndex >= count)
      problems.push(`leaf ${leaf.leafIndex} is beyond the ledger's leafCount ${count}`);
    const prev = sorted[i - 1];
    if (prev === undefined) return;
    if (prev.leafIndex === leaf.leafIndex) {
      problems.push(`leaf ${leaf.leafIndex} is given twice`);
      return;
    }
    if (compareBytes(prev.commitment, leaf.commitment) >= 0) {
      problems.push(
        `leaf ${leaf.leafIndex} has a commitment not greater than leaf ${prev.leafIndex}'s, but the ledger says "order": "commitment"`,
      );
    }
  });
  return problems;
}

function compareBytes(x: Uint8Array, y: Uint8Array): number {
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

function checkFlags(report: Json, a: Attestation, problems: string[]): void {
  if (!Array.isArray(report.flags)) {
    problems.push("report flags is missing");
    return;
  }
  let bits = 0n;
  (report.flags as unknown[]).forEach((raw, i) => {
    const flag = isObject(raw) ? raw : {};
    const known = FLAGS.find((f) => f.bit === flag.bit);
    if (!known || known.name !== flag.name) {
      problems.push(
        `flags[${i}]: bit ${JSON.stringify(flag.bit)} / name ${JSON.stringify(flag.name)} is not a SPEC §6 flag`,
      );
      return;
    }
    if (typeof flag.reason !== "string" || flag.reason === "")
      problems.push(`flags[${i}] (${known.name}) has no reason`);
    bits |= 1n << BigInt(known.bit);
  });
  const items =
    isObject(report.reserves) && Array.isArray(report.reserves.items) ? (report.reserves.items as unknown[]) : [];
  const circular = items.find(
    (raw) =>
      isObject(raw) &&
      isObject(raw.details) &&
      (raw.details.exclusion === "own-token" || raw.details.exclusion === "circular"),
  );
  if (circular !== undefined && ((a.flags >> 5n) & 1n) === 0n) {
    problems.push(
      `reserve item ${String((circular as Json).label)} is excluded as circular but CIRCULAR_RESERVES (bit 5) is not set`,
    );
  }
  if (bits !== a.flags) {
    const names = (b: bigint) =>
      FLAGS.filter((f) => (b >> BigInt(f.bit)) & 1n)
        .map((f) => f.name)
        .join(", ") || "none";
    problems.push(
      `report flags [${names(bits)}] (0x${bits.toString(16)}) differ from the attestation flags [${names(a.flags)}] (0x${a.flags.toString(16)})`,
    );
  }
}

function checkTotals(
  report: Json,
  a: Attestation,
  computed: Record<"reservesUsd" | "onchainReservesUsd" | "offchainReservesUsd" | "liabilitiesUsd", bigint | null>,
  problems: string[],
): void {
  const totals = isObject(report.totals) ? report.totals : null;
  if (!totals) problems.push("report totals is missing");
  for (const key of ["reservesUsd", "onchainReservesUsd", "offchainReservesUsd", "liabilitiesUsd"] as const) {
    const value = computed[key];
    if (value !== null && value !== a[key])
      problems.push(`${key} recomputed from the report is ${value}, the attestation says ${a[key]}`);
    if (totals) {
      attempt(problems, () => {
        const stated = parseAmount(totals[key], `report totals.${key}`);
        if (stated !== a[key]) problems.push(`report totals.${key} ${stated} differs from the attestation's ${a[key]}`);
      });
    }
  }
  if (computed.reservesUsd !== null && computed.liabilitiesUsd !== null) {
    const ratio = ratioBps(computed.reservesUsd, computed.liabilitiesUsd);
    if (ratio !== a.ratioBps)
      problems.push(`ratioBps recomputed from the report is ${ratio}, the attestation says ${a.ratioBps}`);
  }
  if (totals) {
    attempt(problems, () => {
      const stated = parseAmount(totals.ratioBps, "report totals.ratioBps");
      if (stated !== BigInt(a.ratioBps))
        problems.push(`report totals.ratioBps ${stated} differs from the attestation's ${a.ratioBps}`);
    });
  }
}

/**
 * What a third party re-computes from the report bytes alone and compares
 * with the signed attestation: the hash, the issuer and times, the reserves
 * root and counted sums, liabilities, the ratio, the flags and the
 * liabilities root. Returns every problem found; empty means consistent.
 */
export function checkReport(bytes: Uint8Array, attestation: Attestation): string[] {
  const problems: string[] = [];
  const hash = keccak256(bytes);
  if (hash !== attestation.reportHash.toLowerCase())
    problems.push(`keccak256 of the report bytes ${hash} is not the attestation reportHash ${attestation.reportHash}`);
  const report = decodeReport(bytes);
  if (typeof report === "string") return [...problems, report];

  attempt(problems, () => checkHeader(report, attestation, problems));
  const reserves = checkReserves(report, attestation, problems);
  const liabilitiesUsd = checkLiabilities(report, attestation, problems);
  checkLedger(report, attestation, problems);
  checkTotals(
    report,
    attestation,
    {
      reservesUsd: reserves && reserves.onchain + reserves.offchain,
      onchainReservesUsd: reserves === null ? null : reserves.onchain,
      offchainReservesUsd: reserves === null ? null : reserves.offchain,
      liabilitiesUsd,
    },
    problems,
  );
  checkFlags(report, attestation, problems);
  return problems;
}
