import { keccak256 } from "viem";
import { describe, expect, it } from "vitest";
import { type Attestation, issuerKey, nextAttestation, ZERO_HASH } from "../../core/attestation.js";
import { bytesToHex, utf8 } from "../../core/bytes.js";
import { buildPrivateLedger, scalarToHex } from "../../core/liabilities/private/index.js";
import { type BuildReportOptions, buildReport } from "../../core/report.js";
import { checkLeafOrder, checkReport } from "../../core/reportCheck.js";
import { reserveLineItemFromJson, reservesRoot } from "../../core/reservesTree.js";
import type { TickReadings } from "../../core/valuation/readings.js";
import { type Snapshot, valueSnapshot } from "../../core/valuation/snapshot.js";
import {
  AUSD_1,
  AUSD_BASE,
  baseReadings,
  E18,
  ESCROW,
  H1,
  LEDGER_ROOT,
  makeIssuer,
  NATIVE,
  OBSERVED_AT,
  readingsWith,
  SIGNER,
  USDC_1,
} from "./valuationFixture.js";

const issuer = makeIssuer();

function snapshotOf(readings: TickReadings, iss = issuer): Snapshot {
  const result = valueSnapshot({ issuer: iss, readings });
  if (!result.ok) throw new Error(`expected a snapshot, got: ${result.reason}`);
  return result.snapshot;
}

function options(readings: TickReadings, iss = issuer): BuildReportOptions {
  return {
    issuerId: iss.id,
    sequence: 1n,
    observedAt: OBSERVED_AT,
    validUntil: OBSERVED_AT + 3600n,
    policy: iss.policy,
    blocks: readings.blocks,
  };
}

/** Report bytes and the attestation that signs them, built the way the tick will. */
function published(readings: TickReadings, iss = issuer) {
  const snapshot = snapshotOf(readings, iss);
  const built = buildReport(snapshot, options(readings, iss));
  const attestation = nextAttestation(null, {
    issuer: issuerKey(iss.id),
    observedAt: OBSERVED_AT,
    validUntil: OBSERVED_AT + 3600n,
    ...snapshot.totals,
    reservesRoot: snapshot.reservesRoot,
    liabilitiesRoot: snapshot.liabilitiesRoot,
    flags: snapshot.flagBits,
    reportHash: built.reportHash,
  });
  return { snapshot, ...built, attestation };
}

type Doc = Record<string, any>;
const parse = (bytes: Uint8Array): Doc => JSON.parse(new TextDecoder().decode(bytes)) as Doc;
const reserialize = (doc: Doc) => utf8(`${JSON.stringify(doc, null, 2)}\n`);
const tampered = (bytes: Uint8Array, edit: (doc: Doc) => void) => {
  const doc = parse(bytes);
  edit(doc);
  return reserialize(doc);
};

/** Every JSON number in the document, with its key: only `status` and `bit` may be numbers. */
function numberKeys(value: unknown, key = ""): string[] {
  if (typeof value === "number") return [key];
  if (Array.isArray(value)) return value.flatMap((v) => numberKeys(v, key));
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => numberKeys(v, k));
  return [];
}

