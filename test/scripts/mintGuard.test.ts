/**
 * SolventMintGuard on anvil: a token guarding its own mint (GuardedStablecoin,
 * built on SolventGuardedMint) and the standalone guard holding an existing
 * token's minter role, both fed by attestations signed with core and relayed
 * to a real SolvencyOracle.
 */
import { type Abi, type Address, type Hex, keccak256, parseEventLogs, toHex } from "viem";
import { mnemonicToAccount, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Attestation,
  type AttestationFields,
  issuerKey,
  nextAttestation,
  signAttestation,
} from "../../core/attestation.js";
import { type AnvilInstance, startAnvil } from "../../scripts/lib/anvil.js";
import { deployContract, loadArtifact } from "../../scripts/lib/artifacts.js";
import { mintLimitFromFeed } from "../support/mintLimit.js";
import { fieldsFor, oracleChain, USD } from "../support/oracleChain.js";

const MNEMONIC = "test test test test test test test test test test test junk";
const deployer = mnemonicToAccount(MNEMONIC, { addressIndex: 0 });
const minter = mnemonicToAccount(MNEMONIC, { addressIndex: 1 });
const mallory = mnemonicToAccount(MNEMONIC, { addressIndex: 2 });
const relayer = mnemonicToAccount(MNEMONIC, { addressIndex: 3 });
const holder = mnemonicToAccount(MNEMONIC, { addressIndex: 4 }).address;
const escrow = mnemonicToAccount(MNEMONIC, { addressIndex: 5 }).address;
const signer = privateKeyToAccount(keccak256(toHex("mint guard test signer")));

// docs/flags.md bits
const UNDERCOLLATERALIZED = 1n;
const STALE_SOURCE = 1n << 1n;
const UNPROVEN_OWNERSHIP = 1n << 3n;
const CIRCULAR_RESERVES = 1n << 5n;
const DENY = UNDERCOLLATERALIZED | STALE_SOURCE | CIRCULAR_RESERVES;
const MAX_AGE = 600n;

const anvil: AnvilInstance = await startAnvil();
const { client, walletFor, chainNow, advance, read, write, revertOf } = oracleChain(anvil);
let oracle: Address;
const abis: Record<"oracle" | "feed" | "coin" | "guard" | "token", Abi> = {} as never;

interface Policy {
  oracle: Address;
  issuer: Hex;
  pegUsd18: bigint;
  marginBps: bigint;
  maxAgeSeconds: bigint;
  denyFlags: bigint;
}

const policyFor = (issuerId: string, overrides: Partial<Policy> = {}): Policy => ({
  oracle,
  issuer: issuerKey(issuerId),
  pegUsd18: USD,
  marginBps: 0n,
  maxAgeSeconds: MAX_AGE,
  denyFlags: DENY,
  ...overrides,
});

const deploy = async (name: string, args: readonly unknown[]) =>
  deployContract(walletFor(deployer), client, await loadArtifact(name), args);

/** Signs `fields` (following `previous`) with the issuer's authorised signer and relays it. */
async function attest(
  previous: Attestation | null,
  issuer: Hex,
  overrides: Partial<AttestationFields> = {},
): Promise<Attestation> {
  const a = nextAttestation(previous, fieldsFor(issuer, await chainNow(), overrides));
  await write(relayer, oracle, abis.oracle, "submit", [a, await signAttestation(a, signer)]);
  return a;
}

beforeAll(async () => {
  abis.oracle = (await loadArtifact("SolvencyOracle")).abi;
  abis.feed = (await loadArtifact("ReserveFeed")).abi;
  abis.coin = (await loadArtifact("GuardedStablecoin")).abi;
  abis.guard = (await loadArtifact("SolventMintGuard")).abi;
  abis.token = (await loadArtifact("DemoToken")).abi;
  oracle = await deploy("SolvencyOracle", [16n]);
});

afterAll(async () => {
  await anvil.stop();
});

