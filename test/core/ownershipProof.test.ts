import { keccak256, recoverAddress } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { SolventError } from "../../core/errors.js";
import {
  checkOwnershipSignature,
  ownershipMessage,
  ownershipMessageHash,
  signOwnership,
  verifyOwnershipSignature,
} from "../../core/ownershipProof.js";
import { highSTwin } from "../support/highS.js";

const KEY_0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const ADDR_0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
const KEY_1 = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const owner = privateKeyToAccount(KEY_0);
const stranger = privateKeyToAccount(KEY_1);

const claim = { issuerId: "acme-usd", address: ADDR_0.toLowerCase(), chainId: 1 };

// The SPEC §8 template filled in by hand.
const EXPECTED =
  "Solvent reserve ownership\n" +
  "issuer: acme-usd\n" +
  "address: 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266\n" +
  "chainId: 1";

describe("address-ownership proof (SPEC §8)", () => {
  it("builds the exact SPEC message with a checksummed address", () => {
    expect(ownershipMessage(claim)).toBe(EXPECTED);
    expect(ownershipMessage({ ...claim, address: ADDR_0 })).toBe(EXPECTED);
    expect(ownershipMessage({ ...claim, chainId: 8453n })).toBe(EXPECTED.replace("chainId: 1", "chainId: 8453"));
    expect(ownershipMessage({ ...claim, issuerId: "Ünïcode Co" })).toBe(EXPECTED.replace("acme-usd", "Ünïcode Co"));
  });

  it("rejects inputs that would make the message ambiguous or wrong", () => {
    expect(() => ownershipMessage({ ...claim, issuerId: "acme\nissuer: evil" })).toThrow(SolventError);
    expect(() => ownershipMessage({ ...claim, issuerId: "" })).toThrow(SolventError);
    expect(() => ownershipMessage({ ...claim, chainId: 0 })).toThrow(SolventError);
    expect(() => ownershipMessage({ ...claim, chainId: 1.5 })).toThrow(SolventError);
    expect(() => ownershipMessage({ ...claim, address: "0x1234" })).toThrow(SolventError);
    expect(() => ownershipMessage({ ...claim, address: "0xf39Fd6e51aad88F6F4ce6aB8827279cfffb92266" })).toThrow(
      /checksum/,
    );
  });

  it("hashes with the EIP-191 personal_sign prefix", () => {
    const bytes = new TextEncoder().encode(EXPECTED);
    const prefixed = new TextEncoder().encode(`\x19Ethereum Signed Message:\n${bytes.length}${EXPECTED}`);
    expect(ownershipMessageHash(claim)).toBe(keccak256(prefixed));
  });

  it("verifies the owner's signature and rejects anyone else's", async () => {
    const signature = await signOwnership(owner, claim);
    expect(await recoverAddress({ hash: ownershipMessageHash(claim), signature })).toBe(ADDR_0);
    expect(await verifyOwnershipSignature(claim, signature)).toBe(true);
    expect(await verifyOwnershipSignature({ ...claim, address: ADDR_0 }, signature)).toBe(true);

    const forged = await signOwnership(stranger, claim);
    expect(await verifyOwnershipSignature(claim, forged)).toBe(false);
    // the same signature does not carry over to another issuer or chain
    expect(await verifyOwnershipSignature({ ...claim, issuerId: "other" }, signature)).toBe(false);
    expect(await verifyOwnershipSignature({ ...claim, chainId: 10 }, signature)).toBe(false);
    expect(await verifyOwnershipSignature(claim, "0xdeadbeef")).toBe(false);
  });
});

describe("low-s ownership proofs (SPEC §9)", () => {
  it("refuses the owner's own signature in its high-s form, with the reason", async () => {
    const signature = await signOwnership(owner, claim);
    const twin = highSTwin(signature);
    expect(await recoverAddress({ hash: ownershipMessageHash(claim), signature: twin })).toBe(ADDR_0);
    expect(await verifyOwnershipSignature(claim, twin)).toBe(false);
    const check = await checkOwnershipSignature(claim, twin);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.reason).toMatch(/high s \(s > n\/2\)/);
    expect(await checkOwnershipSignature(claim, signature)).toEqual({ ok: true });
  });

  it("names why any other signature fails", async () => {
    const forged = await checkOwnershipSignature(claim, await signOwnership(stranger, claim));
    expect(forged).toEqual({ ok: false, reason: expect.stringContaining("not the holder") });
    expect(await checkOwnershipSignature(claim, "0xdeadbeef")).toEqual({
      ok: false,
      reason: expect.stringContaining("65 bytes"),
    });
  });
});
