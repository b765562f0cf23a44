/**
 * `solvent statement sign` and `solvent ownership sign`: what they print is
 * checked with the core's own verifiers (the ones the publisher runs), and a
 * signature made elsewhere from the printed typed data / message is taken back.
 */
import { chmod, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { recoverMessageAddress, recoverTypedDataAddress } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { beforeAll, describe, expect, it } from "vitest";
import { parseCustodianStatement, recoverCustodianStatementSigner } from "../../core/custodianStatement.js";
import { ownershipMessage, verifyOwnershipSignature } from "../../core/ownershipProof.js";
import corpus from "../fixtures/bad-input/config.json" with { type: "json" };
import { runCli } from "../support/runCli.js";

const key = generatePrivateKey();
const account = privateKeyToAccount(key);
const stranger = privateKeyToAccount(generatePrivateKey());
let dir: string;
let keyFile: string;
let configFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "solvent-signing-"));
  keyFile = join(dir, "custodian.key");
  await writeFile(keyFile, `${key}\n`);
  await chmod(keyFile, 0o600);
  // The bad-input corpus's valid base, with this test's key registered for acme-trust.
  const config = structuredClone(corpus.base) as { issuers: { reserves: { custodians?: { signers: string[] }[] } }[] };
  config.issuers[0]!.reserves.custodians![0]!.signers = [account.address];
  configFile = join(dir, "config.json");
  await writeFile(configFile, JSON.stringify(config));
});

const cli = runCli;

const STATEMENT = [
  "statement",
  "sign",
  "--issuer",
  "alpha",
  "--custodian",
  "acme-trust",
  "--account",
  "omnibus-1",
  "--asset",
  "USD",
];

