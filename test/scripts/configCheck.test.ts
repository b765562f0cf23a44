/**
 * `solvent config check` against a real anvil with the demo world: the dry
 * tick reads through the Worker's own readers, and what a person setting up
 * gets wrong (a wrong chain id, a wrong token, a proof by the wrong key, a
 * dead feed) is a failed check naming the part, with exit 1.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DemoWorld, demoAccounts, demoCustodianStatement, deployDemoWorld } from "../../scripts/demo/world.js";
import { type AnvilInstance, startAnvil } from "../../scripts/lib/anvil.js";
import corpus from "../fixtures/bad-input/config.json" with { type: "json" };
import { runCli } from "../support/runCli.js";

let anvil: AnvilInstance;
let world: DemoWorld;
let dir: string;

beforeAll(async () => {
  anvil = await startAnvil();
  world = await deployDemoWorld(anvil.rpcUrl);
  dir = await mkdtemp(join(tmpdir(), "solvent-config-check-"));
}, 120_000);

afterAll(async () => {
  await anvil?.stop();
});

const cli = runCli;

async function configFile(edit: (config: any) => void = () => {}): Promise<string> {
  const config = structuredClone(world.config) as any;
  edit(config);
  const file = join(dir, `${Math.random().toString(36).slice(2)}.json`);
  await writeFile(file, JSON.stringify(config, null, 2));
  return file;
}

describe("solvent config check (offline)", () => {
  it("accepts the demo configuration", async () => {
    const { code, stdout } = await cli("config", "check", await configFile());
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /: valid; 1 chain, issuers demo-stable \(2 assets, 2 holders, 0 custodians, liabilities: supply of DUSD\), demo \(3 assets/,
    );
  });

  it("lists every problem of the bad-input corpus's worst case at once, each with its path, exit 1", async () => {
    const file = join(dir, "bad.json");
    const doc = structuredClone(corpus.base) as any;
    doc.issuers[0].reserves.holders[0].address = "0x12";
    doc.issuers[0].reserves.holders[0].holdings[0].asset = "NOPE";
    doc.issuers[1].name = "";
    await writeFile(file, JSON.stringify(doc));
    const { code, stdout } = await cli("config", "check", file);
    expect(code).toBe(1);
    expect(stdout.split("\n")).toEqual([
      `${file}: 3 problems`,
      "  issuers[0].reserves.holders[0].address: must be a 0x address (40 hex digits)",
      `  issuers[0].reserves.holders[0].holdings[0].asset: asset "NOPE" is not in this issuer's assets`,
      expect.stringMatching(/^ {2}issuers\[1\]\.name: /),
    ]);
    const json = JSON.parse((await cli("config", "check", file, "--json")).stdout);
    expect(json.valid).toBe(false);
    expect(json.issues).toHaveLength(3);
  });

  it.each([
    ["a missing file", ["config", "check", "/nonexistent/solvent.json"], "cannot read"],
    ["two files", ["config", "check", "a.json", "b.json"], "exactly one configuration FILE"],
    ["--issuer without --rpc", ["config", "check", "a.json", "--issuer", "demo"], "belong to the --rpc dry run"],
    ["no subcommand", ["config"], "unknown subcommand"],
  ])("exits 2 on %s", async (_name, args, message) => {
    const { code, stderr } = await cli(...args);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
  });

  it("exits 2 on a file that is not JSON", async () => {
    const file = join(dir, "broken.json");
    await writeFile(file, '{ "version": 1,');
    const { code, stderr } = await cli("config", "check", file);
    expect(code).toBe(2);
    expect(stderr).toContain("is not JSON");
  });
});

describe("solvent config check --rpc (a dry tick against anvil)", () => {
  it("passes the demo world and prints the would-be report in human units, the cold wallet's flag with its reason", async () => {
    const statement = join(dir, "statement.json");
    await writeFile(statement, JSON.stringify(await demoCustodianStatement(BigInt(Math.floor(Date.now() / 1000)))));
    const { code, stdout, stderr } = await cli(
      "config",
      "check",
      await configFile(),
      "--rpc",
      "--statement",
      statement,
    );
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    expect(stdout).not.toContain("[FAIL]");
    expect(stdout).toContain(`[PASS] chain ${world.chainId}: answers as chain ${world.chainId}; pinned block`);
    expect(stdout).toMatch(
      /\[PASS\] holder "Multisig-style contract wallet" 0x[0-9a-fA-F]{40} on chain \d+: ownership erc1271: /,
    );
    expect(stdout).toContain("[PASS] erc20 USDC of");
    expect(stdout).toContain("balance 1,200,000 USDC");
    expect(stdout).toContain(
      `[PASS] liability token ${world.contracts.dusd} on chain ${world.chainId}: totalSupply 1,200,002 DUSD, 200,000 of it in 1 escrow(s)`,
    );
    expect(stdout).toMatch(/\[PASS\] token 0x[0-9a-fA-F]{40} on chain \d+: symbol WETH matches asset ETH/);
    // the vault's underlying comes from its own holding reading (the kind's reader), not a second asset() call
    expect(stdout).toMatch(
      new RegExp(
        `\\[(PASS|WARN)\\] vault ${world.contracts.vault}'s underlying 0x[0-9a-f]{40} on chain ${world.chainId}: symbol`,
        "i",
      ),
    );
    expect(stdout).toContain("[PASS] statement acme-trust/omnibus-1/USD: accepted, signed by");
    expect(stdout).toContain('[NOTE] holder "Cold wallet (no ownership proof yet)"');
    // demo-stable: supply liabilities give a ratio; demo: ledger liabilities are not read
    expect(stdout).toMatch(
      /issuer demo-stable: dry run[\s\S]*would publish: reserves \$1,028,999\.99 \(on-chain \$1,028,999\.99, off-chain \$0\.00\)\n {2}liabilities \$1,000,002\.00, ratio 102\.89 %\n {2}flags: none \(healthy\)/,
    );
    expect(stdout).toMatch(/issuer demo: dry run[\s\S]*liabilities: from the user ledger, not read by a dry run/);
    expect(stdout).toMatch(
      /would publish: reserves \$2,887,500\.00 \(on-chain \$1,987,500\.00, off-chain \$900,000\.00\)/,
    );
    expect(stdout).toMatch(
      /flag UNPROVEN_OWNERSHIP: 1 item\(s\) worth 315000\.00 USD not counted: ownership unproven for/,
    );
  });

  it("fails each mistake with the part named: wrong chain id, wrong token, a proof by another key, a dead feed", async () => {
    const stranger = privateKeyToAccount(generatePrivateKey());
    const file = await configFile((c) => {
      const stable = c.issuers[0];
      stable.reserves.holders[0].ownership.signature = c.issuers[1].reserves.holders[0].ownership.signature; // signed for another holder
      stable.assets[0].prices[0].feed = stranger.address; // no feed there
      stable.reserves.holders[0].holdings[0].token = world.contracts.weth; // WETH configured as USDC
      c.chains.push({ chainId: 5, rpcUrls: [world.rpcUrl] }); // anvil is not chain 5
      stable.reserves.holders.push({
        chainId: 5,
        address: demoAccounts.deployer.address,
        ownership: { kind: "contract" },
        holdings: [{ type: "native", asset: "ETH" }],
      });
    });
    const { code, stdout } = await cli("config", "check", file, "--rpc", "--issuer", "demo-stable");
    expect(code, stdout).toBe(1);
    expect(stdout).toContain("[FAIL] chain 5: chain 5: the RPC serves chain 31337");
    expect(stdout).toMatch(/\[FAIL\] holder "Treasury" 0x[0-9a-fA-F]{40} on chain 31337: ownership eoa: /);
    expect(stdout).toMatch(/\[FAIL\] price of USDC from chainlink:31337:0x[0-9a-f]{40}: /);
    expect(stdout).toMatch(
      /\[WARN\] erc20 USDC of 0x[0-9a-fA-F]{40} on chain 31337 \(0x[0-9a-fA-F]{40}\): the token has 18 decimals, asset USDC is configured with 6/,
    );
    expect(stdout).toMatch(
      /\[WARN\] token 0x[0-9a-fA-F]{40} on chain 31337: symbol is "WETH", configured as asset USDC/,
    );
    expect(stdout).not.toContain("issuer demo:");
  });

  it("exits 2, before reading anything, when an RPC URL names a secret the environment lacks", async () => {
    const file = await configFile((c) => (c.chains[0].rpcUrls = [`${world.rpcUrl}/\${ANVIL_KEY_FOR_TEST}`]));
    const { code, stderr } = await cli("config", "check", file, "--rpc");
    expect(code).toBe(2);
    expect(stderr).toContain("the RPC URLs need ANVIL_KEY_FOR_TEST: set it in the environment");
  });

  it("holds a secret of only white space to the Worker's rule: not set", async () => {
    const file = await configFile((c) => (c.chains[0].rpcUrls = [`${world.rpcUrl}/\${ANVIL_KEY_FOR_TEST}`]));
    process.env.ANVIL_KEY_FOR_TEST = "   ";
    try {
      const { code, stderr } = await cli("config", "check", file, "--rpc");
      expect(code).toBe(2);
      expect(stderr).toContain("the RPC URLs need ANVIL_KEY_FOR_TEST: set it in the environment");
    } finally {
      delete process.env.ANVIL_KEY_FOR_TEST;
    }
  });

  it("exits 2 when no chain answers", async () => {
    const file = await configFile((c) => (c.chains[0].rpcUrls = ["http://127.0.0.1:9"]));
    const { code, stdout, stderr } = await cli("config", "check", file, "--rpc", "--json");
    expect(code).toBe(2);
    expect(stderr).toContain("no chain answered");
    const json = JSON.parse(stdout);
    expect(json.dryRun[0].checks[0]).toMatchObject({ level: "fail", subject: `chain ${world.chainId}` });
  });
});

describe("solvent ownership sign --kind erc1271 --rpc", () => {
  const keyFile = () => join(dir, "owner.key");
  it("asks the contract wallet, which accepts its owner's signature and not a stranger's", async () => {
    // The demo wallet's owner is a well-known test account (the demo mnemonic).
    await writeFile(keyFile(), `0x${Buffer.from(demoAccounts.walletOwner.getHdKey().privateKey!).toString("hex")}`, {
      mode: 0o600,
    });
    const args = [
      "ownership",
      "sign",
      "--issuer",
      "demo-stable",
      "--chain-id",
      String(world.chainId),
      "--address",
      world.contracts.contractWallet,
      "--kind",
      "erc1271",
      "--rpc",
      world.rpcUrl,
    ];
    const ok = await cli(...args, "--key-file", keyFile());
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain("isValidSignature returned 0x1626ba7e");
    const strangerKey = join(dir, "stranger.key");
    await writeFile(strangerKey, generatePrivateKey(), { mode: 0o600 });
    const bad = await cli(...args, "--key-file", strangerKey);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/INVALID: isValidSignature (returned|reverted)/);
  });
});
