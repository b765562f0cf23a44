import { readFile } from "node:fs/promises";
import {
  type Abi,
  type Address,
  encodeFunctionData,
  type Hex,
  hexToBigInt,
  keccak256,
  numberToHex,
  parseEventLogs,
  parseSignature,
  serializeSignature,
  toHex,
} from "viem";
import { type LocalAccount, mnemonicToAccount, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Attestation,
  type AttestationFields,
  attestationDigest,
  attestationFromJson,
  issuerKey,
  nextAttestation,
  signAttestation,
  ZERO_HASH,
} from "../../core/attestation.js";
import { calldataFloorGas, compileGasProbe, executionGas, probeStaticCallGas } from "../../scripts/benchGas.js";
import { type AnvilInstance, startAnvil } from "../../scripts/lib/anvil.js";
import { deployContract, loadArtifact } from "../../scripts/lib/artifacts.js";
import { type DecodedRevert, fieldsFor, oracleChain, USD } from "../support/oracleChain.js";

const MNEMONIC = "test test test test test test test test test test test junk";
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
/** Small on purpose: eviction from the round ring is reachable in a few submits. */
const ROUND_HISTORY = 4n;

const deployer = mnemonicToAccount(MNEMONIC, { addressIndex: 0 });
const alice = mnemonicToAccount(MNEMONIC, { addressIndex: 1 });
const relayer = mnemonicToAccount(MNEMONIC, { addressIndex: 2 });
const mallory = mnemonicToAccount(MNEMONIC, { addressIndex: 3 });
const signerA = privateKeyToAccount(keccak256(toHex("oracle test signer A")));
const signerB = privateKeyToAccount(keccak256(toHex("oracle test signer B")));
const malloryKey = privateKeyToAccount(keccak256(toHex("oracle test mallory")));

// Reason bits, checked against the contract's constants below.
const NO_ATTESTATION = 1n;
const EXPIRED = 2n;
const TOO_OLD = 4n;
const RATIO_BELOW_MIN = 8n;
const DENIED_FLAG = 16n;

interface VectorFile {
  signer: Address;
  testPrivateKey: Hex;
  attestations: { attestation: unknown; digest: Hex; signature: Hex }[];
}

const anvil: AnvilInstance = await startAnvil();
const { client, walletFor, rpc, chainNow, advance, read, write, revertOf } = oracleChain(anvil);
let oracle: Address;
const abis: Record<"oracle" | "feed" | "market" | "consumer" | "token", Abi> = {} as never;
const gasLines: string[] = [];

/** Signs `a` and relays it; returns the receipt and the decoded AttestationSubmitted event. */
async function submit(a: Attestation, signer: LocalAccount = signerA) {
  const receipt = await write(relayer, oracle, abis.oracle, "submit", [a, await signAttestation(a, signer)]);
  const [event] = parseEventLogs({ abi: abis.oracle, logs: receipt.logs, eventName: "AttestationSubmitted" });
  expect(event).toBeDefined();
  return {
    receipt,
    event: event!.args as unknown as { issuer: Hex; sequence: bigint; digest: Hex; signer: Address; linked: boolean },
  };
}

/** Builds, signs and relays the attestation that follows `previous` for `issuer`. */
async function submitNext(issuer: Hex, previous: Attestation | null, overrides: Partial<AttestationFields> = {}) {
  const a = nextAttestation(previous, fieldsFor(issuer, await chainNow(), overrides));
  const result = await submit(a);
  return { a, ...result };
}

async function submitRevert(a: Attestation, signature: Hex): Promise<DecodedRevert> {
  return revertOf(relayer, oracle, abis.oracle, "submit", [a, signature]);
}

function recordGas(op: string, gasUsed: bigint, executionGasValue: bigint): void {
  gasLines.push(
    JSON.stringify({ bench: "gas", op, gasUsed: Number(gasUsed), executionGas: Number(executionGasValue) }),
  );
}

beforeAll(async () => {
  expect(anvil.port).not.toBe(8545);
  abis.oracle = (await loadArtifact("SolvencyOracle")).abi;
  abis.feed = (await loadArtifact("ReserveFeed")).abi;
  abis.market = (await loadArtifact("GatedLendingMarket")).abi;
  abis.consumer = (await loadArtifact("PorConsumer")).abi;
  abis.token = (await loadArtifact("DemoToken")).abi;
  oracle = await deployContract(walletFor(deployer), client, await loadArtifact("SolvencyOracle"), [ROUND_HISTORY]);
});

afterAll(async () => {
  if (gasLines.length > 0) console.log(`SolvencyOracle gas (test run):\n${gasLines.join("\n")}`);
  await anvil?.stop();
});