describe("solvent statement sign", () => {
  it("converts the decimal amount exactly and signs a statement the core accepts, by the registered key", async () => {
    const out = join(dir, "statement.json");
    const { code, stdout, stderr } = await cli(
      ...STATEMENT,
      "--amount",
      "1250000.000001",
      "--config",
      configFile,
      "--key-file",
      keyFile,
      "--as-of",
      "1796288400",
      "--nonce",
      "42",
      "--out",
      out,
      "--url",
      "http://127.0.0.1:9",
    );
    expect(code, stderr).toBe(0);
    const body = JSON.parse(await readFile(out, "utf8"));
    expect(Object.keys(body).sort()).toEqual(["signature", "statement"]);
    const statement = parseCustodianStatement(body.statement);
    expect(statement).toEqual({
      issuer: "alpha",
      custodian: "acme-trust",
      account: "omnibus-1",
      asset: "USD",
      amount: 1_250_000_000_001n,
      asOf: 1_796_288_400n,
      nonce: 42n,
    });
    expect(await recoverCustodianStatementSigner(statement, body.signature)).toBe(account.address);
    expect(stdout).toContain("1,250,000.000001 USD (1250000000001 base units, 6 decimals)");
    expect(stdout).toContain(`curl -X POST http://127.0.0.1:9/v1/admin/issuers/alpha/statements`);
    expect(stdout).toContain(`-d @${out}`);
  });

  it("defaults asOf to now and the nonce to the time in milliseconds, so successive statements grow", async () => {
    const before = BigInt(Date.now());
    const a = JSON.parse(
      (await cli(...STATEMENT, "--amount", "1", "--decimals", "6", "--key-env", "SIGNING_TEST_KEY", "--json").then(
        (r) => r.stdout,
      )) || "null",
    );
    expect(a).toBeNull(); // the variable is not set: nothing printed on stdout
    process.env.SIGNING_TEST_KEY = key;
    try {
      const first = JSON.parse(
        (await cli(...STATEMENT, "--amount", "1", "--decimals", "6", "--key-env", "SIGNING_TEST_KEY", "--json")).stdout,
      );
      await new Promise((r) => setTimeout(r, 5));
      const second = JSON.parse(
        (await cli(...STATEMENT, "--amount", "1", "--decimals", "6", "--key-env", "SIGNING_TEST_KEY", "--json")).stdout,
      );
      expect(BigInt(first.body.statement.nonce)).toBeGreaterThanOrEqual(before);
      expect(BigInt(second.body.statement.nonce)).toBeGreaterThan(BigInt(first.body.statement.nonce));
      expect(Math.abs(Number(first.body.statement.asOf) - Date.now() / 1000)).toBeLessThan(60);
      expect(first.amount).toEqual({ decimal: "1", baseUnits: "1000000", decimals: 6, asset: "USD" });
      expect(first.signer).toBe(account.address);
    } finally {
      delete process.env.SIGNING_TEST_KEY;
    }
  });

  it("takes back a signature made from the printed typed data (a hardware wallet's path)", async () => {
    const args = [...STATEMENT, "--amount", "0.5", "--config", configFile, "--as-of", "1796288400", "--nonce", "7"];
    const printed = await cli(...args, "--print-typed-data");
    expect(printed.code).toBe(0);
    expect(printed.stderr).toContain("--as-of 1796288400 --nonce 7 --signature");
    const typed = JSON.parse(printed.stdout);
    expect(typed.domain).toEqual({ name: "Solvent Custodian Statement", version: "1" });
    // Signed outside the CLI, from the JSON alone (as eth_signTypedData_v4 would).
    const { EIP712Domain: _domain, ...types } = typed.types;
    const signature = await account.signTypedData({
      domain: typed.domain,
      types,
      primaryType: typed.primaryType,
      message: typed.message,
    });
    expect(
      await recoverTypedDataAddress({
        domain: typed.domain,
        types,
        primaryType: typed.primaryType,
        message: typed.message,
        signature,
      }),
    ).toBe(account.address);
    const back = await cli(...args, "--signature", signature, "--json");
    expect(back.code, back.stderr).toBe(0);
    const direct = await cli(...args, "--key-file", keyFile, "--json");
    expect(JSON.parse(back.stdout).body).toEqual(JSON.parse(direct.stdout).body);
  });

  it("refuses a key that is not a registered signer (exit 1), as the publisher would", async () => {
    const other = join(dir, "stranger.key");
    await writeFile(other, generatePrivateKey(), { mode: 0o600 });
    const { code, stdout, stderr } = await cli(
      ...STATEMENT,
      "--amount",
      "1",
      "--config",
      configFile,
      "--key-file",
      other,
    );
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toMatch(
      /is not a registered signer of custodian "acme-trust" \(0x[0-9a-fA-F]{40}\); the publisher would refuse it \(UNKNOWN_SIGNER\)/,
    );
  });

  // "$CONFIG" is the test's configuration file.
  it.each([
    [
      "more decimal places than the asset has",
      ["--amount", "1.0000001", "--decimals", "6"],
      '"1.0000001" has 7 fractional digits; the asset has 6 decimals',
    ],
    ["an amount in exponent form", ["--amount", "1e6", "--decimals", "6"], '"1e6" uses exponent form'],
    ["a negative amount", ["--amount=-1", "--decimals", "6"], '"-1" is negative'],
    [
      "a key on the command line",
      ["--amount", "1", "--decimals", "6", "--key", "0x01"],
      "ends up in the shell history",
    ],
    ["neither --config nor --decimals", ["--amount", "1"], "give --config FILE"],
    [
      "an account the custodian does not have",
      ["--amount", "1", "--config", "$CONFIG", "--account", "x"],
      'has no account "x" for asset "USD"',
    ],
    ["an unknown issuer", ["--amount", "1", "--config", "$CONFIG", "--issuer", "nope"], 'issuer "nope" is not in'],
    ["a zoneless --as-of", ["--amount", "1", "--decimals", "6", "--as-of", "2026-12-01T00:00:00"], "with a zone"],
    [
      "a stale --as-of",
      ["--amount", "1", "--config", "$CONFIG", "--as-of", "1000000000"],
      "so the publisher would refuse it as stale",
    ],
    [
      "a --nonce beyond uint64",
      ["--amount", "1", "--decimals", "6", "--nonce", "18446744073709551616"],
      "beyond uint64",
    ],
  ])("refuses %s with exit 2", async (_name, extra, message) => {
    const { code, stdout, stderr } = await cli(
      ...STATEMENT,
      "--key-file",
      keyFile,
      ...extra.map((a) => (a === "$CONFIG" ? configFile : a)),
    );
    expect(code, stderr).toBe(2);
    expect(stderr).toContain(message);
    expect(stdout).toBe("");
  });

  it("names every missing flag at once", async () => {
    const { code, stderr } = await cli("statement", "sign", "--issuer", "alpha");
    expect(code).toBe(2);
    expect(stderr).toContain("missing --custodian, --account, --asset, --amount");
  });
});