describe("the policy's parameters", () => {
  const refused = async (name: string, args: readonly unknown[], error: RegExp) =>
    expect(deploy(name, args)).rejects.toThrow(error);
  const coin = (policy: Partial<Policy>, decimals = 6) => [
    "Guarded Dollar",
    "gUSD",
    decimals,
    policyFor("params", policy),
  ];

  it("refuses every value that would disable or nonsensically tighten a check, naming it and its bounds", async () => {
    await refused(
      "GuardedStablecoin",
      coin({ oracle: "0x0000000000000000000000000000000000000000" }),
      /ZeroAddress\(\)/,
    );
    await refused("GuardedStablecoin", coin({}, 31), /InvalidDecimals\(31, 30\)/);
    for (const peg of [0n, 1n, 10n ** 12n - 1n, 10n ** 30n + 1n]) {
      await refused(
        "GuardedStablecoin",
        coin({ pegUsd18: peg }),
        new RegExp(`InvalidPeg\\(${peg}, 1000000000000, 10{30}\\)`),
      );
    }
    for (const margin of [-10_000n, 1_001n]) {
      await refused(
        "GuardedStablecoin",
        coin({ marginBps: margin }),
        new RegExp(`InvalidMargin\\(${margin}, -9999, 1000\\)`),
      );
    }
    // 0 would refuse every mint; more than 7 days is no longer a freshness check.
    for (const maxAge of [0n, 7n * 86_400n + 1n]) {
      await refused(
        "GuardedStablecoin",
        coin({ maxAgeSeconds: maxAge }),
        new RegExp(`InvalidMaxAge\\(${maxAge}, 604800\\)`),
      );
    }
    // An empty deny mask (Secure Mint's "0 disables it") and one that lets UNDERCOLLATERALIZED through.
    for (const mask of [0n, STALE_SOURCE | CIRCULAR_RESERVES]) {
      await refused(
        "GuardedStablecoin",
        coin({ denyFlags: mask }),
        new RegExp(`DenyFlagsMissUndercollateralized\\(${mask}\\)`),
      );
    }
    // The extremes of each range are accepted.
    await deploy("GuardedStablecoin", [
      "Edge",
      "E",
      30,
      policyFor("params", { pegUsd18: 10n ** 12n, marginBps: -9_999n, maxAgeSeconds: 1n, denyFlags: 1n }),
    ]);
    await deploy("GuardedStablecoin", [
      "Edge",
      "E",
      0,
      policyFor("params", { pegUsd18: 10n ** 30n, marginBps: 1_000n, maxAgeSeconds: 604_800n }),
    ]);
  });

  it("the standalone guard also refuses a missing token and a bad list of excluded holders", async () => {
    const token = await deploy("DemoToken", ["Existing", "EX", 18]);
    const policy = policyFor("params");
    await refused("SolventMintGuard", [policy, "0x0000000000000000000000000000000000000000", []], /ZeroAddress\(\)/);
    await refused("SolventMintGuard", [policy, holder, []], new RegExp(`TokenHasNoCode\\("${holder}"\\)`, "i"));
    await refused(
      "SolventMintGuard",
      [policy, token, [escrow, holder, escrow]],
      new RegExp(`InvalidExcludedHolder\\("${escrow}"\\)`, "i"),
    );
    await refused(
      "SolventMintGuard",
      [policy, token, ["0x0000000000000000000000000000000000000000"]],
      /InvalidExcludedHolder/,
    );
    const nine = Array.from({ length: 9 }, (_, i) => `0x${(i + 1).toString(16).padStart(40, "0")}` as Address);
    await refused("SolventMintGuard", [policy, token, nine], /TooManyExcludedHolders\(9, 8\)/);
  });
});