describe("EIP-712 digest", () => {
  it("the on-chain digest equals core's attestationDigest and the published vector digests", async () => {
    const vectors = JSON.parse(await readFile("docs/test-vectors/attestation-chain.json", "utf8")) as VectorFile;
    expect(vectors.attestations).toHaveLength(3);
    for (const vector of vectors.attestations) {
      const a = attestationFromJson(vector.attestation);
      const onchain = await read<Hex>(oracle, abis.oracle, "attestationDigest", [a]);
      expect(onchain).toBe(vector.digest);
      expect(onchain).toBe(attestationDigest(a));
    }
    // Extreme values: every uint at its SPEC maximum.
    const max = (bits: number) => (1n << BigInt(bits)) - 1n;
    const extreme: Attestation = {
      ...fieldsFor(issuerKey("extreme"), 1n),
      sequence: max(64),
      previous: keccak256("0x01"),
      observedAt: max(64),
      validUntil: max(64),
      reservesUsd: max(256),
      onchainReservesUsd: max(256),
      offchainReservesUsd: max(256),
      liabilitiesUsd: max(256),
      ratioBps: Number(max(32)),
      flags: max(64),
    };
    expect(await read<Hex>(oracle, abis.oracle, "attestationDigest", [extreme])).toBe(attestationDigest(extreme));
  });

  it("the type hash and domain separator are those of SPEC §5 (no chainId, no verifyingContract)", async () => {
    const typeString =
      "SolvencyAttestation(bytes32 issuer,uint64 sequence,bytes32 previous,uint64 observedAt,uint64 validUntil," +
      "uint256 reservesUsd,uint256 onchainReservesUsd,uint256 offchainReservesUsd,uint256 liabilitiesUsd," +
      "uint32 ratioBps,bytes32 reservesRoot,bytes32 liabilitiesRoot,uint64 flags,bytes32 reportHash)";
    expect(await read(oracle, abis.oracle, "ATTESTATION_TYPEHASH")).toBe(keccak256(toHex(typeString)));
    const domain = keccak256(
      `0x${[
        keccak256(toHex("EIP712Domain(string name,string version)")),
        keccak256(toHex("Solvent")),
        keccak256(toHex("1")),
      ]
        .map((h) => h.slice(2))
        .join("")}`,
    );
    expect(await read(oracle, abis.oracle, "DOMAIN_SEPARATOR")).toBe(domain);
  });
});

describe("the published vector chain", () => {
  it("is accepted in order from its published signer, and latestDigest follows the vector digests", async () => {
    const vectors = JSON.parse(await readFile("docs/test-vectors/attestation-chain.json", "utf8")) as VectorFile;
    expect(privateKeyToAccount(vectors.testPrivateKey).address).toBe(vectors.signer);
    const chain = vectors.attestations.map((v) => ({ ...v, attestation: attestationFromJson(v.attestation) }));
    const issuer = chain[0]!.attestation.issuer;
    await write(deployer, oracle, abis.oracle, "addSigner", [issuer, vectors.signer]);
    // The vectors expire in 2026-01-01; put the chain clock inside their validity.
    await rpc("evm_setTime", [Number(chain[0]!.attestation.observedAt) + 60]);
    await rpc("evm_mine");

    expect(await read(oracle, abis.oracle, "latestDigest", [issuer])).toBe(ZERO_HASH);
    for (const { attestation, digest, signature } of chain) {
      const receipt = await write(relayer, oracle, abis.oracle, "submit", [attestation, signature]);
      const [event] = parseEventLogs({ abi: abis.oracle, logs: receipt.logs, eventName: "AttestationSubmitted" });
      expect(event?.args).toMatchObject({
        issuer,
        sequence: attestation.sequence,
        digest,
        signer: vectors.signer,
        linked: true,
      });
      expect(await read(oracle, abis.oracle, "latestDigest", [issuer])).toBe(digest);
    }
    expect(await read(oracle, abis.oracle, "latest", [issuer])).toEqual(chain[2]!.attestation);

    // Back to the wall clock for the tests that follow.
    await rpc("evm_setTime", [Math.floor(Date.now() / 1000)]);
    await rpc("evm_mine");
  });
});