const OWNER = ["ownership", "sign", "--issuer", "alpha", "--chain-id", "1"];

describe("solvent ownership sign", () => {
  it("signs the exact SPEC §8 message with the holder's key and prints the configuration entry", async () => {
    const { code, stdout, stderr } = await cli(...OWNER, "--address", account.address, "--key-file", keyFile);
    expect(code, stderr).toBe(0);
    const entry = JSON.parse(/^"ownership": (.*)$/m.exec(stdout)![1]!);
    expect(entry.kind).toBe("eoa");
    expect(
      await verifyOwnershipSignature({ issuerId: "alpha", address: account.address, chainId: 1 }, entry.signature),
    ).toBe(true);
  });

  it("prints the message for a hardware wallet and checks the signature it gives back", async () => {
    const printed = await cli(...OWNER, "--address", account.address.toLowerCase(), "--print-message", "--json");
    expect(printed.code).toBe(0);
    const { message, hash } = JSON.parse(printed.stdout);
    expect(message).toBe(`Solvent reserve ownership\nissuer: alpha\naddress: ${account.address}\nchainId: 1`);
    expect(message).toBe(ownershipMessage({ issuerId: "alpha", address: account.address, chainId: 1 }));
    expect(hash).toMatch(/^0x[0-9a-f]{64}$/);
    const signature = await account.signMessage({ message });
    const back = await cli(...OWNER, "--address", account.address, "--signature", signature, "--json");
    expect(back.code).toBe(0);
    expect(JSON.parse(back.stdout)).toMatchObject({ valid: true, ownership: { kind: "eoa", signature } });
    expect(await recoverMessageAddress({ message, signature })).toBe(account.address);
  });

  it("exits 1 when the signature is not the holder's, saying whose key signed", async () => {
    const { code, stdout, stderr } = await cli(...OWNER, "--address", stranger.address, "--key-file", keyFile);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toContain(
      `INVALID: the signature does not recover to ${stranger.address} (the key is ${account.address})`,
    );
  });

  it.each([
    [
      "a bad checksum",
      ["--address", account.address.replace(/[a-f]/, (c) => c.toUpperCase()), "--print-message"],
      "wrong EIP-55 checksum",
    ],
    [
      "chain id 0",
      ["--address", account.address, "--print-message", "--chain-id", "0"],
      "--chain-id must be a positive integer",
    ],
    ["an unknown kind", ["--address", account.address, "--print-message", "--kind", "contract"], "need no signature"],
    ["two ways to sign", ["--address", account.address, "--print-message", "--key-file", "x"], "give one of"],
    ["a short signature", ["--address", account.address, "--signature", "0x1234"], "65-byte"],
    [
      "--rpc for an eoa",
      ["--address", account.address, "--signature", `0x${"11".repeat(65)}`, "--rpc", "http://127.0.0.1:9"],
      "--rpc asks a contract wallet",
    ],
  ])("refuses %s with exit 2", async (_name, extra, message) => {
    const { code, stderr } = await cli(...OWNER, ...extra);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
  });
});
