import { ristretto255_hasher } from "@noble/curves/ed25519.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { describe, expect, it } from "vitest";
import { bytesToHex, hexToBytes, utf8 } from "../../core/bytes.js";
import { compareCommitments, userCommitment } from "../../core/liabilities/index.js";
import {
  buildPrivateLedger,
  buildPrivateLevels,
  checkPrivateInclusion,
  checkPrivateNonInclusion,
  chooseUnitDecimals,
  G,
  GROUP_ORDER,
  H,
  H_DOMAIN,
  type PrivateAsset,
  pedersen,
  privateInclusionProof,
  privateLeafIndex,
  privateNonInclusionProof,
  privateProofBody,
  quantiseAsset,
  rangeProofChunks,
} from "../../core/liabilities/private/index.js";
// Imported, not read from disk: this suite runs in workerd too, which has no file system.
import fiveUsers from "../../docs/test-vectors/private-5-users-2-assets.json" with { type: "json" };
import { rangeProofEngine } from "../support/rangeProofs.js";

const SECRET = new Uint8Array(32).fill(7);
const ASSETS: PrivateAsset[] = [
  { symbol: "USDC", decimals: 6, unitDecimals: 2 },
  { symbol: "BTC", decimals: 8, unitDecimals: 8 },
];

function users(n: number) {
  return Array.from({ length: n }, (_, i) => ({
    salt: new Uint8Array(16).fill(i + 1),
    userId: `user-${i}`,
    balances: [BigInt(i + 1) * 1_230_000n, BigInt(i * 7)],
  }));
}

function ledger(n: number, ledgerId = "ledger-a") {
  const us = users(n);
  return {
    us,
    ledger: buildPrivateLedger({
      ledgerId,
      secret: SECRET,
      assets: ASSETS,
      users: us.map((u) => ({ commitment: userCommitment(u.salt, u.userId), balances: u.balances })),
    }),
  };
}

describe("SPEC §11 private liabilities: commitments and tree", () => {
  it("derives H from the documented domain string, distinct from G", () => {
    expect(H.equals(ristretto255_hasher.deriveToCurve!(sha512(utf8(H_DOMAIN))))).toBe(true);
    expect(H.equals(G)).toBe(false);
    expect(pedersen(3n, 5n).equals(G.multiply(3n).add(H.multiply(5n)))).toBe(true);
  });

  it("quantises per asset and names the row that does not divide or does not fit", () => {
    const usdc = ASSETS[0]!;
    expect(quantiseAsset(usdc, [1_230_000n, 0n], (i) => `row ${i}`)).toEqual([123n, 0n]);
    expect(() => quantiseAsset(usdc, [1_230_000n, 1_230_001n], (i) => `row ${i}`)).toThrow(
      /row 1: USDC balance 1230001 is not a whole number/,
    );
    const big = { symbol: "WEI", decimals: 18, unitDecimals: 18 };
    expect(() => quantiseAsset(big, [2n ** 64n], (i) => `row ${i}`)).toThrow(
      /row 0: WEI balance .* does not fit below 2\^64/,
    );
    expect(() => quantiseAsset(big, [2n ** 63n, 2n ** 63n], (i) => `row ${i}`)).toThrow(
      /row 1: the WEI total reaches 2\^64/,
    );
    // 30 000 000 ETH in wei is about 2^84.6: keeping 11 decimals brings the total below 2^64
    expect(chooseUnitDecimals("ETH", 18, [30_000_000n * 10n ** 18n])).toBe(11);
    expect(chooseUnitDecimals("USDC", 6, [10n ** 12n])).toBe(6);
  });

  it("pads to a power of two with zero-valued, pseudorandom leaves sorted among the users'", () => {
    const { ledger: l } = ledger(5);
    expect(l.depth).toBe(3);
    expect(l.levels[0]!.length).toBe(8);
    const sorted = [...l.commitments].sort((a, b) => bytesToHex(a).localeCompare(bytesToHex(b)));
    expect(l.commitments.map(bytesToHex)).toEqual(sorted.map(bytesToHex));
    const padding = l.levels[0]!.filter((n) => n.values.every((v) => v === 0n));
    expect(padding.length).toBe(3);
    for (const p of padding) for (const r of p.blindings) expect(r).not.toBe(0n);
    expect(l.totals).toEqual([15n * 123n, 70n]);
    l.root.commitments.forEach((c, k) => {
      expect(c.equals(pedersen(l.totals[k]!, l.totalBlindings[k]!))).toBe(true);
    });
  });

  it("is deterministic for one ledger and fresh for another ledger id", () => {
    const a = ledger(4, "ledger-a").ledger;
    expect(bytesToHex(ledger(4, "ledger-a").ledger.root.hash)).toBe(bytesToHex(a.root.hash));
    const b = ledger(4, "ledger-b").ledger;
    expect(bytesToHex(b.root.hash)).not.toBe(bytesToHex(a.root.hash));
    expect(b.totalBlindings[0]).not.toBe(a.totalBlindings[0]);
  });

  it("builds the same root from two shard subtrees and a combiner as from all leaves", () => {
    const { ledger: l } = ledger(8);
    const leaves = l.levels[0]!;
    const left = buildPrivateLevels(leaves.slice(0, 4));
    const right = buildPrivateLevels(leaves.slice(4));
    const top = buildPrivateLevels([left[left.length - 1]![0]!, right[right.length - 1]![0]!]);
    expect(bytesToHex(top[1]![0]!.hash)).toBe(bytesToHex(l.root.hash));
  });

  it("refuses two users with one commitment, naming both rows", () => {
    const c = userCommitment(new Uint8Array(16), "same");
    expect(() =>
      buildPrivateLedger({
        ledgerId: "x",
        secret: SECRET,
        assets: ASSETS,
        users: [
          { commitment: c, balances: [0n, 0n] },
          { commitment: c, balances: [0n, 0n] },
        ],
      }),
    ).toThrow(/users\[\d\]: has the same commitment as users\[\d\]/);
  });

  it("chunks range proofs in powers of two up to 16", () => {
    expect(rangeProofChunks(20)).toEqual([16, 4]);
    expect(rangeProofChunks(40)).toEqual([16, 16, 8]);
    expect(rangeProofChunks(7)).toEqual([4, 2, 1]);
    expect(rangeProofChunks(0)).toEqual([]);
  });
});

