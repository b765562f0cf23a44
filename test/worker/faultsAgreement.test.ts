/**
 * Fault injection, sources that lie (issue #8 item 1): two RPCs of one chain
 * disagreeing (chain `agreement: "all"`), a custodian key rotated, a ledger
 * build failing. `demo` (user ledger + custodian statement) keeps publishing
 * when its chain fails — the chain's items become status 3 with STALE_SOURCE —
 * while demo-stable, whose liabilities are on that chain, must refuse.
 */
import { createPublicClient, erc20Abi, http, pad, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type CustodianStatement,
  custodianStatementDigest,
  signCustodianStatement,
} from "../../core/custodianStatement.js";
import { demoLedgerCsv, demoUsers } from "../../scripts/demo/ledger.js";
import { demoAccounts } from "../../scripts/demo/world.js";
import { gatherReadings } from "../../worker/sources/gatherReadings.js";
import { insertStatement, latestStatements } from "../../worker/storage/statementStore.js";
import {
  admin,
  config,
  essentials,
  expectNothingStored,
  healthyTick,
  latestReport,
  leakedUrls,
  now,
  prepareDemoIssuer,
  priceServer,
  type Report,
  rpcChannel,
  storeState,
  testEnv,
  tick,
  verifyHistory,
  withChain,
  withHttpPrice,
  withIssuer,
  world,
} from "./faultsSupport.js";

const client = createPublicClient({ transport: http(world.rpcUrl) });
const word = (value: bigint) => pad(toHex(value)).slice(2);

/** A lie about one balance: its 32-byte word in every eth_call answer of the channel is replaced by a larger one. */
async function lieAbout(holder: `0x${string}`, token: `0x${string}`) {
  const balance = await client.readContract({
    address: token,
    abi: erc20Abi,
    functionName: "balanceOf",
    args: [holder],
  });
  return { find: word(balance), replace: word(balance + 1_000_000n * 10n ** 6n) };
}

// ETH is also priced off-chain here, so `demo`'s ETH liabilities stay valued when its chain fails.
const demoCfg = withHttpPrice(config, "demo", "ETH");
const ethPrice = priceServer(() => JSON.stringify({ usd: "3150" }));
const demoTick = (cfg: typeof config) => tick(cfg, "demo", { fetchFn: ethPrice });
const demoHealthy = (cfg = demoCfg) => healthyTick("demo", cfg, undefined, ethPrice);

const onchain = (report: Report) => report.reserves.items.filter((i: { chainId: string }) => i.chainId !== "0");
const offchain = (report: Report) => report.reserves.items.filter((i: { chainId: string }) => i.chainId === "0");

let firstLedger: { root: string; ledgerId: string };

beforeAll(async () => {
  firstLedger = await prepareDemoIssuer();
});