describe("submit", () => {
  const issuer = issuerKey("submit-issuer");
  let first: Attestation;

  beforeAll(async () => {
    await write(deployer, oracle, abis.oracle, "addSigner", [issuer, signerA.address]);
  });

  it("stores a valid attestation relayed by anyone and emits its digest", async () => {
    expect(await read(oracle, abis.oracle, "latest", [issuer])).toMatchObject({ sequence: 0n, issuer: ZERO_HASH });
    const { a, event, receipt } = await submitNext(issuer, null);
    first = a;
    expect(event).toEqual({
      issuer,
      sequence: 1n,
      digest: attestationDigest(a),
      signer: signerA.address,
      linked: true,
    });
    expect(await read(oracle, abis.oracle, "latest", [issuer])).toEqual(a);
    expect(await read(oracle, abis.oracle, "latestDigest", [issuer])).toBe(attestationDigest(a));
    expect(await read(oracle, abis.oracle, "latestSequence", [issuer])).toBe(1n);
    expect(receipt.from.toLowerCase()).toBe(relayer.address.toLowerCase());
  });

  it("rejects a signer not authorised for the issuer: UnauthorizedSigner(issuer, signer)", async () => {
    const a = nextAttestation(first, fieldsFor(issuer, await chainNow()));
    const decoded = await submitRevert(a, await signAttestation(a, malloryKey));
    expect(decoded).toEqual({ errorName: "UnauthorizedSigner", args: [issuer, malloryKey.address] });
  });

  it("rejects every single-field tampering after signing: the signature recovers someone else", async () => {
    const a = nextAttestation(first, fieldsFor(issuer, await chainNow()));
    const signature = await signAttestation(a, signerA);
    const bump = (v: unknown): unknown =>
      typeof v === "bigint" ? v + 1n : typeof v === "number" ? v + 1 : keccak256(v as Hex);
    for (const field of Object.keys(a) as (keyof Attestation)[]) {
      const tampered = { ...a, [field]: bump(a[field]) };
      const decoded = await submitRevert(tampered, signature);
      expect(decoded.errorName, field).toBe("UnauthorizedSigner");
      expect(decoded.args[0], field).toBe(tampered.issuer);
      expect(decoded.args[1], field).not.toBe(signerA.address);
    }
  });

  it("rejects malformed signatures: high s, v not 27/28, wrong length (InvalidSignature)", async () => {
    const a = nextAttestation(first, fieldsFor(issuer, await chainNow()));
    const signature = await signAttestation(a, signerA);
    const { r, s, yParity } = parseSignature(signature);
    const highS = serializeSignature({
      r,
      s: numberToHex(SECP256K1_N - hexToBigInt(s), { size: 32 }),
      yParity: 1 - yParity!,
    });
    const rawV = `${signature.slice(0, 130)}${yParity === 0 ? "00" : "01"}` as Hex;
    for (const bad of [highS, rawV, signature.slice(0, 130) as Hex, `${signature}00` as Hex]) {
      expect(await submitRevert(a, bad)).toEqual({ errorName: "InvalidSignature", args: [] });
    }
  });

  it("rejects an attestation past its validUntil: Expired(validUntil, now)", async () => {
    const now = await chainNow();
    const a = nextAttestation(first, fieldsFor(issuer, now, { observedAt: first.observedAt, validUntil: now - 1n }));
    const decoded = await submitRevert(a, await signAttestation(a, signerA));
    expect(decoded.errorName).toBe("Expired");
    expect(decoded.args[0]).toBe(now - 1n);
    expect(decoded.args[1] as bigint).toBeGreaterThan(now - 1n);
  });

  it("rejects an equal or older sequence: StaleSequence(stored, submitted)", async () => {
    const replacement = { ...first, reportHash: keccak256(toHex("a different report")) };
    expect(await submitRevert(replacement, await signAttestation(replacement, signerA))).toEqual({
      errorName: "StaleSequence",
      args: [1n, 1n],
    });
    const { a: second } = await submitNext(issuer, first);
    expect(await submitRevert(first, await signAttestation(first, signerA))).toEqual({
      errorName: "StaleSequence",
      args: [2n, 1n],
    });
    first = second;
  });

  it("rejects a next sequence whose previous is not the stored digest: BrokenLink(expected, got)", async () => {
    const wrong = keccak256(toHex("not the stored digest"));
    const a = { ...nextAttestation(first, fieldsFor(issuer, await chainNow())), previous: wrong };
    expect(await submitRevert(a, await signAttestation(a, signerA))).toEqual({
      errorName: "BrokenLink",
      args: [attestationDigest(first), wrong],
    });
  });

  it("accepts a skip ahead without a link check, says so, and links again after it", async () => {
    const claimed = keccak256(toHex("digest of sequence 4, unseen on-chain"));
    const a = { ...nextAttestation(first, fieldsFor(issuer, await chainNow())), sequence: 5n, previous: claimed };
    const { event } = await submit(a);
    expect(event).toMatchObject({ sequence: 5n, linked: false });
    expect(await read(oracle, abis.oracle, "latest", [issuer])).toEqual(a);
    const { a: sixth, event: linked } = await submitNext(issuer, a);
    expect(linked).toMatchObject({ sequence: 6n, linked: true });
    expect(await read(oracle, abis.oracle, "latest", [issuer])).toEqual(sixth);
    first = sixth;
  });

  it("refuses values it cannot store exactly: UsdAmountTooLarge, TimestampTooLarge", async () => {
    const now = await chainNow();
    const big = nextAttestation(first, fieldsFor(issuer, now, { liabilitiesUsd: 1n << 128n }));
    expect(await submitRevert(big, await signAttestation(big, signerA))).toEqual({
      errorName: "UsdAmountTooLarge",
      args: [1n << 128n],
    });
    const far = nextAttestation(first, fieldsFor(issuer, now, { validUntil: 1n << 40n }));
    expect(await submitRevert(far, await signAttestation(far, signerA))).toEqual({
      errorName: "TimestampTooLarge",
      args: [1n << 40n],
    });
  });
});

