import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { bytesToHex } from "../../core/bytes.js";
import { checkDispute, type DisputeBundleJson } from "../../core/dispute.js";
import {
  buildLiabilityTree,
  buildNonInclusionProof,
  compareCommitments,
  userCommitment,
} from "../../core/liabilities/index.js";
import { buildPrivateLedger, SCHEME, scalarToHex } from "../../core/liabilities/private/index.js";
import { signReceipt } from "../../core/receipt.js";
// Imported, not read from disk: this suite runs in workerd too, which has no file system.
import vector from "../../docs/test-vectors/receipts-and-disputes.json" with { type: "json" };
import { attestLedger } from "../support/ledgerAttestation.js";

const RECEIPTS = privateKeyToAccount("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
const PUBLISHER = privateKeyToAccount("0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a");
const ISSUER = "test-issuer";
const AS_OF = 1_700_000_000n;
const ASSETS = ["USD", "BTC"];

const KEYS = {
  keys: [
    { address: PUBLISHER.address.toLowerCase(), validFrom: 0, validUntil: null },
    { address: RECEIPTS.address.toLowerCase(), validFrom: 0, validUntil: null, role: "receipts", issuer: ISSUER },
  ],
};

/** A ledger of five users in commitment order, `left out` omitted and `shrunk` listed with less than its receipt says. */
async function ledger(options: { scheme?: string; asOf?: bigint } = {}) {
  const users = ["alice", "bob", "carol", "dave", "shrunk"].map((id, i) => ({
    id,
    commitment: userCommitment(new Uint8Array(16).fill(i + 1), id),
    balances: id === "shrunk" ? [40n, 0n] : [BigInt(100 + i), BigInt(i)],
  }));
  const rows = users
    .map((u) => ({ commitment: u.commitment, balances: u.balances }))
    .sort((a, b) => compareCommitments(a.commitment, b.commitment));
  const tree = buildLiabilityTree({ assets: ASSETS, rows });
  const common = { id: "lg_test", asOf: String(options.asOf ?? AS_OF), order: "commitment", assets: ASSETS };
  // A private ledger's report entry as the publisher writes it (SPEC §4, docs/spec.md §4), over the same users.
  const privateEntry = () => {
    const p = buildPrivateLedger({
      ledgerId: "lg_test",
      secret: new Uint8Array(32).fill(7),
      assets: ASSETS.map((symbol) => ({ symbol, decimals: 0, unitDecimals: 0 })),
      users: rows,
    });
    return {
      ...common,
      leafCount: String(p.levels[0]!.length),
      scheme: SCHEME,
      unitDecimals: ASSETS.map(() => 0),
      rootCommitments: p.root.encoded.map(bytesToHex),
      totals: p.totals.map(String),
      totalBlindings: p.totalBlindings.map(scalarToHex),
    };
  };
  const ledgerJson =
    options.scheme === SCHEME
      ? privateEntry()
      : {
          ...common,
          leafCount: String(rows.length),
          scheme: options.scheme ?? "sum-sha256-v1",
          rootSums: tree.rootSums.map(String),
        };
  const report = JSON.stringify({ version: 1, issuer: ISSUER, liabilities: { root: tree.root, ledger: ledgerJson } });
  const attested = await attestLedger(PUBLISHER, ISSUER, tree.root, new TextEncoder().encode(report));
  const indexOf = (c: Uint8Array) => rows.findIndex((r) => compareCommitments(r.commitment, c) === 0);
  return { users, tree, report, attested, indexOf };
}

async function bundleFor(
  l: Awaited<ReturnType<typeof ledger>>,
  who: { commitment: Uint8Array; balances: bigint[] },
  signer = RECEIPTS,
): Promise<DisputeBundleJson> {
  const receipt = await signReceipt(
    { issuer: ISSUER, commitment: bytesToHex(who.commitment), assets: ASSETS, balances: who.balances, asOf: AS_OF },
    signer,
  );
  const i = l.indexOf(who.commitment);
  const proof = i < 0 ? buildNonInclusionProof(l.tree, who.commitment) : l.tree.proof(i);
  return { version: 1, receipt, proof, attestation: l.attested, report: l.report };
}

const leftOut = { commitment: userCommitment(new Uint8Array(16).fill(9), "left-out"), balances: [500n, 1n] };

describe("SPEC §12 disputes (core checkDispute)", () => {
  it("accepts a receipt the attested ledger omits, proven by the publisher's non-inclusion proof", async () => {
    const l = await ledger();
    const result = await checkDispute({ bundle: await bundleFor(l, leftOut), keys: KEYS, issuer: ISSUER });
    expect(result.valid, result.verdict).toBe(true);
    expect(result.steps.map((s) => s.id)).toEqual([
      "bundle",
      "receipt",
      "attestation",
      "report",
      "asOf",
      "proof",
      "answer",
    ]);
    if (result.valid) {
      expect(result.dispute.kind).toBe("absent");
      expect(result.dispute.asOf).toBe(AS_OF);
      expect(result.dispute.sequence).toBe(1n);
      expect(result.dispute.ledgerId).toBe("lg_test");
    }
  });

  it("accepts a receipt holder listed with a smaller balance, naming the asset and both amounts", async () => {
    const l = await ledger();
    const shrunk = l.users.find((u) => u.id === "shrunk")!;
    const result = await checkDispute({
      bundle: await bundleFor(l, { commitment: shrunk.commitment, balances: [400n, 0n] }),
      keys: KEYS,
    });
    expect(result.valid, result.verdict).toBe(true);
    if (result.valid) {
      expect(result.dispute.kind).toBe("balance-differs");
      expect(result.dispute.differences).toEqual([{ asset: "USD", receipt: 400n, ledger: 40n }]);
    }
  });

  it("refuses an honest ledger: the proof shows exactly the receipt's balances", async () => {
    const l = await ledger();
    const alice = l.users[0]!;
    const result = await checkDispute({ bundle: await bundleFor(l, alice), keys: KEYS });
    expect(result.valid).toBe(false);
    if (!result.valid) {
      expect(result.failed.step).toBe("answer");
      expect(result.failed.reason).toMatch(/agrees with the receipt, so there is nothing to dispute/);
    }
  });

  it("names what failed for every forged or mismatched part", async () => {
    const l = await ledger();
    const good = await bundleFor(l, leftOut);
    const failsAt = async (bundle: unknown, step: string, reason: RegExp, keys: unknown = KEYS, issuer?: string) => {
      const r = await checkDispute({ bundle, keys, ...(issuer ? { issuer } : {}) });
      expect(r.valid).toBe(false);
      if (!r.valid) {
        expect(r.failed.step).toBe(step);
        expect(r.failed.reason).toMatch(reason);
      }
    };
    // Shape.
    await failsAt({ ...good, version: 2 }, "bundle", /^bundle\.version: must be 1/);
    await failsAt({ ...good, extra: true }, "bundle", /has a field a dispute bundle does not have: extra/);
    await failsAt({ ...good, report: undefined }, "bundle", /^bundle\.report: is missing/);
    // The receipt: signed by the publisher's attestations key, or for another issuer.
    await failsAt(
      await bundleFor(l, leftOut, PUBLISHER),
      "receipt",
      /attestations key, and a key signs only for its role/,
    );
    await failsAt(good, "receipt", /the receipt is for issuer "test-issuer", not "other"/, KEYS, "other");
    // The attestation: signed by the receipts key (a key signs only for its role).
    const byReceiptsKey = await attestLedger(RECEIPTS, ISSUER, l.tree.root, new TextEncoder().encode(l.report));
    await failsAt({ ...good, attestation: byReceiptsKey }, "attestation", /is not a key valid at observedAt/);
    // The report: not the attested bytes; a private ledger; another asOf.
    await failsAt(
      { ...good, report: `${l.report} ` },
      "report",
      /keccak256 of the report is .* the attestation signs reportHash/,
    );
    const priv = await ledger({ scheme: SCHEME });
    await failsAt(await bundleFor(priv, leftOut), "report", /private ledgers, SPEC §11, are not covered yet/);
    const later = await ledger({ asOf: AS_OF + 60n });
    await failsAt(
      await bundleFor(later, leftOut),
      "asOf",
      /the attested ledger's asOf is 1700000060, the receipt's 1700000000/,
    );
    // The proof: relabelled assets (not hashed into the root), a proof about someone else, another tree.
    const alice = l.users[0]!;
    const aliceBundle = await bundleFor(l, { commitment: alice.commitment, balances: [100n, 0n] });
    await failsAt(
      { ...aliceBundle, proof: { ...(aliceBundle.proof as object), assets: ["BTC", "USD"] } },
      "proof",
      /is not the attested ledger's asset list/,
    );
    await failsAt({ ...good, proof: aliceBundle.proof }, "proof", /^proof\.root: the path hashes to/);
    const other = buildNonInclusionProof(
      buildLiabilityTree({ assets: ASSETS, rows: [{ commitment: new Uint8Array(32).fill(0xff), balances: [1n, 1n] }] }),
      leftOut.commitment,
    );
    await failsAt({ ...good, proof: other }, "proof", /is not the attested liabilitiesRoot/);
    // An unusable keys document.
    await failsAt(good, "bundle", /the keys document cannot be used/, { keys: [] });
  });

  it("decides every committed vector bundle as the vector says (docs/test-vectors/receipts-and-disputes.json)", async () => {
    expect(vector.disputes).toHaveLength(3);
    for (const d of vector.disputes) {
      const result = await checkDispute({ bundle: d.bundle, keys: vector.keys, issuer: "vector-issuer" });
      expect(result.valid, `${d.why}: ${result.verdict}`).toBe(d.expect.valid);
      if (result.valid) {
        expect(result.dispute.kind).toBe(d.expect.kind);
        expect(result.dispute.id).toBe(d.receiptDigest);
      } else {
        expect(result.failed.step).toBe(d.expect.failedStep);
      }
    }
  });
});