describe('faults: two RPCs of one chain (agreement: "all")', () => {
  it("the lie works: one lying RPC alone would be believed (why agreement exists)", async () => {
    const liar = await rpcChannel("agree-liar-alone");
    await liar.control({ lie: await lieAbout(demoAccounts.hotWallet.address, world.contracts.usdc!) });
    const issuer = config.issuers.find((i) => i.id === "demo")!;
    const read = (rpcUrls: string[]) =>
      gatherReadings({
        issuer,
        chains: withChain(config, { rpcUrls }).chains,
        secrets: {},
        statements: [],
        ledger: null,
        now: now(),
        fetchFn: fetch,
      });
    const honest = await read([world.rpcUrl]);
    const lied = await read([liar.url]);
    const usdc = (r: typeof honest) => r.holdings.find((h) => h.asset === "USDC")!.result;
    expect(usdc(honest).ok && usdc(lied).ok).toBe(true);
    expect(usdc(lied)).not.toEqual(usdc(honest));
  });

  it("faults: RPCs disagreeing on a balance → STALE_SOURCE (the chain's items status 3, reason names RPC 0 and RPC 1, no URL)", async () => {
    const baseline = await demoHealthy();
    const honest = await rpcChannel("agree-honest");
    const liar = await rpcChannel("agree-liar");
    await liar.control({ lie: await lieAbout(demoAccounts.hotWallet.address, world.contracts.usdc!) });
    const cfg = withChain(demoCfg, { rpcUrls: [honest.url, liar.url], agreement: "all" });
    const outcome = await demoTick(cfg);
    expect(outcome).toMatchObject({ published: true });
    expect(outcome.published && outcome.flags).toContain("STALE_SOURCE");
    const { report, attestation } = await latestReport("demo");
    await verifyHistory("demo");
    // every on-chain item excluded, none counted at the lying value; the custodian's statement still counts as before
    expect(onchain(report).map((i: { status: number }) => i.status)).toEqual(onchain(baseline).map(() => 3));
    expect(onchain(report).every((i: { valueUsd: string }) => i.valueUsd === "0")).toBe(true);
    expect(essentials({ ...report, reserves: { items: offchain(report) } }).items).toEqual(
      essentials({ ...baseline, reserves: { items: offchain(baseline) } }).items,
    );
    expect(attestation.onchainReservesUsd).toBe("0");
    const reasons = JSON.stringify(report);
    expect(reasons).toMatch(/RPC 0 and RPC 1 returned different data for balanceOf/);
    expect(leakedUrls(report)).toEqual([]);
    await demoHealthy();
  });

  it("faults: RPCs disagreeing on a balance, liabilities on that chain → demo-stable publishes nothing", async () => {
    await healthyTick("demo-stable");
    const honest = await rpcChannel("agree-stable-honest");
    const liar = await rpcChannel("agree-stable-liar");
    await liar.control({ lie: await lieAbout(demoAccounts.stableTreasury.address, world.contracts.usdc!) });
    const before = await storeState("demo-stable");
    const outcome = await tick(withChain(config, { rpcUrls: [honest.url, liar.url], agreement: "all" }), "demo-stable");
    expect(outcome.published).toBe(false);
    expect(!outcome.published && outcome.reason).toMatch(/RPC 0 and RPC 1/);
    await expectNothingStored("demo-stable", before);
    await healthyTick("demo-stable");
  });

  it("faults: RPCs disagreeing on the code behind contract ownership → demo-stable publishes nothing; agreeing RPCs prove it", async () => {
    // The demo's contract wallet declared as owned by being a contract (eth_getCode, outside the aggregate3 rounds).
    const byCode = withIssuer(config, "demo-stable", (issuer) => {
      const wallet = issuer.reserves.holders.find(
        (h) => h.address.toLowerCase() === world.contracts.contractWallet!.toLowerCase(),
      )!;
      wallet.ownership = { kind: "contract" };
    });
    const honest = await rpcChannel("agree-code-honest");
    const agreeing = await rpcChannel("agree-code-agreeing");
    const proven = await healthyTick(
      "demo-stable",
      withChain(byCode, { rpcUrls: [honest.url, agreeing.url], agreement: "all" }),
    );
    expect(JSON.stringify(proven)).toMatch(/contract code at address \(declared\)/);
    const liar = await rpcChannel("agree-code-liar");
    await liar.control({ hideCode: true });
    const before = await storeState("demo-stable");
    const outcome = await tick(withChain(byCode, { rpcUrls: [honest.url, liar.url], agreement: "all" }), "demo-stable");
    expect(outcome.published).toBe(false);
    expect(!outcome.published && outcome.reason).toContain(
      `RPC 0 and RPC 1 returned different code at ${world.contracts.contractWallet}`,
    );
    await expectNothingStored("demo-stable", before);
    await healthyTick("demo-stable");
  });

  it('faults: two honest RPCs under agreement "all" → the same attestation as a healthy tick', async () => {
    const a = await rpcChannel("agree-a");
    const b = await rpcChannel("agree-b");
    const agreed = await healthyTick("demo-stable", withChain(config, { rpcUrls: [a.url, b.url], agreement: "all" }));
    expect((await b.control({})).forwarded).toBeGreaterThan(0);
    expect(essentials(agreed)).toEqual(essentials(await healthyTick("demo-stable")));
  });

  it('faults: one of two RPCs down under agreement "all" → no fallback: the chain\'s items status 3, STALE_SOURCE', async () => {
    const a = await rpcChannel("agree-up");
    const b = await rpcChannel("agree-down");
    await b.control({ failAfter: 0 });
    const outcome = await demoTick(withChain(demoCfg, { rpcUrls: [a.url, b.url], agreement: "all" }));
    expect(outcome).toMatchObject({ published: true });
    expect(outcome.published && outcome.flags).toContain("STALE_SOURCE");
    const { report } = await latestReport("demo");
    expect(onchain(report).every((i: { status: number }) => i.status === 3)).toBe(true);
    expect(JSON.stringify(report)).toMatch(/RPC 1/);
    expect(leakedUrls(report)).toEqual([]);
    await verifyHistory("demo");
    await demoHealthy();
  });

  it("faults: RPCs disagreeing on the pinned block's hash → STALE_SOURCE", async () => {
    const a = await rpcChannel("agree-block-a");
    const b = await rpcChannel("agree-block-b");
    await b.control({ fakeReorgAfter: 0 });
    const outcome = await demoTick(withChain(demoCfg, { rpcUrls: [a.url, b.url], agreement: "all" }));
    expect(outcome).toMatchObject({ published: true });
    expect(outcome.published && outcome.flags).toContain("STALE_SOURCE");
    const { report } = await latestReport("demo");
    expect(onchain(report).every((i: { status: number }) => i.status === 3)).toBe(true);
    expect(JSON.stringify(report)).toMatch(/RPC 1 does not serve block/);
    await verifyHistory("demo");
    await demoHealthy();
  });
});

