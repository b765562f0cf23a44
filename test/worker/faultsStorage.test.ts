/**
 * Fault injection, storage, keys and clocks (issue #8 item 1): R2 and D1
 * failing mid-publish (the real bindings wrapped so a chosen call throws),
 * overlapping and retried ticks, a missing or invalid SIGNING_KEY, and a
 * publisher clock behind or ahead of the chain.
 */
import { describe, expect, it } from "vitest";
import { custodianStatementDigest, parseCustodianStatement } from "../../core/custodianStatement.js";
import { demoAccounts, demoCustodianStatement } from "../../scripts/demo/world.js";
import type { Env } from "../../worker/env.js";
import { insertStatement } from "../../worker/storage/statementStore.js";
import {
  admin,
  config,
  expectNothingStored,
  faultyBucket,
  faultyDb,
  healthyTick,
  latestReport,
  now,
  prepareDemoIssuer,
  storeState,
  testEnv,
  tick,
  verifyHistory,
} from "./faultsSupport.js";

const ISSUER = "demo-stable";
const envWith = (parts: Partial<Env>): Env => Object.assign(Object.create(null) as Env, testEnv, parts);

describe("faults: R2 and D1 failing mid-publish (demo-stable)", () => {
  it("a healthy tick publishes first", async () => {
    await healthyTick(ISSUER);
  });

  it("faults: R2 put failing → nothing published, next tick recovers", async () => {
    const before = await storeState(ISSUER);
    const { bucket, calls } = faultyBucket(testEnv.BUCKET, "put");
    await expect(tick(config, ISSUER, { env: envWith({ BUCKET: bucket }) })).rejects.toThrow(/injected R2 put failure/);
    expect(calls()).toBe(1);
    await expectNothingStored(ISSUER, before);
    await healthyTick(ISSUER);
  });

  it("faults: R2 head failing → nothing published, next tick recovers", async () => {
    const before = await storeState(ISSUER);
    const { bucket } = faultyBucket(testEnv.BUCKET, "head");
    await expect(tick(config, ISSUER, { env: envWith({ BUCKET: bucket }) })).rejects.toThrow(
      /injected R2 head failure/,
    );
    await expectNothingStored(ISSUER, before);
    await healthyTick(ISSUER);
  });

  it("faults: D1 failing at the commit point (the attestation insert) → no row, the report is an unreferenced orphan; a retry with the same clock publishes", async () => {
    const before = await storeState(ISSUER);
    const at = now();
    const { db, injected } = faultyDb(testEnv.DB, (sql) => /INSERT INTO attestations/.test(sql));
    await expect(tick(config, ISSUER, { env: envWith({ DB: db }), at })).rejects.toThrow(/injected failure/);
    expect(injected()).toBe(1);
    await expectNothingStored(ISSUER, before, { orphanReportAllowed: true });
    // the retried tick (same observedAt) publishes the next sequence; the report put is idempotent
    const outcome = await tick(config, ISSUER, { at });
    expect(outcome).toMatchObject({ published: true, sequence: String(before.rows.length + 1) });
    await verifyHistory(ISSUER);
  });

  it("faults: D1 failing while registering the signing key → nothing published", async () => {
    const before = await storeState(ISSUER);
    const { db } = faultyDb(testEnv.DB, (sql) => /signing_keys/.test(sql) && /INSERT|UPDATE/.test(sql));
    await expect(tick(config, ISSUER, { env: envWith({ DB: db }) })).rejects.toThrow(/injected failure/);
    await expectNothingStored(ISSUER, before);
    await healthyTick(ISSUER);
  });

  it("faults: D1 failing on the first read (the previous attestation) → nothing published", async () => {
    const before = await storeState(ISSUER);
    const { db } = faultyDb(testEnv.DB, (sql) => /FROM attestations/.test(sql));
    await expect(tick(config, ISSUER, { env: envWith({ DB: db }) })).rejects.toThrow(/injected failure/);
    await expectNothingStored(ISSUER, before);
    await healthyTick(ISSUER);
  });
});

describe("faults: overlapping and retried ticks", () => {
  it("faults: overlapping ticks (four at once, bypassing the publisher object) → one wins each sequence, no fork", async () => {
    const before = (await storeState(ISSUER)).rows.length;
    const at = now();
    const outcomes = await Promise.all([0, 1, 2, 3].map(() => tick(config, ISSUER, { at })));
    const won = outcomes.filter((o) => o.published);
    expect(won.length).toBeGreaterThanOrEqual(1);
    for (const lost of outcomes.filter((o) => !o.published)) expect(lost).toMatchObject({ code: "SEQUENCE_TAKEN" });
    const sequences = won.map((o) => (o.published ? Number(o.sequence) : 0)).sort((a, b) => a - b);
    expect(sequences).toEqual(sequences.map((_, i) => before + 1 + i));
    const history = await verifyHistory(ISSUER);
    expect(history).toHaveLength(before + won.length);
    await healthyTick(ISSUER);
  });

  it("faults: overlapping admin publishes through the publisher object → consecutive sequences, linked", async () => {
    const before = (await storeState(ISSUER)).rows.length;
    const answers = await Promise.all([1, 2].map(() => admin("POST", `/v1/admin/issuers/${ISSUER}/publish`)));
    expect(answers.map((r) => r.status)).toEqual([201, 201]);
    expect(await verifyHistory(ISSUER)).toHaveLength(before + 2);
  });

  it("faults: a retried tick (same observedAt) publishes the next sequence, never the same one twice", async () => {
    const before = (await storeState(ISSUER)).rows.length;
    const at = now();
    expect(await tick(config, ISSUER, { at })).toMatchObject({ published: true, sequence: String(before + 1) });
    expect(await tick(config, ISSUER, { at })).toMatchObject({ published: true, sequence: String(before + 2) });
    await verifyHistory(ISSUER);
  });
});