describe("SPEC §11 private inclusion proofs", () => {
  it("proves every user and reveals no other balance; refuses a changed sibling, a foreign range proof and a wrong blinding", async () => {
    const engine = await rangeProofEngine();
    const { us, ledger: l } = ledger(5);
    const proofs = us.map((u) => {
      const index = privateLeafIndex(l, userCommitment(u.salt, u.userId));
      return privateInclusionProof(l, index, engine);
    });
    us.forEach((u, i) => {
      const proof = proofs[i]!;
      const r = checkPrivateInclusion(proof, { salt: u.salt, userId: u.userId }, engine, {
        root: proof.root,
        totals: l.totals,
      });
      expect(r.ok, r.ok ? "" : r.reason).toBe(true);
      if (r.ok) expect(r.values).toEqual([BigInt(i + 1) * 123n, BigInt(i * 7)]);
      // only the user's own values appear; siblings carry commitments and hashes only
      expect(Object.keys(proof.path[0]!).sort()).toEqual(["commitments", "hash"]);
    });
    const [p0, p1] = proofs as [any, any];
    const who0 = { salt: us[0]!.salt, userId: us[0]!.userId };
    // a changed sibling commitment
    const changed = structuredClone(p0);
    changed.path[1].commitments[0] = bytesToHex(pedersen(1n, 1n).toBytes());
    const rc = checkPrivateInclusion(changed, who0, engine);
    expect(rc.ok).toBe(false);
    if (!rc.ok) expect(rc.record).toBe("root");
    // a range proof made for another node's commitments
    const foreign = structuredClone(p0);
    const otherIndex = proofs.findIndex(
      (p) => p.rangeProofs[0] !== p0.rangeProofs[0] && (p.leafIndex ^ p0.leafIndex) > 1,
    );
    foreign.rangeProofs[0] = proofs[otherIndex]!.rangeProofs[0];
    const rf = checkPrivateInclusion(foreign, who0, engine);
    expect(rf.ok).toBe(false);
    if (!rf.ok) expect(rf.record).toBe("rangeProofs[0]");
    // a wrong blinding for the user's own leaf
    const blinded = structuredClone(p0);
    blinded.blindings[1] = bytesToHex(new Uint8Array(32).fill(1));
    const rb = checkPrivateInclusion(blinded, who0, engine);
    expect(rb.ok).toBe(false);
    if (!rb.ok) expect(rb.record).toBe("root");
    // totals that the root commitment does not open to
    const totals = structuredClone(p0);
    totals.totals[0] = String(l.totals[0]! + 1n);
    const rt = checkPrivateInclusion(totals, who0, engine);
    expect(rt.ok).toBe(false);
    if (!rt.ok) expect(rt.record).toBe("totals[0]");
    // someone else's proof does not verify for this user
    const rw = checkPrivateInclusion(p1, who0, engine);
    expect(rw.ok).toBe(false);
    // the published total differs
    const rp = checkPrivateInclusion(p0, who0, engine, { totals: [l.totals[0]!, l.totals[1]! + 1n] });
    expect(rp.ok).toBe(false);
    if (!rp.ok) expect(rp.record).toBe("totals[1]");
  });

  it("cannot prove a sibling that commits to a negative balance", async () => {
    const engine = await rangeProofEngine();
    expect(() => engine.prove([GROUP_ORDER - 5n], [1n])).toThrow(/outside \[0, 2\^64\)/);
    // a proof for 5 does not verify for the commitment to -5 with the same blinding
    const proof = engine.prove([5n], [9n]);
    expect(engine.verify(proof, [pedersen(5n, 9n).toBytes()])).toBe(true);
    expect(engine.verify(proof, [pedersen(GROUP_ORDER - 5n, 9n).toBytes()])).toBe(false);
  });
});