describe("buildReport", () => {
  const readings = baseReadings();
  const { snapshot, report, bytes, reportHash } = published(readings);
  const doc = parse(bytes);

  it("serialises the document as 2-space JSON with a trailing newline and hashes those exact bytes", () => {
    const text = new TextDecoder().decode(bytes);
    expect(text.endsWith("}\n")).toBe(true);
    expect(text.startsWith('{\n  "version": 1,\n  "issuer": "acme-usd",')).toBe(true);
    expect(doc).toEqual(report);
    expect(reportHash).toBe(keccak256(bytes));
  });

  it("carries the SPEC §4 header and totals as decimal strings", () => {
    expect(doc).toMatchObject({
      version: 1,
      issuer: "acme-usd",
      sequence: "1",
      observedAt: "1700000000",
      validUntil: "1700003600",
    });
    expect(doc.totals).toEqual({
      reservesUsd: "700000000000000000000000",
      onchainReservesUsd: "650000000000000000000000",
      offchainReservesUsd: "50000000000000000000000",
      liabilitiesUsd: "650000000000000000000000",
      ratioBps: "10769",
    });
    expect(doc.policy).toEqual({
      ttlSeconds: "3600",
      maxSourceAgeSeconds: "3600",
      statementMaxAgeSeconds: "86400",
      priceDivergenceBps: "100",
      offchainShareMaxBps: "5000",
      concentrationMaxBps: "10000",
      supplyGrowthMaxBps: "1000",
      reserveDropMaxBps: "2000",
      reserveDropWindowSeconds: "86400",
      pegDeviationMaxBps: "100",
    });
    expect(Object.keys(doc.policy).slice(5)).toEqual([
      "concentrationMaxBps",
      "supplyGrowthMaxBps",
      "reserveDropMaxBps",
      "reserveDropWindowSeconds",
      "pegDeviationMaxBps",
    ]);
    expect(doc.liabilities.market).toBeNull();
    expect(doc.flags).toEqual([]);
    expect(numberKeys(doc).filter((k) => k !== "status" && k !== "bit" && k !== "version")).toEqual([]);
  });

  it("lists the items in tree order with leaf fields and their details", () => {
    expect(doc.reserves.items.map((i: Doc) => i.label)).toEqual(snapshot.items.map((v) => v.item.label));
    expect(doc.reserves.items[0]).toEqual({
      label: `evm:1:${H1}:${NATIVE}`,
      chainId: "1",
      holder: H1,
      token: NATIVE,
      amount: "10000000000000000000",
      priceUsd: "3000000000000000000000",
      valueUsd: "30000000000000000000000",
      status: 0,
      details: {
        kind: "native",
        asset: "ETH",
        holderName: "Treasury",
        source: NATIVE,
        decimals: "18",
        blockNumber: "20000000",
        shares: null,
        amountRead: null,
        ownership: { method: "eoa", proven: true, detail: "personal_sign recovers the holder" },
        lookThrough: null,
        exclusion: null,
        reason: null,
      },
    });
    expect(doc.reserves.items[2].details).toMatchObject({ kind: "erc4626", shares: "95000000000", decimals: "6" });
    expect(doc.reserves.items[2].token).toBe(USDC_1);
    expect(doc.reserves.items[4].details).toEqual({
      kind: "custodian",
      asset: "USD",
      decimals: "2",
      custodian: "acme-trust",
      account: "ops",
      statement: {
        custodian: "acme-trust",
        account: "ops",
        amount: "5000000",
        nonce: "7",
        asOf: String(OBSERVED_AT - 600n),
        signer: SIGNER,
      },
      exclusion: null,
      reason: null,
    });
    const items = (doc.reserves.items as unknown[]).map((raw, i) => reserveLineItemFromJson(raw, i));
    expect(reservesRoot(items)).toBe(snapshot.reservesRoot);
    expect(doc.reserves.root).toBe(snapshot.reservesRoot);
  });

  it("shows every price observation and the chosen price", () => {
    const eth = doc.prices.find((p: Doc) => p.asset === "ETH");
    expect(eth).toMatchObject({
      priceUsd: "3000000000000000000000",
      method: "median",
      divergenceBps: "67",
      divergent: false,
    });
    // (3010 − 2990) × 10000 / 2990 = 66.9 → 67
    expect(eth.observations.map((o: Doc) => [o.source, o.priceUsd, o.accepted])).toEqual([
      [expect.stringMatching(/^chainlink:1:/), "3000000000000000000000", true],
      ["http:https://a.example/eth", "3010000000000000000000", true],
      ["http:https://b.example/eth", "2990000000000000000000", true],
    ]);
  });

  it("shows liabilities per asset and per supply chain, with a null root for supply only", () => {
    expect(doc.liabilities.assets).toEqual([
      {
        asset: "AUSD",
        source: "supply",
        amount: "650000000000000000000000",
        decimals: "18",
        priceUsd: "1000000000000000000",
        priceMethod: "peg",
        valueUsd: "650000000000000000000000",
      },
    ]);
    expect(doc.liabilities.supply[0]).toEqual({
      chainId: "1",
      token: AUSD_1,
      decimals: "18",
      blockNumber: "20000000",
      totalSupply: "700000000000000000000000",
      escrows: [{ address: ESCROW, amount: "100000000000000000000000" }],
      netSupply: "600000000000000000000000",
      pegUsd: "1000000000000000000",
      valueUsd: "600000000000000000000000",
    });
    expect(doc.liabilities.supply[1]).toMatchObject({
      chainId: "8453",
      token: AUSD_BASE,
      totalSupply: "50000000000",
      valueUsd: "50000000000000000000000",
    });
    expect(doc.liabilities.root).toBeNull();
    expect(doc.liabilities.ledger).toBeNull();
  });

  it("lists the pinned blocks by chain", () => {
    expect(doc.blocks.map((b: Doc) => [b.chainId, b.number, b.error])).toEqual([
      ["1", "20000000", null],
      ["8453", "30000000", null],
    ]);
  });

  it("is byte-for-byte deterministic for the same readings", () => {
    const again = published(baseReadings());
    expect(again.bytes).toEqual(bytes);
    expect(again.reportHash).toBe(reportHash);
    const next = buildReport(snapshot, { ...options(readings), sequence: 2n });
    expect(next.reportHash).not.toBe(reportHash);
  });

  it("refuses options that disagree with the snapshot", () => {
    expect(() => buildReport(snapshot, { ...options(readings), observedAt: OBSERVED_AT + 1n })).toThrow(/observedAt/);
    expect(() => buildReport(snapshot, { ...options(readings), issuerId: "other" })).toThrow(/issuer/);
  });
});