describe("isHealthy / healthReasons", () => {
  const issuer = issuerKey("health-issuer");
  const reasons = (minRatioBps: number, maxAgeSeconds: bigint, denyFlags: bigint) =>
    read<bigint>(oracle, abis.oracle, "healthReasons", [issuer, minRatioBps, maxAgeSeconds, denyFlags]);
  const healthy = (minRatioBps: number, maxAgeSeconds: bigint, denyFlags: bigint) =>
    read<boolean>(oracle, abis.oracle, "isHealthy", [issuer, minRatioBps, maxAgeSeconds, denyFlags]);

  it("exposes the reason bits as named constants", async () => {
    const named = { NO_ATTESTATION, EXPIRED, TOO_OLD, RATIO_BELOW_MIN, DENIED_FLAG };
    for (const [name, bit] of Object.entries(named)) expect(await read(oracle, abis.oracle, name), name).toBe(bit);
  });

  it("names each failed condition, and is healthy only when none fails", async () => {
    await write(deployer, oracle, abis.oracle, "addSigner", [issuer, signerA.address]);
    expect(await reasons(0, 2n ** 64n - 1n, 0n)).toBe(NO_ATTESTATION);
    expect(await healthy(0, 2n ** 64n - 1n, 0n)).toBe(false);

    const now = await chainNow();
    // ratio 10500, flag bit 3 (UNPROVEN_OWNERSHIP), observed 10 s ago, valid for 1000 s.
    await submitNext(issuer, null, {
      ratioBps: 10_500,
      flags: 1n << 3n,
      observedAt: now - 10n,
      validUntil: now + 1_000n,
    });
    expect(await reasons(10_000, 600n, 1n)).toBe(0n);
    expect(await healthy(10_000, 600n, 1n)).toBe(true);
    expect(await healthy(10_500, 600n, 0b111n)).toBe(true); // ratio == min passes; bits 0-2 not set

    expect(await reasons(10_501, 600n, 1n)).toBe(RATIO_BELOW_MIN);
    expect(await reasons(10_000, 600n, 1n << 3n)).toBe(DENIED_FLAG);
    expect(await reasons(10_501, 600n, 0b1000n)).toBe(RATIO_BELOW_MIN | DENIED_FLAG);
    expect(await healthy(10_000, 600n, 1n << 3n)).toBe(false);

    await advance(700); // observed ~710 s ago, still before validUntil
    expect(await reasons(10_000, 600n, 1n)).toBe(TOO_OLD);
    expect(await healthy(10_000, 600n, 1n)).toBe(false);
    expect(await reasons(10_000, 3_600n, 1n)).toBe(0n);

    await advance(400); // past validUntil (now + 1000)
    expect(await reasons(10_000, 3_600n, 1n)).toBe(EXPIRED);
    expect(await reasons(10_000, 600n, 1n)).toBe(EXPIRED | TOO_OLD);
    expect(await reasons(20_000, 600n, 1n << 3n)).toBe(EXPIRED | TOO_OLD | RATIO_BELOW_MIN | DENIED_FLAG);
    expect(await healthy(0, 2n ** 64n - 1n, 0n)).toBe(false);
  });
});

