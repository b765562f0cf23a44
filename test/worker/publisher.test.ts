/**
 * The live publisher end to end, against the real parts: anvil with the demo
 * world (test/worker/globalSetup.ts), the Worker in workerd, D1, R2 and the
 * issuer's Durable Object. Every published attestation is re-checked with
 * test/support/independentVerifier.ts, which shares no code with core/.
 */
import { createScheduledController } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { attestationFromJson } from "../../core/attestation.js";
import { parseConfig } from "../../core/config/parseConfig.js";
import type { SolventConfig } from "../../core/config/schema.js";
import { checkInclusion } from "../../core/inclusionCheck.js";
import { keyValidAt, parseKeysDocument } from "../../core/keysDocument.js";
import { signOwnership } from "../../core/ownershipProof.js";
import { checkReport } from "../../core/reportCheck.js";
import { demoLedgerCsv, demoUsers } from "../../scripts/demo/ledger.js";
import { demoCustodianStatement } from "../../scripts/demo/world.js";
import type { Env } from "../../worker/env.js";
import worker from "../../worker/index.js";
import { publishTick } from "../../worker/publisher/publishTick.js";
import * as spec from "../support/independentVerifier.js";

const testEnv = env as unknown as Env & { TEST_WORLD: string; TEST_RPC_PROXY: string; ADMIN_TOKEN: string };
const world = JSON.parse(testEnv.TEST_WORLD) as { rpcUrl: string; contracts: Record<string, string>; config: unknown };
const proxy = JSON.parse(testEnv.TEST_RPC_PROXY) as { url: string; controlUrl: string };
const config = parseConfig(world.config);
const ORIGIN = "http://solvent.test";

const get = (path: string) => exports.default.fetch(`${ORIGIN}${path}`);
const admin = (method: string, path: string, body?: string, type = "application/json") =>
  exports.default.fetch(`${ORIGIN}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${testEnv.ADMIN_TOKEN}`,
      ...(body === undefined ? {} : { "content-type": type }),
    },
    body,
  });

interface Signed {
  attestation: Record<string, string>;
  signature: `0x${string}`;
  digest: `0x${string}`;
  signer: string;
  reportUrl: string;
}

async function latest(issuer: string): Promise<Signed> {
  const res = await get(`/v1/issuers/${issuer}/attestations/latest`);
  expect(res.status).toBe(200);
  return (await res.json()) as Signed;
}

async function latestSequence(issuer: string): Promise<number> {
  const res = await get(`/v1/issuers/${issuer}/attestations/latest`);
  return res.status === 404 ? 0 : Number(((await res.json()) as Signed).attestation.sequence);
}

/** Everything a third party checks, with code that is not ours. */
async function verifyIndependently(signed: Signed): Promise<any> {
  const { attestation, signature, digest } = signed;
  expect(spec.attestationDigest(attestation)).toBe(digest);
  const signer = await spec.recoverDigestSigner(digest, signature);
  expect(signer).toBe(signed.signer.toLowerCase());
  const keys = parseKeysDocument(await (await get("/.well-known/solvent/keys.json")).json());
  expect(keyValidAt(keys, signer, BigInt(attestation.observedAt!))).toBe(true);

  const reportRes = await exports.default.fetch(signed.reportUrl.replace(/^https?:\/\/[^/]+/, ORIGIN));
  expect(reportRes.status).toBe(200);
  const bytes = new Uint8Array(await reportRes.arrayBuffer());
  expect(spec.hex(spec.keccak(bytes))).toBe(attestation.reportHash);
  const report = JSON.parse(new TextDecoder().decode(bytes));
  expect(spec.standardTreeRoot(report.reserves.items.map(spec.reserveLeafHash))).toBe(attestation.reservesRoot);
  const counted = (status: number) =>
    report.reserves.items
      .filter((i: any) => i.status === status)
      .reduce((s: bigint, i: any) => s + BigInt(i.valueUsd), 0n);
  expect(counted(0).toString()).toBe(attestation.onchainReservesUsd);
  expect(counted(2).toString()).toBe(attestation.offchainReservesUsd);
  expect((counted(0) + counted(2)).toString()).toBe(attestation.reservesUsd);
  const liabilities = BigInt(attestation.liabilitiesUsd!);
  const ratio = liabilities === 0n ? 4294967295n : (BigInt(attestation.reservesUsd!) * 10000n) / liabilities;
  expect((ratio > 4294967295n ? 4294967295n : ratio).toString()).toBe(attestation.ratioBps);
  // and our own re-computation of the report agrees too
  expect(checkReport(bytes, attestationFromJson(attestation))).toEqual([]);
  return report;
}

function withIssuer(
  base: SolventConfig,
  issuerId: string,
  edit: (issuer: SolventConfig["issuers"][number]) => void,
): SolventConfig {
  const copy = structuredClone(base);
  edit(copy.issuers.find((i) => i.id === issuerId)!);
  return copy;
}

