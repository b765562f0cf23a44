import { concat, encodeAbiParameters, keccak256, recoverAddress, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import {
  type Attestation,
  type AttestationFields,
  attestationDigest,
  attestationFromJson,
  attestationToJson,
  checkChainLink,
  issuerKey,
  nextAttestation,
  recoverAttestationSigner,
  signAttestation,
  verifySignedAttestation,
  ZERO_HASH,
} from "../../core/attestation.js";
import { SolventError } from "../../core/errors.js";
import { createKeysDocument, rotateKey } from "../../core/keysDocument.js";
import { highSTwin } from "../support/highS.js";

// Well-known Anvil/Hardhat development keys and their addresses.
const KEY_0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const ADDR_0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
const KEY_1 = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const ADDR_1 = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const signer0 = privateKeyToAccount(KEY_0);
const signer1 = privateKeyToAccount(KEY_1);

const UINT64_MAX = 18446744073709551615n;

function fields(overrides: Partial<AttestationFields> = {}): AttestationFields {
  return {
    issuer: keccak256(toHex("acme-usd")),
    observedAt: 1700000000n,
    validUntil: 1700003600n,
    reservesUsd: 1_050_000n * 10n ** 18n,
    onchainReservesUsd: 1_000_000n * 10n ** 18n,
    offchainReservesUsd: 50_000n * 10n ** 18n,
    liabilitiesUsd: 1_000_000n * 10n ** 18n,
    ratioBps: 10500,
    reservesRoot: `0x${"ab".repeat(32)}`,
    liabilitiesRoot: `0x${"cd".repeat(32)}`,
    flags: 0b1000n,
    reportHash: `0x${"ef".repeat(32)}`,
    ...overrides,
  };
}

const first: Attestation = nextAttestation(null, fields());

/** EIP-712 digest built from the SPEC §5 type string by hand, without viem's typed-data code. */
function handDigest(a: Attestation): `0x${string}` {
  const typeString =
    "SolvencyAttestation(bytes32 issuer,uint64 sequence,bytes32 previous,uint64 observedAt,uint64 validUntil," +
    "uint256 reservesUsd,uint256 onchainReservesUsd,uint256 offchainReservesUsd,uint256 liabilitiesUsd," +
    "uint32 ratioBps,bytes32 reservesRoot,bytes32 liabilitiesRoot,uint64 flags,bytes32 reportHash)";
  const structHash = keccak256(
    encodeAbiParameters(
      [
        { type: "bytes32" },
        { type: "bytes32" },
        { type: "uint64" },
        { type: "bytes32" },
        { type: "uint64" },
        { type: "uint64" },
        { type: "uint256" },
        { type: "uint256" },
        { type: "uint256" },
        { type: "uint256" },
        { type: "uint32" },
        { type: "bytes32" },
        { type: "bytes32" },
        { type: "uint64" },
        { type: "bytes32" },
      ],
      [
        keccak256(toHex(typeString)),
        a.issuer,
        a.sequence,
        a.previous,
        a.observedAt,
        a.validUntil,
        a.reservesUsd,
        a.onchainReservesUsd,
        a.offchainReservesUsd,
        a.liabilitiesUsd,
        a.ratioBps,
        a.reservesRoot,
        a.liabilitiesRoot,
        a.flags,
        a.reportHash,
      ],
    ),
  );
  const domainSeparator = keccak256(
    encodeAbiParameters(
      [{ type: "bytes32" }, { type: "bytes32" }, { type: "bytes32" }],
      [
        keccak256(toHex("EIP712Domain(string name,string version)")),
        keccak256(toHex("Solvent")),
        keccak256(toHex("1")),
      ],
    ),
  );
  return keccak256(concat(["0x1901", domainSeparator, structHash]));
}

function expectError(fn: () => unknown, record: string, code?: string): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SolventError);
    expect((e as SolventError).record).toBe(record);
    if (code) expect((e as SolventError).code).toBe(code);
    return;
  }
  throw new Error(`expected ${record} to be rejected`);
}