describe("staleness-safe reads: latestChecked, latestReservesChecked, latestRoundDataChecked", () => {
  const issuer = issuerKey("checked-issuer");
  let feed: Address;
  type Round = readonly [bigint, bigint, bigint, bigint, bigint];

  beforeAll(async () => {
    await write(deployer, oracle, abis.oracle, "addSigner", [issuer, signerA.address]);
    feed = await deployContract(walletFor(deployer), client, await loadArtifact("ReserveFeed"), [
      oracle,
      issuer,
      "Checked reserves / USD",
    ]);
  });

  /** The three checked reads with one maxAge, each as the named error it reverts with. */
  const checkedReverts = (maxAge: bigint) =>
    Promise.all([
      revertOf(alice, oracle, abis.oracle, "latestChecked", [issuer, maxAge]),
      revertOf(alice, oracle, abis.oracle, "latestReservesChecked", [issuer, maxAge]),
      revertOf(alice, feed, abis.feed, "latestRoundDataChecked", [maxAge]),
    ]);

  it("revert NoAttestation(issuer) before the first submit", async () => {
    for (const decoded of await checkedReverts(3_600n))
      expect(decoded).toEqual({ errorName: "NoAttestation", args: [issuer] });
  });

  it("return the stored values while fresh, revert AttestationTooOld past maxAge and AttestationExpired past validUntil", async () => {
    const now = await chainNow();
    const reservesUsd = 7_654_321n * USD + 987_654_321n; // sub-1e-8 digits: the feed answer truncates them
    const { a } = await submitNext(issuer, null, {
      reservesUsd,
      flags: 1n << 3n,
      observedAt: now - 10n,
      validUntil: now + 1_000n,
    });
    const round: Round = [a.sequence, reservesUsd / 10n ** 10n, a.observedAt, a.observedAt, a.sequence];
    expect(await read(oracle, abis.oracle, "latestChecked", [issuer, 600n])).toEqual(a);
    expect(await read(oracle, abis.oracle, "latestReservesChecked", [issuer, 600n])).toEqual([
      reservesUsd,
      a.observedAt,
      a.sequence,
      1n << 3n,
    ]);
    expect(await read(feed, abis.feed, "latestRoundDataChecked", [600n])).toEqual(round);
    expect(await read(feed, abis.feed, "latestRoundData")).toEqual(round);

    await advance(700); // observed ~710 s ago, still before validUntil
    const tooOld = await checkedReverts(600n);
    const later = await chainNow();
    for (const decoded of tooOld) {
      expect(decoded.errorName).toBe("AttestationTooOld");
      expect(decoded.args.slice(0, 3)).toEqual([issuer, a.observedAt, 600n]);
      expect(decoded.args[3] as bigint).toBeGreaterThanOrEqual(later);
      expect((decoded.args[3] as bigint) - a.observedAt).toBeGreaterThan(600n);
    }
    // A looser maxAge still reads it.
    expect(await read(feed, abis.feed, "latestRoundDataChecked", [3_600n])).toEqual(round);

    await advance(400); // past validUntil: no maxAge, however large, reads it any more
    for (const decoded of await checkedReverts(2n ** 64n - 1n)) {
      expect(decoded.errorName).toBe("AttestationExpired");
      expect(decoded.args.slice(0, 2)).toEqual([issuer, a.validUntil]);
      expect(decoded.args[2] as bigint).toBeGreaterThan(a.validUntil);
    }
    // The pitfall the checked reads close: the plain reads hand back the expired numbers without a word.
    expect(await read(feed, abis.feed, "latestRoundData")).toEqual(round);
    expect(await read(oracle, abis.oracle, "latest", [issuer])).toEqual(a);
  });

  it("follow the next submit at once", async () => {
    const previous = await read<Attestation>(oracle, abis.oracle, "latest", [issuer]);
    const { a } = await submitNext(issuer, previous, { reservesUsd: 8_000_000n * USD });
    expect(await read(feed, abis.feed, "latestRoundDataChecked", [600n])).toEqual([
      a.sequence,
      800_000_000_000_000n,
      a.observedAt,
      a.observedAt,
      a.sequence,
    ]);
    expect(await read(oracle, abis.oracle, "latestChecked", [issuer, 600n])).toEqual(a);
  });
});

describe("ReserveFeed", () => {
  const issuer = issuerKey("feed-issuer");
  let feed: Address;
  const round = (roundId: bigint) => read<readonly bigint[]>(feed, abis.feed, "getRoundData", [roundId]);
  const expectedRound = (a: Attestation) => [
    a.sequence,
    a.reservesUsd / 10n ** 10n,
    a.observedAt,
    a.observedAt,
    a.sequence,
  ];

  beforeAll(async () => {
    await write(deployer, oracle, abis.oracle, "addSigner", [issuer, signerA.address]);
    feed = await deployContract(walletFor(deployer), client, await loadArtifact("ReserveFeed"), [
      oracle,
      issuer,
      "Feed Issuer reserves / USD",
    ]);
  });

  it("speaks AggregatorV3Interface and reverts NoDataPresent before the first submit", async () => {
    expect(await read(feed, abis.feed, "decimals")).toBe(8);
    expect(await read(feed, abis.feed, "description")).toBe("Feed Issuer reserves / USD");
    expect(await read(feed, abis.feed, "version")).toBe(1n);
    expect(await revertOf(alice, feed, abis.feed, "latestRoundData", [])).toEqual({
      errorName: "NoDataPresent",
      args: [0n],
    });
  });

  it("follows submits, answers old rounds and reverts for unknown ones", async () => {
    const submitted: Attestation[] = [];
    let previous: Attestation | null = null;
    for (const millions of [3n, 5n, 4n]) {
      // + 0.000000123456789012 USD: the 8-decimal answer truncates the last 10 of 18 decimals.
      const reservesUsd = millions * 1_000_000n * USD + 123_456_789_012n;
      ({ a: previous } = await submitNext(issuer, previous, { reservesUsd }));
      submitted.push(previous);
      expect(await read(feed, abis.feed, "latestRoundData")).toEqual(expectedRound(previous));
    }
    expect(await round(1n)).toEqual(expectedRound(submitted[0]!));
    expect(await round(2n)).toEqual(expectedRound(submitted[1]!));
    expect((await round(1n))[1]).toBe(300_000_000_000_012n); // 3e6 USD + 0.00000012 at 8 decimals, the rest truncated

    for (const unknown of [0n, 4n, 99n, 2n ** 64n]) {
      expect(await revertOf(alice, feed, abis.feed, "getRoundData", [unknown])).toEqual({
        errorName: "NoDataPresent",
        args: [unknown],
      });
    }

    // Skip 4 and 5: they were never submitted, so they stay unknown.
    const sixth = { ...nextAttestation(previous, fieldsFor(issuer, await chainNow())), sequence: 6n };
    await submit(sixth);
    expect(await read(feed, abis.feed, "latestRoundData")).toEqual(expectedRound(sixth));
    for (const unknown of [4n, 5n]) {
      expect((await revertOf(alice, feed, abis.feed, "getRoundData", [unknown])).errorName).toBe("NoDataPresent");
    }
    expect(await round(3n)).toEqual(expectedRound(submitted[2]!));

    // The ring keeps ROUND_HISTORY (4) slots: sequence 7 takes round 3's slot.
    const { a: seventh } = await submitNext(issuer, sixth);
    expect(await round(7n)).toEqual(expectedRound(seventh));
    expect(await round(6n)).toEqual(expectedRound(sixth));
    expect(await revertOf(alice, feed, abis.feed, "getRoundData", [3n])).toEqual({
      errorName: "NoDataPresent",
      args: [3n],
    });
    expect(await revertOf(alice, oracle, abis.oracle, "roundData", [issuer, 3n])).toEqual({
      errorName: "UnknownRound",
      args: [issuer, 3n],
    });
  });
});

