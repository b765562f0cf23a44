import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { bytesToHex, hexToBytes } from "../../core/bytes.js";
import { checkNonInclusion, NOT_IN_SNAPSHOT } from "../../core/inclusionCheck.js";
import { createKeysDocument } from "../../core/keysDocument.js";
import {
  buildLiabilityTree,
  buildNonInclusionProof,
  compareCommitments,
  type NonInclusionProof,
  userCommitment,
  verifyNonInclusionProof,
} from "../../core/liabilities/index.js";
// Imported, not read from disk: this suite runs in workerd too, which has no file system.
import oneUser from "../../docs/test-vectors/non-inclusion-1-users-3-assets.json" with { type: "json" };
import fiveUsers from "../../docs/test-vectors/non-inclusion-5-users-3-assets.json" with { type: "json" };
import { attestLedger } from "../support/ledgerAttestation.js";

const VECTORS: Record<string, any> = {
  "non-inclusion-1-users-3-assets.json": oneUser,
  "non-inclusion-5-users-3-assets.json": fiveUsers,
};
const load = async (name: string): Promise<any> => VECTORS[name];

function sortedTree(n: number) {
  const rows = Array.from({ length: n }, (_, i) => ({
    commitment: userCommitment(new Uint8Array(16).fill(i + 1), `u${i}`),
    balances: [BigInt(i * 10 + 1), BigInt(i)],
  })).sort((a, b) => compareCommitments(a.commitment, b.commitment));
  return { rows, tree: buildLiabilityTree({ assets: ["USD", "BTC"], rows }) };
}

describe("SPEC §2.1 non-inclusion proofs", () => {
  it("core accepts every committed absence and refuses every committed forgery, naming the field", async () => {
    for (const file of ["non-inclusion-1-users-3-assets.json", "non-inclusion-5-users-3-assets.json"]) {
      const v = await load(file);
      for (const a of v.absent) {
        const r = verifyNonInclusionProof(a.proof, { userId: a.userId, salt: a.salt });
        expect(r.ok, r.ok ? "" : r.reason).toBe(true);
        if (r.ok) expect(r.root).toBe(v.root);
        // Someone else's secrets: the proof is not about them.
        const other = verifyNonInclusionProof(a.proof, { userId: v.users[0].userId, salt: v.users[0].salt });
        expect(other).toMatchObject({ ok: false, record: "commitment" });
      }
      for (const bad of v.invalid) expect(verifyNonInclusionProof(bad.proof).ok, bad.why).toBe(false);
    }
  });

  it("every gap of a tree, including before the first and after the last leaf, has a proof that verifies", () => {
    for (const n of [1, 2, 3, 4, 7]) {
      const { rows, tree } = sortedTree(n);
      const probes = [new Uint8Array(32), new Uint8Array(32).fill(0xff)];
      for (const r of rows) {
        const c = Uint8Array.from(r.commitment);
        c[31] = (c[31]! + 1) & 0xff; // just above a leaf (the next leaf is above it with overwhelming odds)
        probes.push(c);
      }
      for (const c of probes) {
        const proof = buildNonInclusionProof(tree, c);
        expect(proof.leafCount).toBe(n);
        expect(verifyNonInclusionProof(proof, { commitment: c })).toMatchObject({ ok: true, root: tree.root });
      }
    }
  });

  it("refuses to prove a present commitment absent, and refuses a tree not in commitment order", () => {
    const { rows, tree } = sortedTree(4);
    expect(() => buildNonInclusionProof(tree, rows[2]!.commitment)).toThrow(/is leaf 2 of the tree/);
    const shuffled = buildLiabilityTree({ assets: ["USD", "BTC"], rows: [rows[1]!, rows[0]!, rows[2]!] });
    expect(() => buildNonInclusionProof(shuffled, new Uint8Array(32))).toThrow(/not in commitment order/);
  });

  it("names what is wrong in a tampered proof", () => {
    const { rows, tree } = sortedTree(5);
    const c = Uint8Array.from(rows[1]!.commitment);
    c[31] = (c[31]! + 1) & 0xff;
    const good = buildNonInclusionProof(tree, c);
    const cases: [string, (p: NonInclusionProof) => unknown, string][] = [
      ["kind", (p) => ({ ...p, kind: "inclusion" }), "kind"],
      ["left hash", (p) => ({ ...p, left: { ...p.left!, leafHash: bytesToHex(new Uint8Array(32)) } }), "left.leafHash"],
      ["left balances", (p) => ({ ...p, left: { ...p.left!, balances: ["0", "0"] } }), "left.leafHash"],
      ["right moved", (p) => ({ ...p, right: { ...p.right!, leafIndex: p.right!.leafIndex + 1 } }), "right.path"],
      ["no neighbours", (p) => ({ ...p, left: null, right: null }), "proof"],
      ["only left", (p) => ({ ...p, right: null }), "left.leafIndex"],
      ["only right", (p) => ({ ...p, left: null }), "right.leafIndex"],
      ["leafCount", (p) => ({ ...p, leafCount: 2 }), "right.leafIndex"],
      ["root", (p) => ({ ...p, root: bytesToHex(new Uint8Array(32)) }), "left.path"],
      ["rootSums", (p) => ({ ...p, rootSums: ["1", "1"] }), "left.path"],
      ["missing right", (p) => ({ ...p, right: undefined }), "proof"],
    ];
    for (const [name, mutate, record] of cases) {
      const r = verifyNonInclusionProof(JSON.parse(JSON.stringify(mutate(good)) ?? "null"), { commitment: c });
      expect(r, name).toMatchObject({ ok: false, record });
    }
    // A neighbour's commitment on the wrong side of c.
    const swapped = { ...good, commitment: bytesToHex(hexToBytes(good.left!.commitment, "c")) };
    expect(verifyNonInclusionProof(swapped)).toMatchObject({ ok: false, record: "left.commitment" });
  });
});