describe("faults: signing key", () => {
  it("faults: SIGNING_KEY missing → MISCONFIGURED, nothing stored (no key registered)", async () => {
    const before = await storeState(ISSUER);
    const outcome = await tick(config, ISSUER, { env: envWith({ SIGNING_KEY: undefined as unknown as string }) });
    expect(outcome).toMatchObject({ published: false, code: "MISCONFIGURED" });
    await expectNothingStored(ISSUER, before);
    expect((await storeState(ISSUER)).keys).toBe(before.keys);
    await healthyTick(ISSUER);
  });

  it("faults: SIGNING_KEY invalid (malformed, zero, above the curve order) → MISCONFIGURED, the key never in the reason", async () => {
    const before = await storeState(ISSUER);
    for (const key of ["0x1234", "not a key", `0x${"00".repeat(32)}`, `0x${"ff".repeat(32)}`]) {
      const outcome = await tick(config, ISSUER, { env: envWith({ SIGNING_KEY: key }) });
      expect(outcome).toMatchObject({ published: false, code: "MISCONFIGURED" });
      expect(!outcome.published && outcome.reason).not.toContain(key.slice(2, 20) || key);
    }
    await expectNothingStored(ISSUER, before);
    await healthyTick(ISSUER);
  });
});

describe("faults: clock skew (demo: ledger and custodian statement)", () => {
  it("faults: publisher clock behind its signing key's registration → nothing published (was: an attestation no verifier accepts)", async () => {
    await prepareDemoIssuer();
    // demo's first attestation: nothing before it, so only the key's validity can stop it
    const before = await storeState("demo");
    expect(before.rows).toEqual([]);
    // the key was registered (validFrom) at the first publish of this file, minutes after this clock
    const outcome = await tick(config, "demo", { at: now() - 3600n });
    expect(outcome).toMatchObject({ published: false, code: "NOT_PUBLISHED" });
    expect(!outcome.published && outcome.reason).toMatch(/before the signing key .* became valid/);
    await expectNothingStored("demo", before);
    await healthyTick("demo");
  });

  it("faults: custodian clock ahead of the publisher → a statement from the future is refused at upload and does not count (status 3, STALE_SOURCE)", async () => {
    const future = await demoCustodianStatement(now() + 3600n);
    const refused = await admin("POST", "/v1/admin/issuers/demo/statements", JSON.stringify(future));
    expect(refused.status).toBe(422);
    // stored anyway (as if accepted by a publisher whose clock was ahead): the tick re-checks it
    const statement = parseCustodianStatement(future.statement);
    await insertStatement(testEnv.DB, {
      statement,
      signature: future.signature,
      signer: demoAccounts.custodianSigner.address.toLowerCase() as `0x${string}`,
      digest: custodianStatementDigest(statement),
      receivedAt: Number(now()),
    });
    const outcome = await tick(config, "demo");
    expect(outcome.published && outcome.flags).toContain("STALE_SOURCE");
    const { report } = await latestReport("demo");
    const custodian = report.reserves.items.find((i: { chainId: string }) => i.chainId === "0");
    expect(custodian.status).toBe(3);
    expect(custodian.valueUsd).toBe("0");
    await verifyHistory("demo");
    // the custodian's next, correctly dated statement counts again
    expect(
      (
        await admin(
          "POST",
          "/v1/admin/issuers/demo/statements",
          JSON.stringify(await demoCustodianStatement(now(), 900_000n, statement.nonce + 1n)),
        )
      ).status,
    ).toBe(201);
    const healthy = await healthyTick("demo");
    expect(healthy.reserves.items.find((i: { chainId: string }) => i.chainId === "0").status).toBe(2);
  });

  it("faults: publisher clock ahead, then back → observedAt never goes backwards: the tick refuses until the clock passes it", async () => {
    const ahead = now() + 600n;
    expect(await tick(config, "demo", { at: ahead })).toMatchObject({ published: true });
    const before = await storeState("demo");
    // the clock is corrected: a tick now would observe before the latest attestation
    const corrected = await tick(config, "demo").then(
      (o) => o,
      (e: Error) => ({ published: false as const, reason: e.message }),
    );
    expect(corrected.published).toBe(false);
    expect(!corrected.published && corrected.reason).toMatch(/observedAt .* goes back/);
    await expectNothingStored("demo", before);
    // a fresh statement does not help an attestation backdated before its predecessor
    await admin("POST", "/v1/admin/issuers/demo/statements", JSON.stringify(await demoCustodianStatement(now())));
    await healthyTick("demo", config, ahead + 1n);
    const history = await verifyHistory("demo");
    const observed = history.map((r: { observedAt: string }) => BigInt(r.observedAt));
    expect(observed).toEqual([...observed].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  });
});
