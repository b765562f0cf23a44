/**
 * Look-through end to end: the demo exchange (`demo`) holds DUSD, the token
 * of `demo-stable`, another issuer of this deployment. The tick reads
 * demo-stable's latest attestation from D1 and values the DUSD at its market
 * price × min(1, demo-stable's ratio). Real anvil, real D1, real signatures.
 */
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { attestationFromJson } from "../../core/attestation.js";
import { parseConfig } from "../../core/config/parseConfig.js";
import type { SolventConfig } from "../../core/config/schema.js";
import { signOwnership } from "../../core/ownershipProof.js";
import { checkReport } from "../../core/reportCheck.js";
import { demoLedgerCsv, demoUsers } from "../../scripts/demo/ledger.js";
import { demoAccounts } from "../../scripts/demo/world.js";
import type { Env } from "../../worker/env.js";
import { publishTick } from "../../worker/publisher/publishTick.js";

const testEnv = env as unknown as Env & { TEST_WORLD: string; ADMIN_TOKEN: string };
const world = JSON.parse(testEnv.TEST_WORLD) as { chainId: number; contracts: Record<string, string>; config: unknown };
const config = parseConfig(world.config);
const ORIGIN = "http://solvent.test";
const E18 = 10n ** 18n;
const E6 = 10n ** 6n;
const now = () => BigInt(Math.floor(Date.now() / 1000));

interface Signed {
  attestation: Record<string, string>;
  digest: string;
  reportUrl: string;
}

async function latest(issuer: string): Promise<Signed> {
  const res = await exports.default.fetch(`${ORIGIN}/v1/issuers/${issuer}/attestations/latest`);
  expect(res.status).toBe(200);
  return (await res.json()) as Signed;
}

/** The latest report of `issuer`, after checking it against its signed attestation. */
async function checkedReport(issuer: string): Promise<any> {
  const signed = await latest(issuer);
  const res = await exports.default.fetch(signed.reportUrl.replace(/^https?:\/\/[^/]+/, ORIGIN));
  const bytes = new Uint8Array(await res.arrayBuffer());
  expect(checkReport(bytes, attestationFromJson(signed.attestation))).toEqual([]);
  return JSON.parse(new TextDecoder().decode(bytes));
}

/** demo, holding the 333,334 DUSD of one DUSD holder (priced by a 1.00 feed) as a look-through of demo-stable. */
async function demoHoldingDusd(base: SolventConfig): Promise<SolventConfig> {
  const copy = structuredClone(base);
  const demo = copy.issuers.find((i) => i.id === "demo")!;
  const holder = demoAccounts.dusdHolders[0]!;
  demo.assets.push({
    id: "DUSD",
    decimals: 6,
    pegCurrency: false,
    prices: [{ kind: "chainlink", chainId: world.chainId, feed: world.contracts.usdcFeed!, maxAgeSeconds: 3600 }],
  });
  demo.reserves.holders.push({
    chainId: world.chainId,
    address: holder.address,
    name: "DUSD treasury",
    ownership: {
      kind: "eoa",
      signature: await signOwnership(holder, { issuerId: "demo", address: holder.address, chainId: world.chainId }),
    },
    holdings: [{ type: "erc20", asset: "DUSD", token: world.contracts.dusd!, lookThrough: { issuer: "demo-stable" } }],
  });
  return parseConfig(JSON.parse(JSON.stringify(copy)));
}

const dusdItem = (report: any) =>
  report.reserves.items.find((i: any) => i.token.toLowerCase() === world.contracts.dusd!.toLowerCase());

describe("look-through of another issuer of this deployment", () => {
  it("counts nothing before the other issuer has an attestation (status 3, STALE_SOURCE)", async () => {
    const upload = await exports.default.fetch(`${ORIGIN}/v1/admin/issuers/demo/ledger`, {
      method: "PUT",
      headers: { authorization: `Bearer ${testEnv.ADMIN_TOKEN}`, "content-type": "text/csv" },
      body: demoLedgerCsv(demoUsers(20)),
    });
    expect(upload.status).toBe(201);
    const withDusd = await demoHoldingDusd(config);
    expect(await publishTick({ env: testEnv, config: withDusd, issuerId: "demo", now: now() })).toMatchObject({
      published: true,
    });
    const report = await checkedReport("demo");
    expect(dusdItem(report)).toMatchObject({
      status: 3,
      valueUsd: "0",
      details: {
        exclusion: "attestation-invalid",
        reason: expect.stringMatching(/demo-stable has no attestation yet/),
      },
    });
    expect(report.flags.map((f: any) => f.name)).toContain("STALE_SOURCE");
  });

  it("values DUSD at its full price while demo-stable is over-collateralised, naming the attestation relied on", async () => {
    expect(await publishTick({ env: testEnv, config, issuerId: "demo-stable", now: now() })).toMatchObject({
      published: true,
    });
    const stable = await latest("demo-stable");
    expect(Number(stable.attestation.ratioBps)).toBeGreaterThan(10000);

    expect(
      await publishTick({ env: testEnv, config: await demoHoldingDusd(config), issuerId: "demo", now: now() }),
    ).toMatchObject({ published: true });
    const item = dusdItem(await checkedReport("demo"));
    expect(item).toMatchObject({
      status: 0,
      amount: (333_334n * E6).toString(),
      priceUsd: E18.toString(),
      valueUsd: (333_334n * E18).toString(),
    });
    expect(item.details.lookThrough).toEqual({
      issuer: "demo-stable",
      url: null,
      attestation: {
        sequence: stable.attestation.sequence,
        observedAt: stable.attestation.observedAt,
        validUntil: stable.attestation.validUntil,
        ratioBps: stable.attestation.ratioBps,
        digest: stable.digest,
        signer: expect.stringMatching(/^0x[0-9a-f]{40}$/),
      },
      marketPriceUsd: E18.toString(),
      haircutBps: "10000",
      circular: null,
    });
  });

  it("cuts DUSD to demo-stable's ratio once demo-stable is under-collateralised", async () => {
    // demo-stable without its treasury: only the contract wallet's WETH backs 1,000,002 DUSD
    const thin = structuredClone(config);
    thin.issuers.find((i) => i.id === "demo-stable")!.reserves.holders.splice(0, 1);
    expect(await publishTick({ env: testEnv, config: thin, issuerId: "demo-stable", now: now() })).toMatchObject({
      published: true,
    });
    const stable = await latest("demo-stable");
    const ratio = BigInt(stable.attestation.ratioBps!);
    expect(ratio).toBeLessThan(10000n);
    expect(ratio).toBeGreaterThan(0n);

    expect(
      await publishTick({ env: testEnv, config: await demoHoldingDusd(config), issuerId: "demo", now: now() }),
    ).toMatchObject({ published: true });
    const item = dusdItem(await checkedReport("demo"));
    const priceUsd = (E18 * ratio) / 10000n;
    expect(item).toMatchObject({
      status: 0,
      priceUsd: priceUsd.toString(),
      valueUsd: ((333_334n * E6 * priceUsd) / E6).toString(),
    });
    expect(item.details.lookThrough).toMatchObject({
      haircutBps: ratio.toString(),
      attestation: { sequence: stable.attestation.sequence, digest: stable.digest },
    });
  });
});