const now = () => BigInt(Math.floor(Date.now() / 1000));

describe("publishing demo-stable (pegged token, on-chain supply)", () => {
  it("publishes an attestation that an independent verifier accepts", async () => {
    const res = await admin("POST", "/v1/admin/issuers/demo-stable/publish");
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ published: true, sequence: "1" });

    const signed = await latest("demo-stable");
    expect(signed.attestation.sequence).toBe("1");
    expect(signed.attestation.previous).toBe(`0x${"00".repeat(32)}`);
    expect(signed.attestation.liabilitiesRoot).toBe(`0x${"00".repeat(32)}`);
    expect(signed.signer.toLowerCase()).toBe(
      privateKeyToAccount(testEnv.SIGNING_KEY as `0x${string}`).address.toLowerCase(),
    );
    const report = await verifyIndependently(signed);

    // 1,000,002 DUSD circulate; the 200,000 locked in the bridge escrow are not counted twice.
    expect(signed.attestation.liabilitiesUsd).toBe((1_000_002n * 10n ** 18n).toString());
    // Treasury USDC, vault shares (valued through convertToAssets) and WETH in the ERC-1271 wallet, all proven.
    expect(report.reserves.items.map((i: any) => i.status)).toEqual([0, 0, 0]);
    const vaultItem = report.reserves.items[1];
    expect(vaultItem.token.toLowerCase()).toBe(world.contracts.usdc!.toLowerCase());
    expect(BigInt(vaultItem.amount)).toBeGreaterThan(300_000n * 10n ** 6n);
    expect(Number(signed.attestation.ratioBps)).toBeGreaterThan(10000);
    expect(signed.attestation.flags).toBe("0");
  });

  it("links each attestation to the previous one, and overlapping publishes never fork the chain", async () => {
    const before = await latestSequence("demo-stable");
    const outcomes = await Promise.all([1, 2, 3].map(() => admin("POST", "/v1/admin/issuers/demo-stable/publish")));
    const sequences = (await Promise.all(outcomes.map((r) => r.json() as Promise<{ sequence: string }>))).map((o) =>
      Number(o.sequence),
    );
    expect(sequences.sort()).toEqual([before + 1, before + 2, before + 3]);

    const page = (await (await get("/v1/issuers/demo-stable/attestations?limit=100")).json()) as {
      attestations: Signed[];
    };
    const chain = [...page.attestations].reverse();
    expect(chain.map((a) => Number(a.attestation.sequence))).toEqual(chain.map((_, i) => i + 1));
    for (let i = 1; i < chain.length; i++) expect(chain[i]!.attestation.previous).toBe(chain[i - 1]!.digest);
  });

  it("gives a holder with a wrong ownership signature status 1 and raises UNPROVEN_OWNERSHIP", async () => {
    const stranger = privateKeyToAccount("0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a");
    const forged = withIssuer(config, "demo-stable", (issuer) => {
      const treasury = issuer.reserves.holders[0]!;
      treasury.ownership = { kind: "eoa", signature: "0x" };
    });
    const treasury = forged.issuers.find((i) => i.id === "demo-stable")!.reserves.holders[0]!;
    treasury.ownership = {
      kind: "eoa",
      signature: await signOwnership(stranger, {
        issuerId: "demo-stable",
        address: treasury.address,
        chainId: treasury.chainId,
      }),
    };
    const outcome = await publishTick({ env: testEnv, config: forged, issuerId: "demo-stable", now: now() });
    expect(outcome).toMatchObject({ published: true });
    const signed = await latest("demo-stable");
    const report = await verifyIndependently(signed);
    expect(report.reserves.items.map((i: any) => i.status)).toEqual([1, 1, 0]);
    expect(report.flags.map((f: any) => f.name)).toContain("UNPROVEN_OWNERSHIP");
    expect(BigInt(signed.attestation.flags!) & (1n << 3n)).toBe(1n << 3n);
    // only the contract wallet's WETH still counts
    expect(signed.attestation.reservesUsd).toBe(report.reserves.items[2].valueUsd);
  });

  it("publishes nothing when the RPC dies mid-tick, and recovers on the next healthy tick", async () => {
    const viaProxy: SolventConfig = {
      ...structuredClone(config),
      chains: config.chains.map((c) => ({ ...c, rpcUrls: [proxy.url] })),
    };
    const before = await latestSequence("demo-stable");
    // Let the block be pinned, then drop every connection.
    await fetch(proxy.controlUrl, { method: "POST", body: JSON.stringify({ failAfter: 2 }) });
    try {
      const outcome = await publishTick({ env: testEnv, config: viaProxy, issuerId: "demo-stable", now: now() });
      expect(outcome.published).toBe(false);
      expect(await latestSequence("demo-stable")).toBe(before);
    } finally {
      await fetch(proxy.controlUrl, { method: "POST", body: JSON.stringify({ failAfter: null }) });
    }
    const healthy = await publishTick({ env: testEnv, config: viaProxy, issuerId: "demo-stable", now: now() });
    expect(healthy).toMatchObject({ published: true, sequence: String(before + 1) });
    await verifyIndependently(await latest("demo-stable"));
  });
});

