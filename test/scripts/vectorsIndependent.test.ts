/**
 * The committed test vectors, re-checked by test/support/independentVerifier.ts
 * (a naive re-implementation from the SPEC that shares no code with core/).
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as spec from "../support/independentVerifier.js";

const DIR = "docs/test-vectors";
const load = async (name: string): Promise<any> => JSON.parse(await readFile(join(DIR, name), "utf8"));

describe("committed vectors re-computed from the SPEC alone", async () => {
  const sumTreeFiles = (await readdir(DIR)).filter((f) => f.startsWith("sumtree-"));

  it("cover 1, 2, 3, 5 and 1,000 users with 1 and 3 assets", () => {
    for (const n of [1, 2, 3, 5, 1000]) {
      for (const k of [1, 3]) expect(sumTreeFiles).toContain(`sumtree-${n}-users-${k}-assets.json`);
    }
  });

  it.each(sumTreeFiles)("%s: root, root sums and every proof", async (file) => {
    const v = await load(file);
    const leaves = v.users.map((u: any) => {
      const c = spec.commitment(spec.unhex(u.salt), u.userId);
      expect(spec.hex(c)).toBe(u.commitment);
      return spec.leafNode(c, u.balances.map(BigInt));
    });
    const root = spec.sumTreeRoot(leaves);
    expect(spec.hex(root.hash)).toBe(v.root);
    expect(root.sums.map(String)).toEqual(v.rootSums);
    const columnTotals = v.assets.map((_: string, a: number) =>
      v.users.reduce((s: bigint, u: any) => s + BigInt(u.balances[a]), 0n),
    );
    expect(columnTotals.map(String)).toEqual(v.rootSums);
    expect(v.proofs.length).toBe(Math.min(3, v.users.length));
    for (const p of v.proofs) {
      expect(spec.checkProof(p.proof, spec.unhex(p.salt), p.userId)).toBeNull();
      expect(p.proof.path.length).toBe(Math.ceil(Math.log2(v.users.length)));
    }
  });

  it.each(["non-inclusion-1-users-3-assets.json", "non-inclusion-5-users-3-assets.json"])(
    "%s: leaves in commitment order, every absence proven, every forgery refused",
    async (file) => {
      const v = await load(file);
      const leaves = v.users.map((u: any) => ({
        c: spec.commitment(spec.unhex(u.salt), u.userId),
        balances: u.balances.map(BigInt),
      }));
      const report = {
        liabilities: { root: v.root, ledger: { leafCount: v.leafCount, order: "commitment", scheme: "sum-sha256-v1" } },
      };
      expect(spec.checkLedgerLeaves(report, leaves)).toBeNull();
      expect(v.absent.length).toBe(v.leafCount === 1 ? 2 : 3);
      for (const a of v.absent) {
        const c = spec.commitment(spec.unhex(a.salt), a.userId);
        expect(leaves.some((l: any) => spec.hex(l.c) === spec.hex(c))).toBe(false);
        expect(spec.checkNonInclusion(a.proof, c, v.root, v.leafCount)).toBeNull();
        // The same proof does not show another commitment absent, nor hold against another leaf count.
        expect(spec.checkNonInclusion(a.proof, leaves[0].c, v.root, v.leafCount)).not.toBeNull();
        expect(spec.checkNonInclusion(a.proof, c, v.root, v.leafCount + 1)).toBe("leafCount is not the report's");
      }
      expect(v.invalid.length).toBeGreaterThan(0);
      for (const bad of v.invalid) {
        expect(
          spec.checkNonInclusion(bad.proof, spec.unhex(bad.proof.commitment), v.root, v.leafCount),
          bad.why,
        ).not.toBeNull();
      }
    },
  );

  it("ledger-commitment-order.json: leaves ascending by commitment, the root of that order, proofs, and the report's ledger entry", async () => {
    const v = await load("ledger-commitment-order.json");
    const byId = new Map(v.users.map((u: any) => [u.userId, u]));
    const leaves = v.leafOrder.map((id: string) => {
      const u: any = byId.get(id);
      return { c: spec.commitment(spec.unhex(u.salt), u.userId), balances: u.balances.map(BigInt) };
    });
    expect(leaves).toHaveLength(v.users.length);
    // The upload order is not the leaf order: the order comes from the commitments alone.
    expect(v.leafOrder).not.toEqual(v.users.map((u: any) => u.userId));
    const report = { liabilities: { root: v.root, ledger: v.reportLedger } };
    expect(spec.checkLedgerLeaves(report, leaves)).toBeNull();
    expect(v.reportLedger).toMatchObject({
      order: "commitment",
      scheme: "sum-sha256-v1",
      leafCount: String(v.users.length),
      rootSums: v.rootSums,
    });
    // Swapping two leaves breaks the promised order.
    const swapped = [leaves[1], leaves[0], ...leaves.slice(2)];
    expect(spec.checkLedgerLeaves(report, swapped)).toBe("leaf 1 is not above leaf 0 in commitment order");
    for (const p of v.proofs) {
      expect(spec.checkProof(p.proof, spec.unhex(p.salt), p.userId)).toBeNull();
      expect(v.leafOrder[p.proof.leafIndex]).toBe(p.userId);
    }
  });

  it("reserves-tree.json: OpenZeppelin root and every item proof", async () => {
    const v = await load("reserves-tree.json");
    const leaves = v.items.map((item: any) => {
      const leaf = spec.reserveLeafHash(item);
      expect(spec.hex(leaf)).toBe(item.leafHash);
      expect(spec.verifySortedProof(v.root, leaf, item.proof)).toBe(true);
      return leaf;
    });
    expect(spec.standardTreeRoot(leaves)).toBe(v.root);
    expect(new Set(v.items.map((i: any) => i.status))).toEqual(new Set([0, 1, 2, 3]));
  });

  it("attestation-chain.json: digests, signatures and the hash chain", async () => {
    const v = await load("attestation-chain.json");
    expect(v.attestations).toHaveLength(3);
    let previous = `0x${"00".repeat(32)}`;
    v.attestations.forEach((entry: any, i: number) => {
      expect(entry.attestation.sequence).toBe(String(i + 1));
      expect(entry.attestation.previous).toBe(previous);
      expect(spec.attestationDigest(entry.attestation)).toBe(entry.digest);
      previous = entry.digest;
    });
    for (const entry of v.attestations) {
      expect(await spec.recoverDigestSigner(entry.digest, entry.signature)).toBe(v.signer.toLowerCase());
    }
    const five = await load("sumtree-5-users-3-assets.json");
    expect(v.attestations[2].attestation.liabilitiesRoot).toBe(five.root);
  });

  it("custodian-statement.json: digest and signer", async () => {
    const v = await load("custodian-statement.json");
    expect(spec.custodianStatementDigest(v.statement)).toBe(v.digest);
    expect(await spec.recoverDigestSigner(v.digest, v.signature)).toBe(v.signer.toLowerCase());
  });

  it("ownership-proof.json: the exact message and its personal_sign signer", async () => {
    const v = await load("ownership-proof.json");
    expect(v.message).toBe(
      `Solvent reserve ownership\nissuer: ${v.claim.issuerId}\naddress: ${v.claim.address}\nchainId: ${v.claim.chainId}`,
    );
    expect(spec.personalMessageHash(v.message)).toBe(v.messageHash);
    expect(await spec.recoverDigestSigner(v.messageHash, v.signature)).toBe(v.claim.address.toLowerCase());
  });
});
