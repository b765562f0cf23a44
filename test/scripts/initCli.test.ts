/**
 * `solvent init`: with flags (as a script runs it), with answers on stdin (as
 * a person does), and with --rpc against the demo world on a real anvil, where
 * the scaffold plus one `solvent ownership sign` gives a configuration whose
 * dry tick passes.
 */
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../core/config/parseConfig.js";
import { init } from "../../scripts/cli/init.js";
import { main } from "../../scripts/cli/main.js";
import { type DemoWorld, demoAccounts, deployDemoWorld } from "../../scripts/demo/world.js";
import { type AnvilInstance, startAnvil } from "../../scripts/lib/anvil.js";
import { runCli } from "../support/runCli.js";

let dir: string;
let anvil: AnvilInstance;
let world: DemoWorld;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "solvent-init-"));
  anvil = await startAnvil();
  world = await deployDemoWorld(anvil.rpcUrl);
}, 120_000);

afterAll(async () => {
  await anvil?.stop();
});

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) },
    stdout: () => out.join("\n"),
    stderr: () => err.join("\n"),
  };
}

const cli = runCli;

const HOT = demoAccounts.hotWallet.address;

describe("solvent init with flags", () => {
  it("writes a valid configuration of exactly the schema, with notes in $comment, and checks it", async () => {
    const out = join(dir, "flags.json");
    const { code, stdout, stderr } = await cli(
      "init",
      "--yes",
      "--out",
      out,
      "--issuer",
      "acme",
      "--name",
      "Acme Exchange",
      "--chain",
      "1=https://rpc-a.example/${MAINNET_KEY}",
      "--chain",
      "1=https://rpc-b.example",
      "--asset",
      "USD:6:peg",
      "--asset",
      "ETH:18",
      "--price",
      "ETH=chainlink:1:0x5f4eC3Df9cbd43714FE2740f5E3616155c5b8419:3600",
      "--price",
      "ETH=http:https://prices.example/eth?x=1#data.usd",
      "--ledger",
      "USD,ETH",
      "--holder",
      `1:${HOT}:Hot wallet`,
      "--holding",
      `${HOT}=native:ETH`,
      "--custodian",
      `acme-trust:${demoAccounts.custodianSigner.address}:omnibus-1/USD:Acme Trust`,
      "--policy",
      "ttlSeconds=600",
      "--policy",
      "priceDivergenceBps=200",
    );
    expect(code, stderr).toBe(0);
    expect(stdout).toContain(
      `${out}: valid; 1 chain, issuers acme (2 assets, 1 holder, 1 custodian, liabilities: a ledger of USD, ETH); secrets the RPC URLs need: MAINNET_KEY`,
    );
    expect(stdout).toContain(`solvent ownership sign --issuer acme --chain-id 1 --address ${HOT}`);
    const json = JSON.parse(await readFile(out, "utf8"));
    expect(json.$comment.length).toBeGreaterThan(3);
    const { $comment: _notes, ...rest } = json;
    expect(rest).toEqual({
      version: 1,
      chains: [{ chainId: 1, rpcUrls: ["https://rpc-a.example/${MAINNET_KEY}", "https://rpc-b.example"] }],
      issuers: [
        {
          id: "acme",
          name: "Acme Exchange",
          assets: [
            { id: "USD", decimals: 6, pegCurrency: true, prices: [{ kind: "fixed", priceUsd: "1000000000000000000" }] },
            {
              id: "ETH",
              decimals: 18,
              prices: [
                {
                  kind: "chainlink",
                  chainId: 1,
                  feed: "0x5f4eC3Df9cbd43714FE2740f5E3616155c5b8419",
                  maxAgeSeconds: 3600,
                },
                { kind: "http", url: "https://prices.example/eth?x=1", path: "data.usd" },
              ],
            },
          ],
          liabilities: { ledger: { assets: ["USD", "ETH"] } },
          reserves: {
            holders: [
              {
                chainId: 1,
                address: HOT,
                name: "Hot wallet",
                ownership: { kind: "none" },
                holdings: [{ type: "native", asset: "ETH" }],
              },
            ],
            custodians: [
              {
                id: "acme-trust",
                name: "Acme Trust",
                signers: [demoAccounts.custodianSigner.address],
                accounts: [{ account: "omnibus-1", asset: "USD" }],
              },
            ],
          },
          policy: { ttlSeconds: 600, priceDivergenceBps: 200 },
        },
      ],
    });
    // What the Worker loads: the same parser.
    expect(parseConfig(json).issuers[0]!.policy.statementMaxAgeSeconds).toBe(86400);
  });

  it("names every missing required flag at once, exit 2, and writes nothing", async () => {
    const out = join(dir, "never.json");
    const { code, stderr } = await cli("init", "--yes", "--out", out, "--name", "x");
    expect(code).toBe(2);
    expect(stderr).toContain("missing --issuer, --asset, --supply or --ledger");
    await expect(readFile(out)).rejects.toThrow(/ENOENT/);
  });

  it("exits 1 with the check's problems when the parts do not fit together (the file is kept to fix)", async () => {
    const out = join(dir, "misfit.json");
    const { code, stdout } = await cli(
      "init",
      "--yes",
      "--out",
      out,
      "--issuer",
      "acme",
      "--name",
      "A",
      "--asset",
      "ETH:18",
      "--ledger",
      "USD",
      "--holder",
      `5:${HOT}`,
    );
    expect(code).toBe(1);
    expect(stdout).toContain("issuers[0].assets[0].prices: every asset needs at least one price source");
    expect(stdout).toContain(`issuers[0].liabilities.ledger.assets[0]: asset "USD" is not in this issuer's assets`);
    expect(stdout).toContain("issuers[0].reserves.holders[0].chainId: chain 5 is not in chains");
    expect(stdout).toContain("issuers[0].reserves.holders[0].holdings: ");
  });

  it.each([
    ["an existing file without --force", ["--out", "$EXISTING"], "exists; choose another --out or pass --force"],
    ["a malformed --asset", ["--asset", "USDC"], '--asset "USDC": expected ID:DECIMALS'],
    ["a malformed --price", ["--price", "USD=oracle:1"], '--price "USD=oracle:1": expected'],
    ["a --holding for no holder", ["--holding", `${HOT}=native:USD`], "add the holder first with --holder"],
    ["an unknown policy key", ["--policy", "ttl=5"], "KEY one of ttlSeconds"],
    ["a positional", ["acme"], "every part is a --flag"],
  ])("exits 2 on %s", async (_name, extra, message) => {
    const existing = join(dir, "existing.json");
    await writeFile(existing, "{}");
    const args = [
      "init",
      "--yes",
      "--issuer",
      "acme",
      "--name",
      "A",
      "--asset",
      "USD:6:peg",
      "--ledger",
      "USD",
      "--out",
      join(dir, `${Math.random()}.json`),
    ];
    const { code, stderr } = await cli(...args, ...extra.map((a) => (a === "$EXISTING" ? existing : a)));
    expect(code).toBe(2);
    expect(stderr).toContain(message);
  });
});