describe("GatedLendingMarket", () => {
  const issuer = issuerKey("market-issuer");
  const policy = { minRatioBps: 10_000, maxAgeSeconds: 3_600n, denyFlags: 1n }; // deny UNDERCOLLATERALIZED
  let market: Address;
  let collateral: Address;
  let debtToken: Address;
  let latest: Attestation | null = null;

  const marketCall = (fn: string, amount: bigint) => write(alice, market, abis.market, fn, [amount]);
  const marketRevert = (fn: string, amount: bigint) => revertOf(alice, market, abis.market, fn, [amount]);
  const position = async () => ({
    collateral: await read<bigint>(market, abis.market, "collateralOf", [alice.address]),
    debt: await read<bigint>(market, abis.market, "debtOf", [alice.address]),
  });

  beforeAll(async () => {
    await write(deployer, oracle, abis.oracle, "addSigner", [issuer, signerA.address]);
    const token = await loadArtifact("DemoToken");
    collateral = await deployContract(walletFor(deployer), client, token, ["Attested USD", "aUSD", 18]);
    debtToken = await deployContract(walletFor(deployer), client, token, ["Loan USD", "lUSD", 18]);
    market = await deployContract(walletFor(deployer), client, await loadArtifact("GatedLendingMarket"), [
      {
        oracle,
        issuer,
        collateralToken: collateral,
        borrowToken: debtToken,
        collateralPrice: 10n ** 18n, // 1 aUSD = 1 lUSD
        ltvBps: 5_000n,
        ...policy,
      },
    ]);
    await write(deployer, collateral, abis.token, "mint", [alice.address, 10_000n]);
    await write(deployer, debtToken, abis.token, "mint", [market, 100_000n]);
    await write(deployer, debtToken, abis.token, "mint", [alice.address, 1_000n]); // to pay interest-free repayments
    await write(alice, collateral, abis.token, "approve", [market, 2n ** 256n - 1n]);
    await write(alice, debtToken, abis.token, "approve", [market, 2n ** 256n - 1n]);
  });

  it("is frozen until the issuer has an attestation", async () => {
    expect(await marketRevert("deposit", 100n)).toEqual({ errorName: "CollateralFrozen", args: [NO_ATTESTATION] });
  });

  it("accepts deposits and borrows up to the LTV while healthy", async () => {
    ({ a: latest } = await submitNext(issuer, latest));
    expect(await read(market, abis.market, "frozenReasons")).toBe(0n);
    await marketCall("deposit", 1_000n);
    await marketCall("borrow", 400n);
    expect(await marketRevert("borrow", 101n)).toEqual({
      errorName: "BorrowLimitExceeded",
      args: [alice.address, 501n, 500n],
    });
    expect(await position()).toEqual({ collateral: 1_000n, debt: 400n });
  });

  it("freezes new deposits and borrows when under-collateralised and flagged, but lets positions unwind", async () => {
    ({ a: latest } = await submitNext(issuer, latest, { ratioBps: 9_000, flags: 1n }));
    const frozen = { errorName: "CollateralFrozen", args: [RATIO_BELOW_MIN | DENIED_FLAG] };
    expect(await marketRevert("deposit", 100n)).toEqual(frozen);
    expect(await marketRevert("borrow", 1n)).toEqual(frozen);

    await marketCall("repay", 100n);
    await marketCall("withdraw", 300n); // collateral 700, limit 350, debt 300
    expect(await position()).toEqual({ collateral: 700n, debt: 300n });
    // Withdrawals still respect the LTV; the freeze does not loosen it.
    expect(await marketRevert("withdraw", 101n)).toEqual({
      errorName: "BorrowLimitExceeded",
      args: [alice.address, 300n, 299n],
    });
  });

  it("unfreezes after a healthy submit, and freezes again when the attestation goes stale", async () => {
    ({ a: latest } = await submitNext(issuer, latest));
    await marketCall("deposit", 300n);
    await marketCall("borrow", 200n);
    expect(await position()).toEqual({ collateral: 1_000n, debt: 500n });

    await advance(3_601);
    const reasons = await read<bigint>(market, abis.market, "frozenReasons");
    expect(reasons & TOO_OLD).toBe(TOO_OLD);
    expect(await marketRevert("deposit", 1n)).toEqual({ errorName: "CollateralFrozen", args: [reasons] });
    expect(await marketRevert("borrow", 1n)).toEqual({ errorName: "CollateralFrozen", args: [reasons] });
    await marketCall("repay", 500n);
    await marketCall("withdraw", 1_000n);
    expect(await position()).toEqual({ collateral: 0n, debt: 0n });
    expect(await read(collateral, abis.token, "balanceOf", [alice.address])).toBe(10_000n);
  });
});