describe("limitFor: the documented formula, exactly", () => {
  it("equals floor(floor(R / 1e10) * 10^(10 + d) * (10000 + m) / (peg * 10000)) over random reserves, pegs and margins", async () => {
    let x = 0x2545f4914f6cdd1dn;
    const next = (bits: bigint) => {
      x = (x * 6364136223846793005n + 1442695040888963407n) % 2n ** 64n;
      return (x * (x + 7n) * 0x9e3779b97f4a7c15n) % 2n ** bits;
    };
    const cases = [
      { decimals: 6, pegUsd18: USD, marginBps: 0n },
      { decimals: 18, pegUsd18: 2_650_500_000_000_000_000_000n, marginBps: 250n }, // a gold token at 2,650.50 USD
      { decimals: 8, pegUsd18: 97_123_456_789_000_000_000_000n, marginBps: -1_234n },
      { decimals: 0, pegUsd18: 10n ** 12n, marginBps: -9_999n },
      { decimals: 30, pegUsd18: 10n ** 30n, marginBps: 1_000n },
    ];
    for (const c of cases) {
      const coin = await deploy("GuardedStablecoin", ["Formula", "F", c.decimals, policyFor("formula", c)]);
      const reserves = [
        0n,
        1n,
        10n ** 10n - 1n,
        10n ** 10n,
        2n ** 128n - 1n,
        ...Array.from({ length: 12 }, () => next(128n)),
      ];
      for (const reservesUsd of reserves) {
        const expected = mintLimitFromFeed(reservesUsd / 10n ** 10n, c);
        expect(await read(coin, abis.coin, "limitFor", [reservesUsd]), `${c.decimals} decimals, ${reservesUsd}`).toBe(
          expected,
        );
      }
    }
  });
});