describe("solvent init on a terminal", () => {
  it("asks for each part, with defaults, asks again after a bad answer, and writes what a person answered", async () => {
    const out = join(dir, "asked.json");
    const input = new PassThrough();
    const prompts = new PassThrough();
    let asked = "";
    prompts.on("data", (d) => (asked += String(d)));
    const answers = [
      "", // issuer id: default my-issuer
      "My Exchange",
      `${world.chainId}=${world.rpcUrl}`,
      "", // chains
      "USD:6:peg",
      "ETH",
      "ETH:18",
      "", // assets (one bad answer, asked again)
      "", // USD price: default fixed:1
      `chainlink:${world.chainId}:${world.contracts.ethFeed}`,
      "", // liabilities: default ledger
      "", // ledger assets: default USD,ETH
      `${world.chainId}:${HOT}:Hot wallet`,
      "", // holders
      "native:ETH",
      "", // its holdings
      "", // custodians: none
      "", // ttl: default 3600
      out,
    ];
    input.end(`${answers.join("\n")}\n`);
    const c = capture();
    const code = await init([], c.io, { input, prompts, interactive: true });
    expect(code, c.stdout() + c.stderr()).toBe(0);
    expect(asked).toContain("Issuer id (a-z, 0-9, '.', '_', '-') [my-issuer]: ");
    expect(asked).toContain('--asset "ETH": expected ID:DECIMALS');
    expect(asked).toContain(
      "Price source for USD: fixed:USD | chainlink:CHAINID:FEED | uniswapV3:CHAINID:POOL:TOKEN:QUOTE | http:URL#path [fixed:1]: ",
    );
    const config = parseConfig(JSON.parse(await readFile(out, "utf8")));
    const issuer = config.issuers[0]!;
    expect(issuer.id).toBe("my-issuer");
    expect(issuer.assets.map((a) => [a.id, a.prices[0]!.kind])).toEqual([
      ["USD", "fixed"],
      ["ETH", "chainlink"],
    ]);
    expect(issuer.liabilities.ledger?.assets).toEqual(["USD", "ETH"]);
    expect(issuer.reserves.holders[0]!.holdings).toEqual([{ type: "native", asset: "ETH" }]);
  });

  it("says which question stdin left unanswered, exit 2", async () => {
    const input = new PassThrough();
    input.end("acme\n");
    const c = capture();
    await expect(init([], c.io, { input, prompts: new PassThrough(), interactive: true })).rejects.toThrow(
      /no answer to "Issuer name, as shown on the page" \(stdin ended\)/,
    );
    expect(await main(["init", "--yes"], c.io)).toBe(2);
  });
});