describe("SPEC §11 vectors through core", () => {
  it("rebuilds the committed 5-user ledger byte for byte and proves it with fresh range proofs", async () => {
    const v = fiveUsers;
    const l = buildPrivateLedger({
      ledgerId: v.ledgerId,
      secret: hexToBytes(v.secret, "secret"),
      assets: v.assets,
      users: v.users.map((u) => ({
        commitment: userCommitment(hexToBytes(u.salt, "salt"), u.userId),
        balances: u.balances.map(BigInt),
      })),
      minDepth: v.minDepth,
    });
    expect(bytesToHex(l.root.hash)).toBe(v.root);
    expect(l.totals.map(String)).toEqual(v.totals);
    const engine = await rangeProofEngine();
    for (const p of v.proofs) {
      const who = { salt: p.salt as `0x${string}`, userId: p.userId };
      expect(privateProofBody(l, p.proof.leafIndex)).toEqual(p.proof);
      const proof = privateInclusionProof(l, p.proof.leafIndex, engine);
      const r = checkPrivateInclusion(proof, who, engine, {
        root: v.root as `0x${string}`,
        totals: v.totals.map(BigInt),
      });
      expect(r.ok, r.ok ? "" : r.reason).toBe(true);
      // the body alone (range proofs missing) is refused
      const bare = checkPrivateInclusion(p.proof, who, engine);
      expect(bare.ok).toBe(false);
      if (!bare.ok) expect(bare.record).toBe("rangeProofs");
    }
  });
});

describe("SPEC §11 private non-inclusion", () => {
  it("proves absence between neighbours and at both edges, and refuses a present user and a forged neighbour", () => {
    const { us, ledger: l } = ledger(5);
    const sorted = l.commitments.map(bytesToHex);
    for (let i = 0; i < 40; i++) {
      const c = userCommitment(new Uint8Array(16).fill(200), `absent-${i}`);
      const proof = privateNonInclusionProof(l, c);
      const r = checkPrivateNonInclusion(proof, c);
      expect(r.ok, r.ok ? "" : r.reason).toBe(true);
      expect(JSON.stringify(proof)).not.toMatch(/"values"|"blindings"/);
    }
    // both edges, with commitments below and above every leaf
    const below = privateNonInclusionProof(l, new Uint8Array(32));
    expect(below.left).toBeUndefined();
    expect(below.right?.leafIndex).toBe(0);
    expect(checkPrivateNonInclusion(below, new Uint8Array(32)).ok).toBe(true);
    const above = privateNonInclusionProof(l, new Uint8Array(32).fill(255));
    expect(above.right).toBeUndefined();
    expect(above.left?.leafIndex).toBe(7);
    expect(checkPrivateNonInclusion(above, new Uint8Array(32).fill(255)).ok).toBe(true);
    // an edge proof does not stand for a commitment inside the ledger's range
    const inside = userCommitment(new Uint8Array(16).fill(202), "inside");
    if (compareCommitments(inside, l.commitments[0]!) > 0)
      expect(checkPrivateNonInclusion(below, inside).ok).toBe(false);
    const present = userCommitment(us[1]!.salt, us[1]!.userId);
    expect(() => privateNonInclusionProof(l, present)).toThrow(/is a leaf of this ledger/);
    // a proof for an absent c does not show a present leaf absent, nor survive a changed neighbour commitment
    const absent = userCommitment(new Uint8Array(16).fill(201), "absent");
    const proof = privateNonInclusionProof(l, absent) as any;
    expect(checkPrivateNonInclusion(proof, hexToBytes(sorted[0]!, "c")).ok).toBe(false);
    const side = proof.left ? "left" : "right";
    const forged = structuredClone(proof);
    forged[side].leafCommitments[0] = bytesToHex(pedersen(1n, 2n).toBytes());
    const r = checkPrivateNonInclusion(forged, absent);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.record).toBe(side);
  });
});
