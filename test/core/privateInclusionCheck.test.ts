import { privateKeyToAccount } from "viem/accounts";
import { beforeAll, describe, expect, it } from "vitest";
import { attestationFromJson } from "../../core/attestation.js";
import { attestedLedger } from "../../core/attestedLedger.js";
import { bytesToHex, hexToBytes } from "../../core/bytes.js";
import { checkInclusion, checkNonInclusion, NOT_IN_SNAPSHOT } from "../../core/inclusionCheck.js";
import { createKeysDocument } from "../../core/keysDocument.js";
import { userCommitment } from "../../core/liabilities/commitment.js";
import {
  buildPrivateLedger,
  type PrivateAsset,
  type PrivateInclusionProof,
  type PrivateLedger,
  pedersen,
  privateInclusionProof,
  privateLeafIndex,
  privateNonInclusionProof,
  type RangeProofEngine,
  scalarToHex,
} from "../../core/liabilities/private/index.js";
import { attestLedger } from "../support/ledgerAttestation.js";
import { rangeProofEngine } from "../support/rangeProofs.js";

// The whole user-facing check of a SPEC §11 proof (core/inclusionCheck.ts), with a really signed
// attestation over a report in the docs/spec.md §4 private shape. Runs in Node and in workerd
// (test/support/rangeProofs.ts loads the Bulletproofs module the way each runtime can).

const signer = privateKeyToAccount("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcaf784d7bf4f2ff80");
const keys = createKeysDocument({ address: signer.address, validFrom: 1_700_000_000 });
const ASSETS: PrivateAsset[] = [
  { symbol: "USDC", decimals: 6, unitDecimals: 2 },
  { symbol: "BTC", decimals: 8, unitDecimals: 8 },
];
const users = Array.from({ length: 5 }, (_, i) => ({
  salt: bytesToHex(new Uint8Array(16).fill(0x40 + i)),
  userId: `user-${i}`,
  balances: [BigInt(i + 1) * 1_230_000n, BigInt(i * 7)],
}));

let engine: RangeProofEngine;
let ledger: PrivateLedger;
let proofs: PrivateInclusionProof[];

/** The report's `liabilities.ledger` of `ledger`, as docs/spec.md §4 shapes it for a private ledger. */
function reportLedger(l: PrivateLedger): Record<string, unknown> {
  return {
    id: "lg_private",
    asOf: "1700000000",
    leafCount: String(l.levels[0]!.length),
    order: "commitment",
    scheme: "pedersen-ristretto255-v2",
    assets: l.assets.map((a) => a.symbol),
    unitDecimals: l.assets.map((a) => a.unitDecimals),
    rootCommitments: l.root.encoded.map(bytesToHex),
    totals: l.totals.map(String),
    totalBlindings: l.totalBlindings.map(scalarToHex),
  };
}

/** A signed attestation of `ledger`'s root over the exact bytes of a report holding `ledgerJson`. */
async function attested(ledgerJson: Record<string, unknown> = reportLedger(ledger)) {
  const root = bytesToHex(ledger.root.hash);
  const report = new TextEncoder().encode(JSON.stringify({ liabilities: { root, ledger: ledgerJson } }));
  return { ...(await attestLedger(signer, "test-issuer", root, report)), keys, report };
}

beforeAll(async () => {
  engine = await rangeProofEngine();
  ledger = buildPrivateLedger({
    ledgerId: "lg_private",
    secret: new Uint8Array(32).fill(9),
    assets: ASSETS,
    users: users.map((u) => ({
      commitment: userCommitment(hexToBytes(u.salt, "salt"), u.userId),
      balances: u.balances,
    })),
  });
  proofs = users.map((u) =>
    privateInclusionProof(
      ledger,
      privateLeafIndex(ledger, userCommitment(hexToBytes(u.salt, "salt"), u.userId)),
      engine,
    ),
  );
  // Proving is the costly part (about a second per proof in workerd on a busy machine).
}, 120_000);

const input = async (i: number, proof: unknown = proofs[i]) => ({
  proof,
  userId: users[i]!.userId,
  salt: users[i]!.salt,
  attested: await attested(),
  rangeProofs: engine,
  now: 1_700_000_200n,
});

const steps = (r: { steps: { id: string; status: string }[] }) => r.steps.map((s) => [s.id, s.status]);
const failed = (r: { steps: { id: string; status: string; detail: string }[] }) =>
  r.steps.filter((s) => s.status === "fail");