describe("attestation (SPEC §5)", () => {
  it("issuerKey is keccak256 of the UTF-8 id", () => {
    // keccak256("") is the well-known c5d2…a470; a non-ASCII id is hashed as UTF-8 bytes
    expect(keccak256(new Uint8Array())).toBe("0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    expect(issuerKey("acme-usd")).toBe(keccak256(new TextEncoder().encode("acme-usd")));
    expect(issuerKey("Ü")).toBe(keccak256(new Uint8Array([0xc3, 0x9c])));
    expect(() => issuerKey("")).toThrow(SolventError);
  });

  it("digest equals a hand-built EIP-712 encoding of the SPEC type", () => {
    expect(attestationDigest(first)).toBe(handDigest(first));
    const second = nextAttestation(first, fields({ observedAt: 1700000060n, flags: 0n, ratioBps: 4294967295 }));
    expect(attestationDigest(second)).toBe(handDigest(second));
    const extremes: Attestation = { ...second, sequence: UINT64_MAX, flags: 0x3ffn, reservesUsd: 2n ** 256n - 1n };
    expect(attestationDigest(extremes)).toBe(handDigest(extremes));
  });

  it("every field changes the digest", () => {
    const base = attestationDigest(first);
    const tweaks: Array<Partial<Attestation>> = [
      { issuer: issuerKey("other") },
      { sequence: 2n },
      { previous: `0x${"11".repeat(32)}` },
      { observedAt: 1n },
      { validUntil: 1n },
      { reservesUsd: 1n },
      { onchainReservesUsd: 1n },
      { offchainReservesUsd: 1n },
      { liabilitiesUsd: 1n },
      { ratioBps: 1 },
      { reservesRoot: ZERO_HASH },
      { liabilitiesRoot: ZERO_HASH },
      { flags: 1n },
      { reportHash: ZERO_HASH },
    ];
    const digests = new Set(tweaks.map((t) => attestationDigest({ ...first, ...t })));
    expect(digests.size).toBe(tweaks.length);
    expect(digests.has(base)).toBe(false);
  });

  it("signs and recovers; a tampered field recovers someone else", async () => {
    const signature = await signAttestation(first, signer0);
    expect(signature).toMatch(/^0x[0-9a-f]{130}$/);
    expect(await recoverAttestationSigner(first, signature)).toBe(ADDR_0);
    // independent recovery straight from the hand-built digest
    expect(await recoverAddress({ hash: handDigest(first), signature })).toBe(ADDR_0);
    const tampered = { ...first, reservesUsd: first.reservesUsd + 1n };
    expect(await recoverAttestationSigner(tampered, signature)).not.toBe(ADDR_0);
    expect(await recoverAttestationSigner(first, await signAttestation(first, signer1))).toBe(ADDR_1);
  });

  it("rejects malformed signatures and out-of-range in-memory values", async () => {
    await expect(recoverAttestationSigner(first, "0x1234")).rejects.toThrow(SolventError);
    await expect(signAttestation({ ...first, ratioBps: 2 ** 32 }, signer0)).rejects.toThrow(/attestation.ratioBps/);
    expect(() => attestationDigest({ ...first, sequence: UINT64_MAX + 1n })).toThrow(/attestation.sequence/);
    expect(() => attestationDigest({ ...first, reportHash: "0x1234" })).toThrow(/attestation.reportHash/);
  });
});

describe("attestation JSON (SPEC §10)", () => {
  it("writes integers as decimal strings and bytes as lowercase hex, and round-trips", () => {
    const json = attestationToJson(first);
    expect(json).toEqual({
      issuer: keccak256(toHex("acme-usd")),
      sequence: "1",
      previous: "0x0000000000000000000000000000000000000000000000000000000000000000",
      observedAt: "1700000000",
      validUntil: "1700003600",
      reservesUsd: "1050000000000000000000000",
      onchainReservesUsd: "1000000000000000000000000",
      offchainReservesUsd: "50000000000000000000000",
      liabilitiesUsd: "1000000000000000000000000",
      ratioBps: "10500",
      reservesRoot: `0x${"ab".repeat(32)}`,
      liabilitiesRoot: `0x${"cd".repeat(32)}`,
      flags: "8",
      reportHash: `0x${"ef".repeat(32)}`,
    });
    expect(Object.keys(json)).toEqual([
      "issuer",
      "sequence",
      "previous",
      "observedAt",
      "validUntil",
      "reservesUsd",
      "onchainReservesUsd",
      "offchainReservesUsd",
      "liabilitiesUsd",
      "ratioBps",
      "reservesRoot",
      "liabilitiesRoot",
      "flags",
      "reportHash",
    ]);
    expect(attestationFromJson(JSON.parse(JSON.stringify(json)))).toEqual(first);
  });

  it("rejects bad numbers, bad bytes, missing and unknown fields, naming the field", () => {
    const good = attestationToJson(first);
    const bad = (patch: Record<string, unknown>) => ({ ...good, ...patch });
    expectError(() => attestationFromJson(bad({ sequence: "01" })), "attestation.sequence", "INVALID_NUMBER");
    expectError(() => attestationFromJson(bad({ sequence: "-1" })), "attestation.sequence", "INVALID_NUMBER");
    expectError(() => attestationFromJson(bad({ sequence: "1e3" })), "attestation.sequence", "INVALID_NUMBER");
    expectError(() => attestationFromJson(bad({ sequence: 1 })), "attestation.sequence", "INVALID_NUMBER");
    expectError(
      () => attestationFromJson(bad({ sequence: "18446744073709551616" })),
      "attestation.sequence",
      "OUT_OF_RANGE",
    );
    expect(attestationFromJson(bad({ sequence: "18446744073709551615" })).sequence).toBe(UINT64_MAX);
    expectError(() => attestationFromJson(bad({ ratioBps: "4294967296" })), "attestation.ratioBps", "OUT_OF_RANGE");
    expect(attestationFromJson(bad({ ratioBps: "4294967295" })).ratioBps).toBe(4294967295);
    expectError(() => attestationFromJson(bad({ flags: "18446744073709551616" })), "attestation.flags", "OUT_OF_RANGE");
    expectError(() => attestationFromJson(bad({ reservesUsd: "1.5" })), "attestation.reservesUsd", "INVALID_NUMBER");
    expectError(
      () => attestationFromJson(bad({ reservesUsd: (2n ** 256n).toString() })),
      "attestation.reservesUsd",
      "OUT_OF_RANGE",
    );
    expectError(
      () => attestationFromJson(bad({ reservesRoot: `0x${"ab".repeat(31)}` })),
      "attestation.reservesRoot",
      "INVALID_BYTES",
    );
    expectError(
      () => attestationFromJson(bad({ reservesRoot: `0x${"ab".repeat(33)}` })),
      "attestation.reservesRoot",
      "INVALID_BYTES",
    );
    expectError(
      () => attestationFromJson(bad({ reservesRoot: `0x${"AB".repeat(32)}` })),
      "attestation.reservesRoot",
      "INVALID_BYTES",
    );
    expectError(
      () => attestationFromJson(bad({ reportHash: "ab".repeat(32) })),
      "attestation.reportHash",
      "INVALID_BYTES",
    );
    expectError(
      () => attestationFromJson(bad({ previous: `0x${"zz".repeat(32)}` })),
      "attestation.previous",
      "INVALID_BYTES",
    );
    expectError(() => attestationFromJson(bad({ extra: "1" })), "attestation.extra", "INVALID_DOCUMENT");
    const { liabilitiesRoot: _dropped, ...missing } = good;
    expectError(() => attestationFromJson(missing), "attestation.liabilitiesRoot", "INVALID_DOCUMENT");
    expectError(() => attestationFromJson([]), "attestation", "INVALID_DOCUMENT");
  });
});

describe("attestation hash chain", () => {
  const second = nextAttestation(first, fields({ observedAt: 1700000060n }));
  const third = nextAttestation(second, fields({ observedAt: 1700000120n }));

  it("numbers from 1 and links each attestation to the digest of the one before", () => {
    expect(first.sequence).toBe(1n);
    expect(first.previous).toBe(ZERO_HASH);
    expect(ZERO_HASH).toBe(`0x${"0".repeat(64)}`);
    expect(second.sequence).toBe(2n);
    expect(second.previous).toBe(handDigest(first));
    expect(third.previous).toBe(handDigest(second));
    expect(checkChainLink(null, first)).toEqual([]);
    expect(checkChainLink(first, second)).toEqual([]);
    expect(checkChainLink(second, third)).toEqual([]);
  });

  it("reports gaps, wrong previous, issuer changes and time going backwards", () => {
    expect(checkChainLink(first, third).join(" ")).toMatch(/sequence 3 does not follow 1/);
    expect(checkChainLink(first, third).join(" ")).toMatch(/not the digest/);
    expect(checkChainLink(first, { ...second, previous: ZERO_HASH })).toHaveLength(1);
    expect(checkChainLink(first, { ...second, sequence: 1n })).toHaveLength(1);
    expect(checkChainLink(first, { ...second, issuer: issuerKey("other") })[0]).toMatch(/issuer/);
    expect(checkChainLink(first, { ...second, observedAt: first.observedAt - 1n })[0]).toMatch(/observedAt/);
    expect(checkChainLink(first, { ...second, observedAt: first.observedAt })).toEqual([]);
    expect(checkChainLink(null, second)).toHaveLength(2);
    expect(checkChainLink(null, { ...first, previous: `0x${"01".repeat(32)}` })).toHaveLength(1);
  });

  it("refuses to build a link that would break the chain", () => {
    expect(() => nextAttestation(first, fields({ issuer: issuerKey("other"), observedAt: 1700000060n }))).toThrow(
      SolventError,
    );
    expect(() => nextAttestation(second, fields({ observedAt: 1n }))).toThrow(/observedAt/);
  });
});

describe("verifySignedAttestation (SPEC §7)", () => {
  // Key 0 from 1_600_000_000, rotated to key 1 at 1_700_000_030.
  const keys = rotateKey(createKeysDocument({ address: ADDR_0, validFrom: 1_600_000_000 }), {
    newAddress: ADDR_1,
    at: 1_700_000_030,
  });
  const second = nextAttestation(first, fields({ observedAt: 1700000060n }));

  it("accepts a signer valid at observedAt, including a rotated-out key for old attestations", async () => {
    const old = await verifySignedAttestation({
      attestation: first,
      signature: await signAttestation(first, signer0),
      keys,
    });
    expect(old).toEqual({ ok: true, signer: ADDR_0, reasons: [] });
    const current = await verifySignedAttestation({
      attestation: second,
      signature: await signAttestation(second, signer1),
      keys,
    });
    expect(current).toEqual({ ok: true, signer: ADDR_1, reasons: [] });
  });

  it("rejects a key outside its window, an unknown key and a tampered attestation", async () => {
    const lateOldKey = await verifySignedAttestation({
      attestation: second,
      signature: await signAttestation(second, signer0),
      keys,
    });
    expect(lateOldKey.ok).toBe(false);
    expect(lateOldKey.signer).toBe(ADDR_0);
    expect(lateOldKey.reasons[0]).toMatch(/not a key valid at observedAt 1700000060/);
    const earlyNewKey = await verifySignedAttestation({
      attestation: first,
      signature: await signAttestation(first, signer1),
      keys,
    });
    expect(earlyNewKey.ok).toBe(false);
    const beforeAnyKey = { ...first, observedAt: 1_500_000_000n };
    const early = await verifySignedAttestation({
      attestation: beforeAnyKey,
      signature: await signAttestation(beforeAnyKey, signer0),
      keys,
    });
    expect(early.ok).toBe(false);
    const signature = await signAttestation(first, signer0);
    const tampered = await verifySignedAttestation({ attestation: { ...first, liabilitiesUsd: 1n }, signature, keys });
    expect(tampered.ok).toBe(false);
    expect(tampered.signer).not.toBe(ADDR_0);
    const garbage = await verifySignedAttestation({ attestation: first, signature: "0xdeadbeef", keys });
    expect(garbage).toMatchObject({ ok: false, signer: null });
    expect(garbage.reasons).toHaveLength(1);
  });
});

describe("low-s attestation signatures (SPEC §9: every signature)", () => {
  it("refuses the high-s twin of the publisher's signature, which would otherwise recover the publisher", async () => {
    const keys = createKeysDocument({ address: ADDR_0, validFrom: 1_600_000_000 });
    const signature = await signAttestation(first, signer0);
    const twin = highSTwin(signature);
    expect(await recoverAddress({ hash: attestationDigest(first), signature: twin })).toBe(ADDR_0);
    await expect(recoverAttestationSigner(first, twin)).rejects.toThrow(/signature: has a high s/);
    const check = await verifySignedAttestation({ attestation: first, signature: twin, keys });
    expect(check).toMatchObject({ ok: false, signer: null });
    expect(check.reasons[0]).toMatch(/high s \(s > n\/2\)/);
    expect((await verifySignedAttestation({ attestation: first, signature, keys })).ok).toBe(true);
  });

  it("refuses r or s outside [1, n-1] and a v that is no recovery id, naming which", async () => {
    const signature = await signAttestation(first, signer0);
    const n = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";
    const r = signature.slice(2, 66);
    const s = signature.slice(66, 130);
    await expect(recoverAttestationSigner(first, `0x${n}${s}1b`)).rejects.toThrow(/r is not in \[1, n-1\]/);
    await expect(recoverAttestationSigner(first, `0x${r}${"00".repeat(32)}1b`)).rejects.toThrow(
      /s is not in \[1, n-1\]/,
    );
    await expect(recoverAttestationSigner(first, `0x${r}${s}1d`)).rejects.toThrow(/v is 29/);
  });
});