/** The test issuer with its AUSD supply on two chains and a user ledger configured as `ledger`. */
const supplyAndLedgerIssuer = (ledger: { assets: string[]; scheme?: "plain" | "private" }) =>
  makeIssuer({
    liabilities: {
      supply: {
        asset: "AUSD",
        pegUsd: E18.toString(),
        tokens: [
          { chainId: 1, token: AUSD_1, escrows: [ESCROW] },
          { chainId: 8453, token: AUSD_BASE },
        ],
      },
      ledger,
    },
  });

describe("checkReport", () => {
  const base = published(baseReadings());

  it("finds nothing wrong with a consistent report and attestation", () => {
    expect(checkReport(base.bytes, base.attestation)).toEqual([]);
  });

  it("finds nothing wrong with a flagged snapshot, excluded items and a ledger", () => {
    const withLedger = makeIssuer({
      liabilities: {
        supply: {
          asset: "AUSD",
          pegUsd: E18.toString(),
          tokens: [
            { chainId: 1, token: AUSD_1, escrows: [ESCROW] },
            { chainId: 8453, token: AUSD_BASE },
          ],
        },
        ledger: { assets: ["USD", "ETH"] },
      },
    });
    const readings = readingsWith((r) => {
      r.ledger = {
        ledgerId: "l1",
        assets: ["USD", "ETH"],
        root: LEDGER_ROOT,
        rootSums: [123_456n, 3n * E18 + 7n],
        users: 3,
        asOf: 1_700_000_000,
        order: "commitment",
      };
      r.ownership[1]!.proven = false;
      r.statements = [];
    });
    const p = published(readings, withLedger);
    expect(p.snapshot.flags.map((f) => f.name)).toEqual(["UNDERCOLLATERALIZED", "STALE_SOURCE", "UNPROVEN_OWNERSHIP"]); // 630,000 counted vs 650,000 + ledger
    expect(parse(p.bytes).liabilities.root).toBe(LEDGER_ROOT);
    expect(checkReport(p.bytes, p.attestation)).toEqual([]);
  });

  it("names a reportHash mismatch and nothing else when only the hash differs", () => {
    const other: Attestation = { ...base.attestation, reportHash: ZERO_HASH };
    const problems = checkReport(base.bytes, other);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/reportHash/);
  });

  it("names an edited item amount: its value and the reserves root no longer match", () => {
    const bytes = tampered(base.bytes, (doc) => (doc.reserves.items[1].amount = "600000000000"));
    const problems = checkReport(bytes, base.attestation);
    expect(problems).toContainEqual(expect.stringMatching(/keccak256 of the report bytes/));
    expect(problems).toContainEqual(expect.stringMatching(/reservesRoot recomputed from the report items/));
    expect(problems).toContainEqual(
      expect.stringMatching(/reserves\.items\[1\].*valueUsd 500000000000000000000000 is not floor/),
    );
  });

  it("names an edited item value: the counted sum no longer matches the attestation", () => {
    const bytes = tampered(base.bytes, (doc) => (doc.reserves.items[4].valueUsd = "60000000000000000000000"));
    const problems = checkReport(bytes, base.attestation);
    expect(problems).toContainEqual(
      expect.stringMatching(/offchainReservesUsd recomputed from the report is 60000000000000000000000/),
    );
    expect(problems).toContainEqual(
      expect.stringMatching(/reservesUsd recomputed from the report is 710000000000000000000000/),
    );
  });

  it("names an edited total", () => {
    const bytes = tampered(base.bytes, (doc) => (doc.totals.reservesUsd = "800000000000000000000000"));
    expect(checkReport(bytes, base.attestation)).toContainEqual(
      expect.stringMatching(/report totals\.reservesUsd 800000000000000000000000 differs/),
    );
  });

  it("names an edited liability", () => {
    const bytes = tampered(base.bytes, (doc) => {
      doc.liabilities.assets[0].valueUsd = "1";
    });
    const problems = checkReport(bytes, base.attestation);
    expect(problems).toContainEqual(expect.stringMatching(/liabilitiesUsd recomputed from the report is 1,/));
    expect(problems).toContainEqual(expect.stringMatching(/liabilities\.assets\[0\] \(AUSD\)/));
    expect(problems).toContainEqual(expect.stringMatching(/ratioBps recomputed/));
  });

  it("names the ledger as SPEC §4 { id, asOf, leafCount, order, scheme } and names edits of it", () => {
    const ledgerIssuer = supplyAndLedgerIssuer({ assets: ["USD", "ETH"] });
    const asOf = Number(OBSERVED_AT) - 600;
    const p = published(
      readingsWith((r) => {
        r.ledger = {
          ledgerId: "lg_1",
          assets: ["USD", "ETH"],
          root: LEDGER_ROOT,
          rootSums: [123_456n, 3n * E18 + 7n],
          users: 3,
          asOf,
          order: "commitment",
        };
      }),
      ledgerIssuer,
    );
    expect(parse(p.bytes).liabilities.ledger).toEqual({
      id: "lg_1",
      asOf: String(asOf),
      leafCount: "3",
      order: "commitment",
      scheme: "sum-sha256-v1",
      assets: ["USD", "ETH"],
      rootSums: ["123456", (3n * E18 + 7n).toString()],
    });
    expect(checkReport(p.bytes, p.attestation)).toEqual([]);
    const edits: [(doc: Doc) => void, RegExp][] = [
      [
        (doc) => (doc.liabilities.ledger.asOf = String(OBSERVED_AT + 1n)),
        /liabilities\.ledger\.asOf \d+ is after the attestation's observedAt/,
      ],
      [
        (doc) => (doc.liabilities.ledger.scheme = "sum-sha256-v0"),
        /liabilities\.ledger\.scheme "sum-sha256-v0" is not one of/,
      ],
      [
        (doc) => (doc.liabilities.ledger.order = "random"),
        /liabilities\.ledger\.order "random" must be "commitment" or absent/,
      ],
      [
        (doc) => (doc.liabilities.ledger.rootSums[0] = "1"),
        /liabilities\.ledger\.rootSums\[0\] 1 differs from the amount 123456 of ledger asset USD/,
      ],
      [
        (doc) => delete doc.liabilities.ledger,
        /liabilities\.root is set but liabilities\.ledger does not name the ledger/,
      ],
    ];
    for (const [edit, problem] of edits)
      expect(checkReport(tampered(p.bytes, edit), p.attestation)).toContainEqual(expect.stringMatching(problem));
  });

  it("publishes a private ledger as docs/spec.md §4 says, and opens its root commitments to its totals", () => {
    const ledgerIssuer = supplyAndLedgerIssuer({ assets: ["USD", "ETH"], scheme: "private" });
    // Core's private build of two users: USD keeps its 2 decimals, ETH 12 of 18.
    const built = buildPrivateLedger({
      ledgerId: "lg_p",
      secret: new Uint8Array(32).fill(9),
      assets: [
        { symbol: "USD", decimals: 2, unitDecimals: 2 },
        { symbol: "ETH", decimals: 18, unitDecimals: 12 },
      ],
      users: [
        { commitment: new Uint8Array(32).fill(1), balances: [123_000n, 2n * E18] },
        { commitment: new Uint8Array(32).fill(2), balances: [456n, 10n ** 12n] },
      ],
      minDepth: 3,
    });
    const asOf = Number(OBSERVED_AT) - 600;
    const p = published(
      readingsWith((r) => {
        r.ledger = {
          ledgerId: "lg_p",
          assets: ["USD", "ETH"],
          root: bytesToHex(built.root.hash),
          rootSums: [123_456n, 2n * E18 + 10n ** 12n],
          users: 8,
          asOf,
          order: "commitment",
          private: {
            unitDecimals: [2, 12],
            rootCommitments: built.root.encoded.map((c) => bytesToHex(c)),
            totals: built.totals,
            totalBlindings: built.totalBlindings.map(scalarToHex),
          },
        };
      }),
      ledgerIssuer,
    );
    const doc = parse(p.bytes);
    expect(doc.liabilities.root).toBe(bytesToHex(built.root.hash));
    expect(doc.liabilities.ledger).toEqual({
      id: "lg_p",
      asOf: String(asOf),
      leafCount: "8",
      order: "commitment",
      scheme: "pedersen-ristretto255-v2",
      assets: ["USD", "ETH"],
      unitDecimals: [2, 12],
      rootCommitments: built.root.encoded.map((c) => bytesToHex(c)),
      totals: ["123456", "2000001000000"],
      totalBlindings: built.totalBlindings.map(scalarToHex),
    });
    expect(doc.liabilities.assets.filter((a: { source: string }) => a.source === "ledger")).toMatchObject([
      { asset: "USD", amount: "123456" },
      { asset: "ETH", amount: String(2n * E18 + 10n ** 12n) },
    ]);
    expect(checkReport(p.bytes, p.attestation)).toEqual([]);
    const edits: [(doc: Doc) => void, RegExp][] = [
      [
        (d) => (d.liabilities.ledger.totals[0] = "123457"),
        /liabilities\.ledger\.rootCommitments\[0\] does not open to total 123457/,
      ],
      [
        (d) => (d.liabilities.ledger.totalBlindings[1] = d.liabilities.ledger.totalBlindings[0]),
        /liabilities\.ledger\.rootCommitments\[1\] does not open to total/,
      ],
      [
        (d) => (d.liabilities.ledger.unitDecimals[1] = 13),
        /ledger asset ETH amount \d+ is not liabilities\.ledger\.totals\[1\] 2000001000000 × 10\^5/,
      ],
      [(d) => (d.liabilities.ledger.rootSums = ["1", "2"]), /rootSums must be absent for a private ledger/],
      [
        (d) => d.liabilities.ledger.rootCommitments.pop(),
        /rootCommitments must list one entry per ledger asset \(2\), got 1/,
      ],
    ];
    for (const [edit, problem] of edits)
      expect(checkReport(tampered(p.bytes, edit), p.attestation)).toContainEqual(expect.stringMatching(problem));
  });

  it("checks the leaf order a commitment-ordered ledger promises", () => {
    const c = (first: number) => Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? first : 7));
    const ledger = { id: "lg_1", asOf: "1", leafCount: "4", order: "commitment", scheme: "sum-sha256-v1" };
    const leaves = [0x10, 0x20, 0x80, 0xff].map((b, leafIndex) => ({ leafIndex, commitment: c(b) }));
    expect(checkLeafOrder(ledger, leaves)).toEqual([]);
    // Two proofs a user holds, given in any order.
    expect(checkLeafOrder(ledger, [leaves[3]!, leaves[1]!])).toEqual([]);
    expect(checkLeafOrder(ledger, [leaves[0]!, { leafIndex: 1, commitment: c(0x05) }])).toEqual([
      `leaf 1 has a commitment not greater than leaf 0's, but the ledger says "order": "commitment"`,
    ]);
    expect(checkLeafOrder(ledger, [{ leafIndex: 4, commitment: c(0xff) }])).toEqual([
      "leaf 4 is beyond the ledger's leafCount 4",
    ]);
    // Ledgers built before commitment order (no `order`) are in random order.
    const { order: _random, ...older } = ledger;
    expect(checkLeafOrder(older, [leaves[2]!, { leafIndex: 3, commitment: c(0x01) }])).toEqual([]);
  });

  it("names a removed flag", () => {
    const flagged = published(readingsWith((r) => (r.ownership[1]!.proven = false)));
    expect(checkReport(flagged.bytes, flagged.attestation)).toEqual([]);
    const bytes = tampered(flagged.bytes, (doc) => (doc.flags = []));
    expect(checkReport(bytes, flagged.attestation)).toContainEqual(
      expect.stringMatching(/report flags \[none\].*attestation flags \[UNPROVEN_OWNERSHIP\]/),
    );
  });

  it("names an attestation that disagrees on header fields or the liabilities root", () => {
    const problems = checkReport(base.bytes, {
      ...base.attestation,
      sequence: 2n,
      issuer: issuerKey("someone-else"),
      liabilitiesRoot: LEDGER_ROOT,
    });
    expect(problems).toContainEqual(expect.stringMatching(/report sequence 1 differs from the attestation's 2/));
    expect(problems).toContainEqual(expect.stringMatching(/keccak256\("acme-usd"\) is not the attestation issuer/));
    expect(problems).toContainEqual(expect.stringMatching(/liabilities root null .* differs/));
  });

  it("reports bytes that are not a JSON document instead of throwing", () => {
    expect(checkReport(utf8("not json"), base.attestation)).toContainEqual(expect.stringMatching(/not valid JSON/));
    const malformed = tampered(base.bytes, (doc) => (doc.reserves.items[0].amount = "-1"));
    expect(checkReport(malformed, base.attestation)).toContainEqual(
      expect.stringMatching(/reserves\.items\[0\]\.amount.*negative/),
    );
  });
});