describe("checkInclusion of a private proof (SPEC §11): the steps a user runs", () => {
  it("accepts every user's proof, says which facts were checked and that nothing else was revealed", async () => {
    for (let i = 0; i < users.length; i++) {
      const r = await checkInclusion(await input(i));
      expect(r.verdict).toMatch(/^VALID: /);
      expect(r.valid).toBe(true);
      expect(steps(r)).toEqual([
        ["commitment", "pass"],
        ["proof", "pass"],
        ["path", "pass"],
        ["opening", "pass"],
        ["range", "pass"],
        ["attestation", "pass"],
        ["signature", "pass"],
        ["root", "pass"],
        ["report", "pass"],
        ["freshness", "note"],
        ["privacy", "note"],
      ]);
      // balances in the asset's own unit: 1.23 USDC per i+1, 7i satoshi shown as BTC
      expect(r.balances).toEqual([`${(1.23 * (i + 1)).toFixed(2).replace(/\.?0+$/, "")} USDC`, expect.any(String)]);
      const detail = Object.fromEntries(r.steps.map((s) => [s.id, s.detail]));
      expect(detail.path).toContain("re-compute to root");
      expect(detail.opening).toContain("18.45 USDC");
      expect(detail.range).toMatch(/each of the 6 sibling commitments holds a value in \[0, 2\^64\)/);
      expect(detail.report).toContain("the same assets, units, root commitments, totals and total blindings");
      expect(detail.privacy).toMatch(/no other user's balance and no partial sum/);
    }
  });

  it("refuses a changed sibling commitment at the path step", async () => {
    const changed = structuredClone(proofs[0]!);
    changed.path[1]!.commitments[0] = bytesToHex(pedersen(1n, 1n).toBytes());
    const r = await checkInclusion(await input(0, changed));
    expect(r.valid).toBe(false);
    expect(r.unusable).toBe(false);
    expect(failed(r).map((s) => s.id)).toEqual(["path"]);
    expect(failed(r)[0]!.detail).toMatch(/sibling commitment was changed/);
  });

  it("refuses a range proof made for another node's commitments at the range step", async () => {
    const own = proofs[0]!;
    const other = proofs.find((p) => (p.leafIndex ^ own.leafIndex) > 1)!;
    const foreign = structuredClone(own);
    foreign.rangeProofs[0] = other.rangeProofs[0]!;
    const r = await checkInclusion(await input(0, foreign));
    expect(r.valid).toBe(false);
    expect(steps(r).slice(0, 5)).toEqual([
      ["commitment", "pass"],
      ["proof", "pass"],
      ["path", "pass"],
      ["opening", "pass"],
      ["range", "fail"],
    ]);
    expect(failed(r)[0]!.detail).toMatch(/^rangeProofs\[0\]: does not prove/);
  });

  it("refuses a wrong blinding of the user's own leaf at the path step", async () => {
    const blinded = structuredClone(proofs[2]!);
    blinded.blindings[1] = bytesToHex(new Uint8Array(32).fill(1));
    const r = await checkInclusion(await input(2, blinded));
    expect(r.valid).toBe(false);
    expect(failed(r).map((s) => s.id)).toEqual(["path"]);
  });

  it("refuses totals that the root does not open to at the opening step", async () => {
    const totals = structuredClone(proofs[1]!);
    totals.totals[0] = String(ledger.totals[0]! + 1n);
    const r = await checkInclusion(await input(1, totals));
    expect(failed(r).map((s) => s.id)).toEqual(["opening"]);
    expect(failed(r)[0]!.detail).toMatch(/^totals\[0\]/);
  });

  it("refuses a proof whose totals differ from the signed report's at the report step", async () => {
    const published = { ...reportLedger(ledger), totals: [String(ledger.totals[0]! + 100n), String(ledger.totals[1])] };
    const r = await checkInclusion({ ...(await input(3)), attested: await attested(published) });
    expect(r.valid).toBe(false);
    expect(failed(r).map((s) => s.id)).toEqual(["report"]);
    expect(failed(r)[0]!.detail).toMatch(/the USDC total is \d+ in the proof, \d+ in the report \(totals\[0\]\)/);
    // another total blinding, other units, another leaf count: each named
    const other = {
      ...reportLedger(ledger),
      unitDecimals: [3, 8],
      leafCount: "16",
      totalBlindings: [scalarToHex(5n), scalarToHex(ledger.totalBlindings[1]!)],
    };
    const o = await checkInclusion({ ...(await input(3)), attested: await attested(other) });
    const detail = failed(o)[0]!.detail;
    expect(detail).toContain("the report says 16 leaves, the proof's path is for 8");
    expect(detail).toContain("USDC units: the report keeps 3 decimals, the proof 2");
    expect(detail).toContain("totalBlindings[0]");
  });

  it("fails the report step naming the field when the report's private figures cannot be read", async () => {
    const { totalBlindings: _dropped, ...noBlindings } = reportLedger(ledger);
    const r = await checkInclusion({ ...(await input(0)), attested: await attested(noBlindings) });
    expect(failed(r).map((s) => [s.id, s.detail])).toEqual([
      [
        "report",
        "report.liabilities.ledger.totalBlindings: a private ledger's report must hold 2 entries, one per asset",
      ],
    ]);
    const plain = { ...reportLedger(ledger), scheme: "sum-sha256-v1" };
    const p = await checkInclusion({ ...(await input(0)), attested: await attested(plain) });
    expect(failed(p)[0]!.detail).toBe(
      "the report's ledger is of scheme sum-sha256-v1, the proof of pedersen-ristretto255-v2",
    );
  });

  it("says, without the report, that the asset names and units come from the proof alone", async () => {
    const { report: _report, ...signed } = await attested();
    const r = await checkInclusion({ ...(await input(0)), attested: signed });
    expect(r.valid).toBe(true);
    expect(r.steps.find((s) => s.id === "report")).toMatchObject({ status: "note" });
  });

  it("fails, and says why, when no range-proof verifier is given", async () => {
    const { rangeProofs: _engine, ...without } = await input(0);
    const r = await checkInclusion(without);
    expect(r.valid).toBe(false);
    expect(r.unusable).toBe(true);
    expect(failed(r)[0]).toMatchObject({ id: "range" });
    expect(failed(r)[0]!.detail).toMatch(/no range-proof verifier was given/);
  });

  it("tells an unreadable private proof (unusable) from one that does not verify, and flags extra fields", async () => {
    const bad = { ...proofs[0]!, values: ["1"] };
    const r = await checkInclusion(await input(0, bad));
    expect(r.unusable).toBe(true);
    expect(failed(r)[0]).toMatchObject({ id: "proof", detail: "values: must hold 2 decimal strings" });
    expect((await checkInclusion(await input(1, proofs[0]))).unusable).toBe(false);
    const leaky = { ...proofs[0]!, siblingValues: ["5", "6"] };
    const l = await checkInclusion(await input(0, leaky));
    expect(l.steps.find((s) => s.id === "privacy")!.detail).toMatch(
      /fields that SPEC §11 does not have \(siblingValues\)/,
    );
  });
});

describe("checkNonInclusion of a private proof (SPEC §11)", () => {
  const salt = bytesToHex(new Uint8Array(16).fill(0xab));
  const absent = () => privateNonInclusionProof(ledger, userCommitment(hexToBytes(salt, "salt"), "mallory"));

  it("concludes absence against the signed root and the report's leaf count, order and root commitments", async () => {
    const r = await checkNonInclusion({ proof: absent(), userId: "mallory", salt, attested: await attested() });
    expect(r.verdict).toContain(NOT_IN_SNAPSHOT);
    expect(r.valid).toBe(true);
    // the shared attestation steps, then the report's figures, and what the neighbours revealed
    expect(r.steps.map((s) => s.id).join(" ")).toBe(
      "commitment proof attestation signature root report freshness privacy",
    );
    expect(r.steps.find((s) => s.id === "proof")!.detail).toContain("add up to its root commitments");
  });

  it("refuses a changed neighbour commitment, and a report of another leaf count", async () => {
    const forged = structuredClone(absent()) as any;
    const side = forged.left ? "left" : "right";
    forged[side].leafCommitments[0] = bytesToHex(pedersen(1n, 2n).toBytes());
    const r = await checkNonInclusion({ proof: forged, userId: "mallory", salt, attested: await attested() });
    expect(failed(r).map((s) => s.id)).toEqual(["proof"]);
    expect(r.unusable).toBe(false);
    const wide = await checkNonInclusion({
      proof: absent(),
      userId: "mallory",
      salt,
      attested: await attested({ ...reportLedger(ledger), leafCount: "16" }),
    });
    expect(failed(wide).map((s) => [s.id, s.detail])).toEqual([
      ["report", "the report says 16 leaves, the proof's path is for 8"],
    ]);
  });
});

describe("attestedLedger reads a private ledger's figures strictly", () => {
  it("reads them, and names the field of a leaf count that is no power of two or a bad commitment", async () => {
    const a = await attested();
    const read = attestedLedger(a.report, attestationFromJson(a.attestation));
    expect(read.private).toEqual({
      unitDecimals: [2, 8],
      rootCommitments: ledger.root.encoded.map(bytesToHex),
      totals: ledger.totals,
      totalBlindings: ledger.totalBlindings,
    });
    const odd = await attested({ ...reportLedger(ledger), leafCount: "5" });
    expect(() => attestedLedger(odd.report, attestationFromJson(odd.attestation))).toThrow(
      /report\.liabilities\.ledger\.leafCount: 5 is not a power of two/,
    );
    const point = await attested({ ...reportLedger(ledger), rootCommitments: [`0x${"ff".repeat(32)}`, "0x00"] });
    expect(() => attestedLedger(point.report, attestationFromJson(point.attestation))).toThrow(
      /report\.liabilities\.ledger\.rootCommitments\[0\]: is not a canonical ristretto255 point/,
    );
  });
});