describe("GuardedStablecoin (SolventGuardedMint)", () => {
  const issuerId = "guarded-stable";
  const issuer = issuerKey(issuerId);
  let coin: Address;
  let feed: Address;
  let latest: Attestation | null = null;
  const mint = (amount: bigint) => write(deployer, coin, abis.coin, "mint", [holder, amount]);
  const mintRevert = (amount: bigint) => revertOf(deployer, coin, abis.coin, "mint", [holder, amount]);
  const supply = () => read<bigint>(coin, abis.coin, "totalSupply");

  beforeAll(async () => {
    await write(deployer, oracle, abis.oracle, "addSigner", [issuer, signer.address]);
    coin = await deploy("GuardedStablecoin", ["Guarded Dollar", "gUSD", 6, policyFor(issuerId)]);
    feed = await deploy("ReserveFeed", [oracle, issuer, "Guarded Dollar reserves / USD"]);
  });

  it("refuses every mint while the issuer has no attestation", async () => {
    expect(await mintRevert(1n)).toEqual({ errorName: "NoAttestation", args: [issuer] });
    expect(await revertOf(deployer, coin, abis.coin, "mintLimit", [])).toEqual({
      errorName: "NoAttestation",
      args: [issuer],
    });
  });

  it("mints exactly up to the limit the feed implies and refuses one base unit more", async () => {
    // 1,000,000.123456789012345678 USD: the limit keeps 8 decimals of it, as the feed does.
    const reservesUsd = 1_000_000n * USD + 123_456_789_012_345_678n;
    latest = await attest(latest, issuer, { reservesUsd });
    const [, answer] = await read<readonly bigint[]>(feed, abis.feed, "latestRoundData");
    const limit = mintLimitFromFeed(answer!, { decimals: 6, pegUsd18: USD, marginBps: 0n });
    expect(limit).toBe(1_000_000_123_456n); // 1,000,000.123456 gUSD
    expect(await read(coin, abis.coin, "mintLimit")).toEqual([limit, 0n, latest.sequence]);

    await mint(limit - 5n);
    expect(await mintRevert(6n)).toEqual({ errorName: "MintExceedsReserves", args: [limit - 5n, 6n, limit] });
    await mint(5n); // exactly at the limit
    expect(await supply()).toBe(limit);
    expect(await mintRevert(1n)).toEqual({ errorName: "MintExceedsReserves", args: [limit, 1n, limit] });
    expect(await revertOf(mallory, coin, abis.coin, "mint", [holder, 0n])).toEqual({
      errorName: "NotMinter",
      args: [mallory.address],
    });
  });

  it("refuses an attestation older than maxAge, then an expired one, and mints again after a fresh one", async () => {
    const now = await chainNow();
    latest = await attest(latest, issuer, {
      reservesUsd: 2_000_000n * USD,
      observedAt: now - 10n,
      validUntil: now + 1_000n,
    });
    await mint(1n);

    await advance(Number(MAX_AGE)); // observed 610+ s ago, validUntil still ahead
    const tooOld = await mintRevert(1n);
    expect(tooOld.errorName).toBe("AttestationTooOld");
    expect(tooOld.args.slice(0, 3)).toEqual([issuer, latest.observedAt, MAX_AGE]);
    expect((tooOld.args[3] as bigint) - latest.observedAt).toBeGreaterThan(MAX_AGE);

    await advance(Number(latest.validUntil - (await chainNow())) + 1); // past validUntil
    const expired = await mintRevert(1n);
    expect(expired.errorName).toBe("AttestationExpired");
    expect(expired.args.slice(0, 2)).toEqual([issuer, latest.validUntil]);
    expect(expired.args[2] as bigint).toBeGreaterThan(latest.validUntil);

    latest = await attest(latest, issuer, { reservesUsd: 2_000_000n * USD });
    await mint(1n);
  });

  it("refuses while the attestation carries a denied flag, naming the flags; other flags do not matter", async () => {
    const flags = CIRCULAR_RESERVES | UNPROVEN_OWNERSHIP;
    latest = await attest(latest, issuer, { reservesUsd: 2_000_000n * USD, flags });
    expect(await mintRevert(1n)).toEqual({ errorName: "AttestationFlagged", args: [issuer, flags, CIRCULAR_RESERVES] });
    expect(await revertOf(deployer, coin, abis.coin, "mintLimit", [])).toEqual({
      errorName: "AttestationFlagged",
      args: [issuer, flags, CIRCULAR_RESERVES],
    });

    latest = await attest(latest, issuer, { reservesUsd: 2_000_000n * USD, flags: UNPROVEN_OWNERSHIP });
    await mint(1n);
  });

  it("refuses every mint once reserves fall under the supply; burning frees room again", async () => {
    const before = await supply();
    latest = await attest(latest, issuer, { reservesUsd: 900_000n * USD });
    const limit = 900_000n * 10n ** 6n;
    expect(await mintRevert(1n)).toEqual({ errorName: "MintExceedsReserves", args: [before, 1n, limit] });
    expect(await mintRevert(0n)).toEqual({ errorName: "MintExceedsReserves", args: [before, 0n, limit] });

    const excess = before - limit;
    // the holder burns its way back under the limit
    await write(mnemonicToAccount(MNEMONIC, { addressIndex: 4 }), coin, abis.coin, "burn", [excess + 10n]);
    await mint(10n);
    expect(await supply()).toBe(limit);
  });
});