describe("publishing demo (user ledger, custodian statements)", () => {
  const users = demoUsers(60);

  it("refuses custodian statements with an unknown key, a stale date or a replayed nonce", async () => {
    const post = (body: unknown) => admin("POST", "/v1/admin/issuers/demo/statements", JSON.stringify(body));
    const fresh = await demoCustodianStatement(now());
    expect((await post(fresh)).status).toBe(201);

    const replay = await post(fresh);
    expect(replay.status).toBe(409);
    expect(await replay.json()).toMatchObject({ error: { code: "STATEMENT_REJECTED", reason: "REPLAYED_NONCE" } });

    const stale = await demoCustodianStatement(now() - 7n * 86400n);
    const staleRes = await post({ ...stale, statement: { ...stale.statement, nonce: (now() + 10n).toString() } });
    expect(staleRes.status).toBe(422);

    const { signCustodianStatement, parseCustodianStatement } = await import("../../core/custodianStatement.js");
    const impostor = privateKeyToAccount("0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6");
    const statement = parseCustodianStatement({ ...fresh.statement, nonce: (now() + 20n).toString() });
    const unknown = await post({
      statement: fresh.statement && { ...fresh.statement, nonce: statement.nonce.toString() },
      signature: await signCustodianStatement(statement, impostor),
    });
    expect(unknown.status).toBe(422);
    expect(await unknown.json()).toMatchObject({ error: { reason: "UNKNOWN_SIGNER" } });
  });

  it("publishes nothing before a ledger exists, then attests the uploaded ledger's root", async () => {
    const early = await publishTick({ env: testEnv, config, issuerId: "demo", now: now() });
    expect(early.published).toBe(false);

    const upload = await admin("PUT", "/v1/admin/issuers/demo/ledger", demoLedgerCsv(users), "text/csv");
    expect(upload.status).toBe(201);
    const ledger = (await upload.json()) as { root: string; rootSums: string[] };

    // an independent build of the same rows gives the same root sums (leaf order is the publisher's random permutation)
    const usd = users.reduce((s, u) => s + BigInt(u.balances.USD), 0n);
    const eth = users.reduce((s, u) => s + BigInt(u.balances.ETH), 0n);
    expect(ledger.rootSums).toEqual([usd.toString(), eth.toString()]);

    expect((await admin("POST", "/v1/admin/issuers/demo/publish")).status).toBe(201);
    const signed = await latest("demo");
    expect(signed.attestation.liabilitiesRoot).toBe(ledger.root);
    const report = await verifyIndependently(signed);
    const statuses = report.reserves.items.map((i: any) => i.status);
    expect(statuses).toContain(2); // Acme Trust's statement counts
    expect(statuses).toContain(1); // the cold wallet has no ownership proof
    expect(report.flags.map((f: any) => f.name)).toContain("UNPROVEN_OWNERSHIP");

    // users verify their own inclusion from what the publisher serves
    const keys = await (await get("/.well-known/solvent/keys.json")).json();
    for (const user of [users[0]!, users[17]!, users[59]!]) {
      const commitment = spec.hex(spec.commitment(spec.unhex(user.salt), user.userId));
      const proofRes = await get(`/v1/issuers/demo/proofs/${signed.attestation.sequence}/${commitment}`);
      expect(proofRes.status).toBe(200);
      const proof = await proofRes.json();
      expect(spec.checkProof(proof, spec.unhex(user.salt), user.userId)).toBeNull();
      const result = await checkInclusion({
        proof,
        userId: user.userId,
        salt: user.salt,
        attested: { attestation: signed.attestation, signature: signed.signature, keys },
      });
      expect(result.valid).toBe(true);
    }
    const nobody = spec.hex(spec.commitment(spec.unhex(users[0]!.salt), "nobody"));
    expect((await get(`/v1/issuers/demo/proofs/${signed.attestation.sequence}/${nobody}`)).status).toBe(404);
  });

  it("the cron tick publishes every issuer through its publisher object", async () => {
    const before = { stable: await latestSequence("demo-stable"), demo: await latestSequence("demo") };
    await worker.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime: Date.now() }), testEnv);
    expect(await latestSequence("demo-stable")).toBe(before.stable + 1);
    expect(await latestSequence("demo")).toBe(before.demo + 1);
  });
});
