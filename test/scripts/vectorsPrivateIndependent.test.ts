/**
 * The committed SPEC §11 vectors re-computed by test/support/independentPrivate.ts,
 * written from the SPEC and docs/spec.md §11 without core/.
 */
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { recheckPrivateLedger, recheckPrivateProof } from "../support/independentPrivate.js";
import { hex, unhex } from "../support/independentVerifier.js";

const FILES = ["private-1-users-1-assets.json", "private-5-users-2-assets.json"];
const load = async (name: string): Promise<any> => JSON.parse(await readFile(`docs/test-vectors/${name}`, "utf8"));

describe("SPEC §11 vectors re-computed from the SPEC alone", () => {
  it.each(FILES)(
    "%s: H, quantisation, blindings, padding, every node, the root's opening and every proof",
    async (file) => {
      const v = await load(file);
      expect(recheckPrivateLedger(v)).toBeNull();
      expect(v.proofs.length).toBe(v.users.length);
      for (const p of v.proofs) {
        expect(recheckPrivateProof(p.proof, unhex(p.salt), p.userId)).toBeNull();
        expect(p.proof.path.length).toBe(v.depth);
        // the proof names no other user's value: only its own leaf's opening
        const own = v.leaves[p.proof.leafIndex];
        expect(p.proof.values).toEqual(own.values);
        expect(JSON.stringify(p.proof.path)).not.toMatch(/"values"|"sums"|"blindings"/);
      }
    },
  );

  it("refuses a changed sibling commitment, a wrong blinding and a wrong total", async () => {
    const v = await load("private-5-users-2-assets.json");
    const { proof, salt, userId } = v.proofs[2];
    const sibling = structuredClone(proof);
    sibling.path[1].commitments[1] = v.rootCommitments[0];
    expect(recheckPrivateProof(sibling, unhex(salt), userId)).toBe("path does not reach the root hash");
    const blinding = structuredClone(proof);
    blinding.blindings[0] = hex(new Uint8Array(32).fill(2));
    expect(recheckPrivateProof(blinding, unhex(salt), userId)).toBe("path does not reach the root hash");
    const total = structuredClone(proof);
    total.totals[1] = String(BigInt(total.totals[1]) + 1n);
    expect(recheckPrivateProof(total, unhex(salt), userId)).toBe("root commitment 1 does not open to the total");
    const ledger = structuredClone(v);
    ledger.secret = hex(new Uint8Array(32).fill(9));
    expect(recheckPrivateLedger(ledger)).not.toBeNull();
  });
});