describe("SolventMintGuard over an existing token", () => {
  const issuerId = "existing-token";
  const issuer = issuerKey(issuerId);
  const haircut = -500n; // reserves must exceed circulating supply by 5.26 %
  let token: Address;
  let guard: Address;
  let latest: Attestation | null = null;
  const guardMint = (to: Address, amount: bigint, from = minter) =>
    write(from, guard, abis.guard, "mint", [to, amount]);
  const guardRevert = (to: Address, amount: bigint, from = minter) =>
    revertOf(from, guard, abis.guard, "mint", [to, amount]);

  beforeAll(async () => {
    await write(deployer, oracle, abis.oracle, "addSigner", [issuer, signer.address]);
    token = await deploy("DemoToken", ["Existing Dollar", "EXD", 18]);
    // 300 tokens already circulate, 200 more sit in a bridge escrow the issuer does not count.
    await write(deployer, token, abis.token, "mint", [holder, 300n * USD]);
    await write(deployer, token, abis.token, "mint", [escrow, 200n * USD]);
    guard = await deploy("SolventMintGuard", [policyFor(issuerId, { marginBps: haircut }), token, [escrow]]);
    await write(deployer, token, abis.token, "transferOwnership", [guard]); // the token's minter role
    await write(deployer, guard, abis.guard, "addMinter", [minter.address]);
  });

  it("reads the token's decimals and reports its policy", async () => {
    expect(await read(guard, abis.guard, "tokenDecimals")).toBe(18);
    expect(await read(guard, abis.guard, "excludedHolders")).toEqual([escrow]);
    expect(await read(guard, abis.guard, "marginBps")).toBe(haircut);
    expect(await read(guard, abis.guard, "token")).toBe(token);
  });

  it("mints up to the haircut limit over circulating supply (escrow excluded), one wei more is refused", async () => {
    latest = await attest(latest, issuer, { reservesUsd: 1_000n * USD + 7n });
    const [limit, circulating, sequence] = await read<readonly [bigint, bigint, bigint]>(
      guard,
      abis.guard,
      "mintLimit",
    );
    expect(limit).toBe(
      mintLimitFromFeed((1_000n * USD + 7n) / 10n ** 10n, { decimals: 18, pegUsd18: USD, marginBps: haircut }),
    );
    expect(limit).toBe(950n * USD);
    expect(circulating).toBe(300n * USD);
    expect(sequence).toBe(latest.sequence);

    const receipt = await guardMint(holder, limit - circulating);
    const [event] = parseEventLogs({ abi: abis.guard, logs: receipt.logs, eventName: "Minted" });
    expect(event?.args).toEqual({
      minter: minter.address,
      to: holder,
      amount: 650n * USD,
      limit,
      sequence: latest.sequence,
    });
    expect(await read(token, abis.token, "totalSupply")).toBe(1_150n * USD); // 950 circulating + 200 in escrow
    expect(await guardRevert(holder, 1n)).toEqual({ errorName: "MintExceedsReserves", args: [limit, 1n, limit] });
  });

  it("refuses strangers, mints into the excluded escrow, and the token's mint outside the guard", async () => {
    latest = await attest(latest, issuer, { reservesUsd: 2_000n * USD });
    expect(await guardRevert(holder, 1n, mallory)).toEqual({ errorName: "NotMinter", args: [mallory.address] });
    expect(await guardRevert(escrow, 1n)).toEqual({ errorName: "MintToExcludedHolder", args: [escrow] });
    expect(await revertOf(deployer, token, abis.token, "mint", [holder, 1n])).toEqual({
      errorName: "NotOwner",
      args: [deployer.address],
    });
    await guardMint(holder, 1n);
  });

  it("refuses stale and flagged attestations like the base contract", async () => {
    await advance(Number(MAX_AGE) + 1);
    expect((await guardRevert(holder, 1n)).errorName).toBe("AttestationTooOld");
    latest = await attest(latest, issuer, { reservesUsd: 2_000n * USD, flags: UNDERCOLLATERALIZED });
    expect(await guardRevert(holder, 1n)).toEqual({ errorName: "AttestationFlagged", args: [issuer, 1n, 1n] });
  });

  it("minters and ownership are the owner's to manage", async () => {
    expect(await revertOf(mallory, guard, abis.guard, "addMinter", [mallory.address])).toEqual({
      errorName: "NotOwner",
      args: [mallory.address],
    });
    expect(await revertOf(deployer, guard, abis.guard, "addMinter", [minter.address])).toEqual({
      errorName: "MinterAlreadyAuthorised",
      args: [minter.address],
    });
    await write(deployer, guard, abis.guard, "removeMinter", [minter.address]);
    expect(await read(guard, abis.guard, "isMinter", [minter.address])).toBe(false);
    expect(await revertOf(deployer, guard, abis.guard, "removeMinter", [minter.address])).toEqual({
      errorName: "MinterNotAuthorised",
      args: [minter.address],
    });
    await write(deployer, guard, abis.guard, "transferOwnership", [minter.address]);
    expect(await read(guard, abis.guard, "owner")).toBe(minter.address);
  });
});