describe("solvent init --rpc, then ownership sign, against the demo world", () => {
  it("scaffolds the demo exchange's hot wallet; the dry tick fails on the missing proof, passes with it", async () => {
    const out = join(dir, "demo-like.json");
    const flags = [
      "--issuer",
      "demo",
      "--name",
      "Demo Exchange",
      "--chain",
      `${world.chainId}=${world.rpcUrl}`,
      "--asset",
      "USD:6:peg",
      "--asset",
      "ETH:18",
      "--price",
      `ETH=chainlink:${world.chainId}:${world.contracts.ethFeed}`,
      "--ledger",
      "USD,ETH",
      "--holder",
      `${world.chainId}:${HOT}:Hot wallet`,
      "--holding",
      `${HOT}=native:ETH`,
    ];
    const first = await cli("init", "--yes", "--rpc", "--out", out, ...flags);
    expect(first.code, first.stdout).toBe(0); // ownership "none" is a note, not a failure
    expect(first.stdout).toMatch(/\[NOTE\] holder "Hot wallet" .*ownership "none"/);
    expect(first.stdout).toMatch(/flag UNPROVEN_OWNERSHIP: /);

    const keyFile = join(dir, "hot.key");
    await writeFile(keyFile, `0x${Buffer.from(demoAccounts.hotWallet.getHdKey().privateKey!).toString("hex")}`, {
      mode: 0o600,
    });
    const signed = await cli(
      "ownership",
      "sign",
      "--issuer",
      "demo",
      "--chain-id",
      String(world.chainId),
      "--address",
      HOT,
      "--key-file",
      keyFile,
      "--json",
    );
    expect(signed.code, signed.stderr).toBe(0);
    const config = JSON.parse(await readFile(out, "utf8"));
    config.issuers[0].reserves.holders[0].ownership = JSON.parse(signed.stdout).ownership;
    await writeFile(out, JSON.stringify(config));
    const second = await cli("config", "check", out, "--rpc");
    expect(second.code, second.stdout).toBe(0);
    expect(second.stdout).toMatch(/\[PASS\] holder "Hot wallet" .*ownership eoa: /);
    expect(second.stdout).toMatch(
      /would publish: reserves \$787,500\.00 \(on-chain \$787,500\.00, off-chain \$0\.00\)/,
    );
    expect(second.stdout).not.toContain("UNPROVEN_OWNERSHIP");
  });
});