describe("checkNonInclusion (the steps the CLI and the page print)", () => {
  const signer = privateKeyToAccount("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcaf784d7bf4f2ff80");
  const keys = createKeysDocument({ address: signer.address, validFrom: 1_700_000_000 });
  const salt = bytesToHex(new Uint8Array(16).fill(0xab));

  async function attest(tree: ReturnType<typeof sortedTree>["tree"], ledger: Record<string, unknown>) {
    const report = new TextEncoder().encode(JSON.stringify({ liabilities: { root: tree.root, ledger } }));
    return { ...(await attestLedger(signer, "test-issuer", tree.root, report)), keys, report };
  }

  it("concludes absence only with a signed root and a report in commitment order with the same leaf count", async () => {
    const { tree } = sortedTree(5);
    const proof = buildNonInclusionProof(tree, userCommitment(hexToBytes(salt, "salt"), "mallory"));
    const ledger = { id: "L1", asOf: "1700000000", leafCount: "5", order: "commitment", scheme: "sum-sha256-v1" };
    const ok = await checkNonInclusion({
      proof,
      userId: "mallory",
      salt,
      attested: await attest(tree, ledger),
      now: 1_700_000_200n,
    });
    expect(ok.valid).toBe(true);
    expect(ok.verdict).toContain(NOT_IN_SNAPSHOT);
    expect(ok.steps.map((s) => s.id)).toEqual([
      "commitment",
      "proof",
      "attestation",
      "signature",
      "root",
      "report",
      "freshness",
    ]);

    const random = await checkNonInclusion({
      proof,
      userId: "mallory",
      salt,
      attested: await attest(tree, { ...ledger, order: undefined }),
    });
    expect(random.valid).toBe(false);
    expect(random.steps.find((s) => s.id === "report")?.detail).toMatch(/random order/);
    const count = await checkNonInclusion({
      proof,
      userId: "mallory",
      salt,
      attested: await attest(tree, { ...ledger, leafCount: "6" }),
    });
    expect(count.steps.find((s) => s.id === "report")?.detail).toMatch(/report says 6 leaves, the proof 5/);
    const swapped = await attest(tree, ledger);
    swapped.report = new TextEncoder().encode(
      JSON.stringify({ liabilities: { ledger: { ...ledger, leafCount: "4" } } }),
    );
    expect(
      (await checkNonInclusion({ proof, userId: "mallory", salt, attested: swapped })).steps.find(
        (s) => s.id === "report",
      )?.detail,
    ).toMatch(/reportHash/);
    const other = await checkNonInclusion({ proof, userId: "oscar", salt, attested: await attest(tree, ledger) });
    expect(other.steps.find((s) => s.id === "proof")).toMatchObject({ status: "fail" });
    expect(other.unusable).toBe(false); // well formed, about someone else: not valid, but readable
    expect(ok.unusable).toBe(false);

    // Input that cannot be read at all is unusable (the CLI exits 2), not merely invalid.
    const attested = await attest(tree, ledger);
    expect(
      await checkNonInclusion({ proof: { ...proof, kind: "inclusion" }, userId: "mallory", salt, attested }),
    ).toMatchObject({ valid: false, unusable: true });
    expect(await checkNonInclusion({ proof: "junk", userId: "mallory", salt, attested })).toMatchObject({
      valid: false,
      unusable: true,
    });
    expect(await checkNonInclusion({ proof, userId: "mallory", salt: "zz", attested })).toMatchObject({
      valid: false,
      unusable: true,
    });
    expect(
      await checkNonInclusion({ proof, userId: "mallory", salt, attested: { ...attested, keys: { keys: "none" } } }),
    ).toMatchObject({ valid: false, unusable: true });
  });
});