describe("PorConsumer against ReserveFeed", () => {
  const issuer = issuerKey("por-issuer");
  const heartbeat = 3_600n;
  let consumer: Address;

  beforeAll(async () => {
    await write(deployer, oracle, abis.oracle, "addSigner", [issuer, signerA.address]);
    const feed = await deployContract(walletFor(deployer), client, await loadArtifact("ReserveFeed"), [
      oracle,
      issuer,
      "PoR Issuer reserves / USD",
    ]);
    consumer = await deployContract(walletFor(deployer), client, await loadArtifact("PorConsumer"), [feed, heartbeat]);
  });

  it("mints while reserves cover the supply, refuses beyond them and after the heartbeat", async () => {
    const { a } = await submitNext(issuer, null, { reservesUsd: 1_000_000n * USD });
    expect(await read(consumer, abis.consumer, "reservesInTokenUnits")).toBe(1_000_000n * USD);
    await write(deployer, consumer, abis.consumer, "mint", [600_000n * USD]);
    await write(deployer, consumer, abis.consumer, "mint", [400_000n * USD]); // exactly at the reserves
    expect(await read(consumer, abis.consumer, "totalSupply")).toBe(1_000_000n * USD);
    expect(await revertOf(deployer, consumer, abis.consumer, "mint", [1n])).toEqual({
      errorName: "InsufficientReserves",
      args: [1_000_000n * USD, 1_000_000n * USD + 1n],
    });

    const { a: b } = await submitNext(issuer, a, { reservesUsd: 1_500_000n * USD });
    await write(deployer, consumer, abis.consumer, "mint", [500_000n * USD]);

    await advance(Number(heartbeat) + 20);
    expect(await revertOf(deployer, consumer, abis.consumer, "mint", [1n])).toEqual({
      errorName: "StaleReserves",
      args: [b.observedAt, heartbeat],
    });
    expect(await read(consumer, abis.consumer, "totalSupply")).toBe(1_500_000n * USD);
  });
});

