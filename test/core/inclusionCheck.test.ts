import { privateKeyToAccount } from "viem/accounts";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Attestation,
  attestationToJson,
  buildLiabilityTree,
  bytesToHex,
  checkInclusion,
  createKeysDocument,
  type InclusionProof,
  issuerKey,
  nextAttestation,
  signAttestation,
  userCommitment,
  ZERO_HASH,
} from "../../core/index.js";

// Anvil's first default key: a well-known test key.
const signer = privateKeyToAccount("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcaf784d7bf4f2ff80");
const other = privateKeyToAccount("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
const salt = (i: number) => Uint8Array.from({ length: 16 }, (_, k) => (i * 31 + k) & 0xff);
const users = ["alice", "bob", "carol", "dave", "erin"];

let proof: InclusionProof;
let attestation: Attestation;
let signature: `0x${string}`;
const keys = createKeysDocument({ address: signer.address, validFrom: 1_700_000_000 });

beforeAll(async () => {
  const tree = buildLiabilityTree({
    assets: ["USD", "ETH"],
    rows: users.map((u, i) => ({
      commitment: userCommitment(salt(i), u),
      balances: [BigInt(100 * (i + 1)), BigInt(i)],
    })),
  });
  proof = tree.proof(2);
  attestation = nextAttestation(null, {
    issuer: issuerKey("test-issuer"),
    observedAt: 1_700_000_100n,
    validUntil: 1_700_003_700n,
    reservesUsd: 2n * 10n ** 21n,
    onchainReservesUsd: 2n * 10n ** 21n,
    offchainReservesUsd: 0n,
    liabilitiesUsd: 10n ** 21n,
    ratioBps: 20000,
    reservesRoot: `0x${"11".repeat(32)}`,
    liabilitiesRoot: tree.root,
    flags: 0n,
    reportHash: `0x${"22".repeat(32)}`,
  });
  signature = await signAttestation(attestation, signer);
});

const input = (overrides: Record<string, unknown> = {}) => ({
  proof,
  userId: "carol",
  salt: bytesToHex(salt(2)),
  attested: { attestation: attestationToJson(attestation), signature, keys },
  now: 1_700_000_200n,
  ...overrides,
});

describe("checkInclusion: the steps a user runs (CLI and page)", () => {
  it("passes every step for a genuine proof under a signed attestation", async () => {
    const r = await checkInclusion(input());
    expect(r.valid).toBe(true);
    expect(r.steps.map((s) => [s.id, s.status])).toEqual([
      ["commitment", "pass"],
      ["proof", "pass"],
      ["attestation", "pass"],
      ["signature", "pass"],
      ["root", "pass"],
      ["freshness", "note"],
    ]);
    expect(r.steps[1]!.detail).toContain("USD 300, ETH 2");
  });

  it("shows balances and totals in the assets' units when their decimals are given", async () => {
    const r = await checkInclusion({
      ...input(),
      assetDecimals: new Map([
        ["USD", 2],
        ["ETH", 1],
      ]),
    });
    expect(r.valid).toBe(true);
    expect(r.steps[1]!.detail).toContain("your balances (3 USD, 0.2 ETH)");
    expect(r.steps[1]!.detail).toContain("whose totals are 15 USD, 1 ETH");
  });

  it("tells a malformed proof (unusable) from one that does not verify", async () => {
    expect((await checkInclusion({ ...input(), proof: [] })).unusable).toBe(true);
    expect((await checkInclusion({ ...input(), userId: "someone-else" })).unusable).toBe(false);
  });

  it("fails the proof step for another user's id or salt", async () => {
    for (const r of [
      await checkInclusion(input({ userId: "mallory" })),
      await checkInclusion(input({ salt: bytesToHex(salt(9)) })),
    ]) {
      expect(r.valid).toBe(false);
      expect(r.steps.find((s) => s.id === "proof")!.status).toBe("fail");
    }
  });

  it("fails the signature step for a signer not in the keys document", async () => {
    const forged = await signAttestation(attestation, other);
    const r = await checkInclusion(
      input({ attested: { attestation: attestationToJson(attestation), signature: forged, keys } }),
    );
    expect(r.valid).toBe(false);
    expect(r.steps.find((s) => s.id === "signature")!.status).toBe("fail");
  });

  it("fails the root step when the attestation commits to another root", async () => {
    const a = { ...attestation, liabilitiesRoot: ZERO_HASH.replace(/0$/, "1") as `0x${string}` };
    const sig = await signAttestation(a, signer);
    const r = await checkInclusion(input({ attested: { attestation: attestationToJson(a), signature: sig, keys } }));
    expect(r.steps.find((s) => s.id === "signature")!.status).toBe("pass");
    expect(r.steps.find((s) => s.id === "root")!.status).toBe("fail");
    expect(r.valid).toBe(false);
  });

  it("notes expiry without failing inclusion", async () => {
    const r = await checkInclusion(input({ now: 1_800_000_000n }));
    expect(r.valid).toBe(true);
    expect(r.steps.at(-1)!.detail).toMatch(/expired/);
  });

  it("turns unusable input into failed steps naming the field, never an exception", async () => {
    const cases = [
      input({ salt: "0x12" }),
      input({ proof: { ...proof, leafIndex: -1 } }),
      input({ proof: "not a proof" }),
      input({ attested: { attestation: { sequence: "1" }, signature, keys } }),
      input({ attested: { attestation: attestationToJson(attestation), signature: "0x1234", keys } }),
      input({ attested: { attestation: attestationToJson(attestation), signature, keys: { keys: "none" } } }),
    ];
    for (const c of cases) {
      const r = await checkInclusion(c as Parameters<typeof checkInclusion>[0]);
      expect(r.valid).toBe(false);
      const failed = r.steps.find((s) => s.status === "fail")!;
      expect(failed.detail.length).toBeGreaterThan(5);
    }
  });
});