describe("faults: custodian key rotated", () => {
  it("faults: custodian key rotated → the old key's statement stops counting, the new key's counts", async () => {
    const baseline = await healthyTick("demo");
    const custodianItem = (r: Report) => offchain(r)[0] as { status: number; valueUsd: string };
    expect(custodianItem(baseline).status).toBe(2);

    const newKey = privateKeyToAccount("0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba");
    const rotated = withIssuer(config, "demo", (issuer) => {
      issuer.reserves.custodians[0]!.signers = [newKey.address];
    });
    const outcome = await tick(rotated, "demo");
    expect(outcome.published && outcome.flags).toContain("STALE_SOURCE");
    const stale = (await latestReport("demo")).report;
    expect(custodianItem(stale).status).toBe(3);
    expect(custodianItem(stale).valueUsd).toBe("0");

    // the custodian signs with its new key; stored as the admin route would after checking it against the rotated config
    const previous = (await latestStatements(testEnv.DB, "demo"))[0]!.statement;
    const statement: CustodianStatement = { ...previous, asOf: now(), nonce: previous.nonce + 1n };
    const signature = await signCustodianStatement(statement, newKey);
    await insertStatement(testEnv.DB, {
      statement,
      signature,
      signer: newKey.address.toLowerCase() as `0x${string}`,
      digest: custodianStatementDigest(statement),
      receivedAt: Number(now()),
    });
    const counted = await healthyTick("demo", rotated);
    expect(custodianItem(counted).status).toBe(2);
    expect(custodianItem(counted).valueUsd).toBe(custodianItem(baseline).valueUsd);
    // and under the old configuration the new key's statement does not count
    await tick(config, "demo");
    expect(custodianItem((await latestReport("demo")).report).status).toBe(3);
    await verifyHistory("demo");
  });
});

describe("faults: ledger build failing", () => {
  it("faults: a ledger upload that fails keeps the previous complete ledger in use (never half a tree)", async () => {
    await healthyTick("demo");
    const good = (await latestReport("demo")).row;
    expect(good.ledger_id).toBe(firstLedger.ledgerId);
    // a ledger whose rows do not add up to a tree: refused, marked failed
    const broken = `${demoLedgerCsv(demoUsers(5))}\nnot,a,valid,row,at,all\n`;
    const upload = await admin("PUT", "/v1/admin/issuers/demo/ledger", broken, "text/csv");
    expect(upload.status).toBeGreaterThanOrEqual(400);
    expect(upload.status).toBeLessThan(500);
    const before = await storeState("demo");
    const report = await healthyTick("demo");
    const { attestation, row } = await latestReport("demo");
    expect(row.ledger_id).toBe(firstLedger.ledgerId);
    expect(attestation.liabilitiesRoot).toBe(firstLedger.root);
    expect(report.liabilities).toEqual(
      before.rows.length ? (await verifyHistory("demo")).at(-2).liabilities : report.liabilities,
    );
  });
});

describe("faults: configuration of the defences", () => {
  it('refuses agreement "all" with one RPC, a zero maxPriceUsd, a band upside down, and a fixed price outside its band', async () => {
    const { ConfigError, parseConfig } = await import("../../core/config/parseConfig.js");
    const raw = structuredClone(world.config) as {
      chains: Record<string, unknown>[];
      issuers: { assets: Record<string, unknown>[] }[];
    };
    raw.chains[0]!.agreement = "all";
    raw.issuers[0]!.assets[1]!.maxPriceUsd = "0";
    raw.issuers[0]!.assets[0]!.minPriceUsd = "2";
    raw.issuers[0]!.assets[0]!.maxPriceUsd = "1";
    raw.issuers[1]!.assets[0]!.maxPriceUsd = "1";
    let error: unknown;
    try {
      parseConfig(raw);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const paths = (error as InstanceType<typeof ConfigError>).issues.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        "chains[0].agreement",
        "issuers[0].assets[1].maxPriceUsd",
        "issuers[0].assets[0].minPriceUsd",
        "issuers[1].assets[0].prices[0].priceUsd",
      ]),
    );
  });
});