describe("signer rotation and ownership", () => {
  const issuer = issuerKey("rotation-issuer");

  it("keeps stored attestations, accepts only the new signer, and is owner-only", async () => {
    await write(deployer, oracle, abis.oracle, "addSigner", [issuer, signerA.address]);
    const { a: first } = await submitNext(issuer, null);
    const digest = attestationDigest(first);

    const added = await write(deployer, oracle, abis.oracle, "addSigner", [issuer, signerB.address]);
    expect(parseEventLogs({ abi: abis.oracle, logs: added.logs, eventName: "SignerAdded" })[0]?.args).toEqual({
      issuer,
      signer: signerB.address,
    });
    const removed = await write(deployer, oracle, abis.oracle, "removeSigner", [issuer, signerA.address]);
    expect(parseEventLogs({ abi: abis.oracle, logs: removed.logs, eventName: "SignerRemoved" })[0]?.args).toEqual({
      issuer,
      signer: signerA.address,
    });
    expect(await read(oracle, abis.oracle, "isSigner", [issuer, signerA.address])).toBe(false);

    // The stored attestation is untouched by the rotation.
    expect(await read(oracle, abis.oracle, "latest", [issuer])).toEqual(first);
    expect(await read(oracle, abis.oracle, "latestDigest", [issuer])).toBe(digest);
    expect(await read(oracle, abis.oracle, "isHealthy", [issuer, 10_000, 3_600n, 0n])).toBe(true);

    const second = nextAttestation(first, fieldsFor(issuer, await chainNow()));
    expect(await submitRevert(second, await signAttestation(second, signerA))).toEqual({
      errorName: "UnauthorizedSigner",
      args: [issuer, signerA.address],
    });
    const { event } = await submit(second, signerB);
    expect(event).toMatchObject({ sequence: 2n, signer: signerB.address, linked: true });
    expect((await read<Attestation>(oracle, abis.oracle, "latest", [issuer])).previous).toBe(digest);

    expect(await revertOf(mallory, oracle, abis.oracle, "addSigner", [issuer, mallory.address])).toEqual({
      errorName: "NotOwner",
      args: [mallory.address],
    });
    expect(await revertOf(deployer, oracle, abis.oracle, "addSigner", [issuer, signerB.address])).toEqual({
      errorName: "SignerAlreadyAuthorised",
      args: [issuer, signerB.address],
    });
    expect(await revertOf(deployer, oracle, abis.oracle, "removeSigner", [issuer, signerA.address])).toEqual({
      errorName: "SignerNotAuthorised",
      args: [issuer, signerA.address],
    });

    await write(deployer, oracle, abis.oracle, "transferOwnership", [alice.address]);
    expect(await revertOf(deployer, oracle, abis.oracle, "removeSigner", [issuer, signerB.address])).toEqual({
      errorName: "NotOwner",
      args: [deployer.address],
    });
    await write(alice, oracle, abis.oracle, "transferOwnership", [deployer.address]);
    expect(await read(oracle, abis.oracle, "owner")).toBe(deployer.address);
  });
});

describe("gas", () => {
  const issuer = issuerKey("gas-issuer");

  it("measures submit (fresh and steady-state slots) and isHealthy, and meets the execution-gas targets", async () => {
    await write(deployer, oracle, abis.oracle, "addSigner", [issuer, signerA.address]);
    let previous: Attestation | null = null;
    const figures: { gasUsed: bigint; execution: bigint; floor: bigint }[] = [];
    // ROUND_HISTORY + 2 submits: the last one writes only slots that are already non-zero.
    for (let i = 0n; i < ROUND_HISTORY + 2n; i++) {
      const result: Awaited<ReturnType<typeof submitNext>> = await submitNext(issuer, previous, {
        reservesUsd: (2_000_000n + i) * USD,
      });
      previous = result.a;
      const tx = await client.getTransaction({ hash: result.receipt.transactionHash });
      figures.push({
        gasUsed: result.receipt.gasUsed,
        execution: executionGas(result.receipt.gasUsed, tx.input),
        floor: calldataFloorGas(tx.input),
      });
    }
    const firstSubmit = figures[0]!;
    const steady = figures[figures.length - 1]!;
    recordGas("submit-first", firstSubmit.gasUsed, firstSubmit.execution);
    recordGas("submit-steady", steady.gasUsed, steady.execution);
    // EIP-7623's calldata floor would only bind if execution were tiny.
    expect(steady.floor).toBeLessThan(steady.gasUsed - 21_000n);
    expect(steady.execution).toBeLessThanOrEqual(60_000n);
    expect(firstSubmit.gasUsed).toBeGreaterThan(steady.gasUsed); // zero -> non-zero slots cost 20k each

    const healthData = encodeFunctionData({
      abi: abis.oracle,
      functionName: "isHealthy",
      args: [issuer, 10_000, 3_600n, 0n],
    });
    const estimate = await client.estimateGas({ account: alice, to: oracle, data: healthData });
    recordGas("isHealthy-tx", estimate, executionGas(estimate, healthData));
    expect(executionGas(estimate, healthData)).toBeLessThanOrEqual(5_000n);

    const probeSource = compileGasProbe();
    const probe = await deployContract(walletFor(deployer), client, {
      contractName: "GasProbe",
      sourceName: "GasProbe.sol",
      abi: probeSource.abi,
      bytecode: probeSource.bytecode,
      deployedBytecode: "0x",
    });
    const cold = await probeStaticCallGas(client, { address: probe, abi: probeSource.abi }, oracle, healthData, false);
    const warm = await probeStaticCallGas(client, { address: probe, abi: probeSource.abi }, oracle, healthData, true);
    recordGas("isHealthy-call-cold", cold, cold);
    recordGas("isHealthy-call-warm", warm, warm);
    expect(warm).toBeLessThanOrEqual(5_000n);
    expect(cold - warm).toBe(2_500n); // EIP-2929: cold account access 2,600 vs warm 100
  });
});
