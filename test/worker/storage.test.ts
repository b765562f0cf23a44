import { env as workersEnv } from "cloudflare:workers";
import { keccak256, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import {
  type Attestation,
  attestationDigest,
  issuerKey,
  nextAttestation,
  signAttestation,
  ZERO_HASH,
} from "../../core/attestation.js";
import { type Hex, utf8 } from "../../core/bytes.js";
import {
  type CustodianStatement,
  custodianStatementDigest,
  signCustodianStatement,
} from "../../core/custodianStatement.js";
import { keyValidAt } from "../../core/keysDocument.js";
import type { Env } from "../../worker/env.js";
import {
  attestationBySequence,
  attestationPage,
  ChainBrokenError,
  insertAttestation,
  issuerSummaries,
  latestAttestation,
  SequenceTakenError,
  type StoredAttestation,
} from "../../worker/storage/attestationStore.js";
import { getReport, putReport, ReportConflictError, reportKey } from "../../worker/storage/reportStore.js";
import {
  ensureSigningKey,
  keysDocument,
  RetiredKeyError,
  RotationTooEarlyError,
} from "../../worker/storage/signingKeys.js";
import {
  insertStatement,
  lastAcceptedNonce,
  latestStatements,
  NonceNotNewerError,
} from "../../worker/storage/statementStore.js";

// Bindings from wrangler.toml (no generated `wrangler types` here).
const env = workersEnv as unknown as Env;

const signer = privateKeyToAccount(`0x${"11".repeat(32)}`);
const custodianKey = privateKeyToAccount(`0x${"22".repeat(32)}`);

/** A signed attestation following `previous`, with its report, not yet stored. */
async function makeRecord(issuerId: string, previous: Attestation | null, observedAt: bigint, reserves = 1000n) {
  const report = utf8(`{"version":1,"issuer":"${issuerId}","observedAt":"${observedAt}","reserves":"${reserves}"}`);
  const reportHash = keccak256(report);
  const attestation = nextAttestation(previous, {
    issuer: issuerKey(issuerId),
    observedAt,
    validUntil: observedAt + 3600n,
    reservesUsd: reserves,
    onchainReservesUsd: reserves,
    offchainReservesUsd: 0n,
    liabilitiesUsd: 900n,
    ratioBps: Number((reserves * 10000n) / 900n),
    reservesRoot: keccak256(utf8("reserves")),
    liabilitiesRoot: ZERO_HASH,
    flags: 1n << 63n,
    reportHash,
  });
  const record: StoredAttestation = {
    issuerId,
    attestation,
    digest: attestationDigest(attestation),
    signature: await signAttestation(attestation, signer),
    signer: signer.address.toLowerCase() as Hex,
    reportKey: reportKey(issuerId, reportHash),
    reportHash,
    ledgerId: null,
    publishedAt: Number(observedAt) + 5,
  };
  return { record, report };
}

async function publishChain(issuerId: string, count: number): Promise<StoredAttestation[]> {
  const out: StoredAttestation[] = [];
  for (let i = 0; i < count; i++) {
    const { record, report } = await makeRecord(
      issuerId,
      out.at(-1)?.attestation ?? null,
      1_700_000_000n + BigInt(i) * 60n,
      1000n + BigInt(i),
    );
    await putReport(env.BUCKET, issuerId, report, record.reportHash);
    await insertAttestation(env.DB, record);
    out.push(record);
  }
  return out;
}

describe("attestation store", () => {
  it("stores and reads back attestations, latest, by sequence and newest-first pages", async () => {
    const chain = await publishChain("store-a", 5);
    const latest = await latestAttestation(env.DB, "store-a");
    expect(latest).toEqual(chain[4]);
    expect(latest?.attestation.flags).toBe(1n << 63n);
    expect(await attestationBySequence(env.DB, "store-a", 2n)).toEqual(chain[1]);
    expect(await attestationBySequence(env.DB, "store-a", 6n)).toBeNull();
    expect(await attestationBySequence(env.DB, "store-a", (1n << 64n) - 1n)).toBeNull();
    expect(await latestAttestation(env.DB, "nobody")).toBeNull();

    const first = await attestationPage(env.DB, "store-a", { limit: 2 });
    expect(first.attestations.map((a) => a.attestation.sequence)).toEqual([5n, 4n]);
    expect(first.nextBefore).toBe(4n);
    const second = await attestationPage(env.DB, "store-a", { before: 4n, limit: 2 });
    expect(second.attestations.map((a) => a.attestation.sequence)).toEqual([3n, 2n]);
    const last = await attestationPage(env.DB, "store-a", { before: 2n, limit: 2 });
    expect(last.attestations.map((a) => a.attestation.sequence)).toEqual([1n]);
    expect(last.nextBefore).toBeNull();
    const endsAtOne = await attestationPage(env.DB, "store-a", { before: 3n, limit: 2 });
    expect(endsAtOne.nextBefore).toBeNull();
  });

  it("summarises the latest attestation of every issuer", async () => {
    await publishChain("store-b", 2);
    const summaries = await issuerSummaries(env.DB);
    const b = summaries.find((s) => s.issuerId === "store-b");
    expect(b).toEqual({
      issuerId: "store-b",
      sequence: 2n,
      ratioBps: Math.floor((1001 * 10000) / 900),
      flags: 1n << 63n,
      observedAt: 1_700_000_060n,
    });
  });

  it("refuses a second attestation for a taken sequence and keeps the first", async () => {
    const [one] = await publishChain("store-c", 1);
    const fork = await makeRecord("store-c", null, 1_700_000_001n, 5n);
    await expect(insertAttestation(env.DB, fork.record)).rejects.toBeInstanceOf(SequenceTakenError);
    // Re-inserting the identical record is refused too: nothing is ever written twice.
    await expect(insertAttestation(env.DB, one!)).rejects.toBeInstanceOf(SequenceTakenError);
    expect((await latestAttestation(env.DB, "store-c"))?.digest).toBe(one!.digest);
  });

  it("refuses INSERT OR REPLACE over a stored row in SQL", async () => {
    const [one] = await publishChain("store-d", 1);
    const replace = env.DB.prepare(
      `INSERT OR REPLACE INTO attestations SELECT issuer_id, sequence, 'x', previous, signer, signature, attestation_json,
       observed_at, valid_until, 0, flags, reserves_usd, liabilities_usd, report_key, report_hash, ledger_id, published_at
       FROM attestations WHERE issuer_id = 'store-d'`,
    );
    await expect(replace.run()).rejects.toThrow(/append-only/);
    expect(await attestationBySequence(env.DB, "store-d", 1n)).toEqual(one);
  });

  it("rejects UPDATE and DELETE on attestations in the database itself", async () => {
    await publishChain("store-e", 1);
    await expect(
      env.DB.prepare("UPDATE attestations SET ratio_bps = 0 WHERE issuer_id = 'store-e'").run(),
    ).rejects.toThrow(/append-only/);
    await expect(env.DB.prepare("DELETE FROM attestations WHERE issuer_id = 'store-e'").run()).rejects.toThrow(
      /append-only/,
    );
    const row = await env.DB.prepare(
      "SELECT COUNT(*) AS n, MAX(ratio_bps) AS r FROM attestations WHERE issuer_id = 'store-e'",
    ).first<{ n: number; r: number }>();
    expect(row).toEqual({ n: 1, r: Math.floor((1000 * 10000) / 900) });
  });

  it("refuses a gap or a fork in the hash chain", async () => {
    const [one] = await publishChain("store-f", 1);
    const two = await makeRecord("store-f", one!.attestation, 1_700_000_100n);
    const three = await makeRecord("store-f", two.record.attestation, 1_700_000_200n);
    await expect(insertAttestation(env.DB, three.record)).rejects.toBeInstanceOf(ChainBrokenError);
    const other = await makeRecord("store-f", null, 1_700_000_000n, 7n);
    const forked = await makeRecord("store-f", other.record.attestation, 1_700_000_100n);
    await expect(insertAttestation(env.DB, forked.record)).rejects.toBeInstanceOf(ChainBrokenError);
    await insertAttestation(env.DB, two.record);
    expect((await latestAttestation(env.DB, "store-f"))?.attestation.sequence).toBe(2n);
  });

  it("refuses a record whose digest or issuer does not match its attestation", async () => {
    const { record } = await makeRecord("store-g", null, 1_700_000_000n);
    await expect(insertAttestation(env.DB, { ...record, digest: ZERO_HASH })).rejects.toThrow(/digest/);
    await expect(insertAttestation(env.DB, { ...record, issuerId: "store-h" })).rejects.toThrow(/issuer/);
    expect(await latestAttestation(env.DB, "store-g")).toBeNull();
  });
});

describe("report store", () => {
  it("serves the exact bytes and stores the same bytes idempotently", async () => {
    // Bytes that a re-serialisation would change: spacing, key order, a BOM-less unicode escape.
    const bytes = utf8('{ "b":1,  "a":"\\u00e9", "n": 1.50 }\n');
    const hash = keccak256(bytes);
    const key = await putReport(env.BUCKET, "rep", bytes, hash);
    expect(key).toBe(`reports/rep/${hash}.json`);
    expect(await putReport(env.BUCKET, "rep", bytes, hash)).toBe(key);
    expect(toHex((await getReport(env.BUCKET, key))!)).toBe(toHex(bytes));
    const object = await env.BUCKET.head(key);
    expect(object?.httpMetadata?.contentType).toBe("application/json");
    expect(await getReport(env.BUCKET, "reports/rep/missing.json")).toBeNull();
  });

  it("refuses bytes that do not hash to the given reportHash", async () => {
    const bytes = utf8('{"x":1}');
    await expect(putReport(env.BUCKET, "rep", bytes, keccak256(utf8('{"x":2}')))).rejects.toThrow(/hash/);
  });

  it("never replaces different bytes at an existing key", async () => {
    const bytes = utf8('{"original":true}');
    const hash = keccak256(bytes);
    const key = reportKey("rep2", hash);
    // Simulate a corrupted object already at the content address.
    await env.BUCKET.put(key, utf8('{"tampered":true}'));
    await expect(putReport(env.BUCKET, "rep2", bytes, hash)).rejects.toBeInstanceOf(ReportConflictError);
    expect(new TextDecoder().decode((await getReport(env.BUCKET, key))!)).toBe('{"tampered":true}');
  });

  it("the conditional put itself refuses to overwrite", async () => {
    const key = "reports/rep3/probe.json";
    expect(await env.BUCKET.put(key, utf8("first"), { onlyIf: { etagDoesNotMatch: "*" } })).not.toBeNull();
    expect(await env.BUCKET.put(key, utf8("second"), { onlyIf: { etagDoesNotMatch: "*" } })).toBeNull();
    expect(new TextDecoder().decode((await getReport(env.BUCKET, key))!)).toBe("first");
  });
});

describe("signing keys", () => {
  it("opens the first key, keeps it, rotates with history, and never reopens a retired key", async () => {
    const a = privateKeyToAccount(`0x${"aa".repeat(32)}`).address;
    const b = privateKeyToAccount(`0x${"bb".repeat(32)}`).address;
    const c = privateKeyToAccount(`0x${"cc".repeat(32)}`).address;
    expect(await keysDocument(env.DB)).toEqual({ keys: [] });

    expect(await ensureSigningKey(env.DB, a, 1000)).toEqual({
      keys: [{ address: a.toLowerCase(), validFrom: 1000, validUntil: null }],
    });
    // Same key again (another isolate, a later tick): no change.
    await ensureSigningKey(env.DB, a, 1500);
    expect(await keysDocument(env.DB)).toEqual({
      keys: [{ address: a.toLowerCase(), validFrom: 1000, validUntil: null }],
    });

    // Two isolates see the new secret at once: one rotation.
    await Promise.all([ensureSigningKey(env.DB, b, 2000), ensureSigningKey(env.DB, b, 2000)]);
    const doc = await keysDocument(env.DB);
    expect(doc).toEqual({
      keys: [
        { address: a.toLowerCase(), validFrom: 1000, validUntil: 2000 },
        { address: b.toLowerCase(), validFrom: 2000, validUntil: null },
      ],
    });
    expect(keyValidAt(doc, a, 1999)).toBe(true);
    expect(keyValidAt(doc, a, 2000)).toBe(false);
    expect(keyValidAt(doc, b, 2000)).toBe(true);

    // An isolate still holding the old secret changes nothing.
    await expect(ensureSigningKey(env.DB, a, 2500)).rejects.toBeInstanceOf(RetiredKeyError);
    // A rotation at the instant the open key started would leave an empty interval.
    await expect(ensureSigningKey(env.DB, c, 2000)).rejects.toBeInstanceOf(RotationTooEarlyError);
    expect(await keysDocument(env.DB)).toEqual(doc);

    await ensureSigningKey(env.DB, c, 3000);
    expect((await keysDocument(env.DB)).keys.map((k) => [k.address, k.validFrom, k.validUntil])).toEqual([
      [a.toLowerCase(), 1000, 2000],
      [b.toLowerCase(), 2000, 3000],
      [c.toLowerCase(), 3000, null],
    ]);
  });

  it("refuses deleting keys and any update other than closing an open key", async () => {
    await expect(env.DB.prepare("DELETE FROM signing_keys").run()).rejects.toThrow(/never deleted/);
    await expect(
      env.DB.prepare("UPDATE signing_keys SET valid_until = 9999 WHERE valid_until IS NOT NULL").run(),
    ).rejects.toThrow(/once/);
    await expect(env.DB.prepare("UPDATE signing_keys SET valid_from = 1").run()).rejects.toThrow(/once/);
    await expect(
      env.DB.prepare("INSERT OR REPLACE INTO signing_keys SELECT address, 1, NULL, 99 FROM signing_keys LIMIT 1").run(),
    ).rejects.toThrow(/never replaced/);
    expect((await keysDocument(env.DB)).keys).toHaveLength(3);
  });
});

describe("statement store", () => {
  const base: CustodianStatement = {
    issuer: "st",
    custodian: "trust",
    account: "ops",
    asset: "USD",
    amount: 10n ** 30n,
    asOf: 1_700_000_000n,
    nonce: 5n,
  };
  async function record(s: CustodianStatement) {
    return {
      statement: s,
      signature: await signCustodianStatement(s, custodianKey),
      signer: custodianKey.address.toLowerCase() as Hex,
      digest: custodianStatementDigest(s),
      receivedAt: 1_700_000_010,
    };
  }

  it("tracks the last nonce in numeric order across the whole uint64 range", async () => {
    expect(await lastAcceptedNonce(env.DB, "st", "trust", "ops", "USD")).toBeNull();
    await insertStatement(env.DB, await record({ ...base, nonce: 9n }));
    await insertStatement(env.DB, await record({ ...base, nonce: 10n }));
    expect(await lastAcceptedNonce(env.DB, "st", "trust", "ops", "USD")).toBe(10n);
    const max = (1n << 64n) - 1n;
    await insertStatement(env.DB, await record({ ...base, nonce: max }));
    expect(await lastAcceptedNonce(env.DB, "st", "trust", "ops", "USD")).toBe(max);
  });

  it("refuses a duplicate or older nonce inside the insert, even without a prior read", async () => {
    const s = { ...base, account: "dup", nonce: 7n };
    const results = await Promise.allSettled([
      insertStatement(env.DB, await record(s)),
      insertStatement(env.DB, await record(s)),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const rejected = results.find((r) => r.status === "rejected");
    expect((rejected as PromiseRejectedResult).reason).toBeInstanceOf(NonceNotNewerError);
    await expect(insertStatement(env.DB, await record({ ...s, nonce: 6n }))).rejects.toBeInstanceOf(NonceNotNewerError);
    // Raw SQL cannot slip a duplicate in either, not even with OR IGNORE.
    await expect(
      env.DB.prepare(
        "INSERT OR IGNORE INTO custodian_statements SELECT * FROM custodian_statements WHERE account = 'dup'",
      ).run(),
    ).rejects.toThrow(/NONCE_NOT_NEWER/);
  });

  it("refuses UPDATE and DELETE on statements", async () => {
    await expect(env.DB.prepare("UPDATE custodian_statements SET amount = '0'").run()).rejects.toThrow(/append-only/);
    await expect(env.DB.prepare("DELETE FROM custodian_statements").run()).rejects.toThrow(/append-only/);
  });

  it("returns the highest-nonce statement per (custodian, account, asset)", async () => {
    const i = { ...base, issuer: "latest" };
    await insertStatement(env.DB, await record({ ...i, nonce: 1n, amount: 1n }));
    await insertStatement(env.DB, await record({ ...i, nonce: 2n, amount: 2n }));
    await insertStatement(env.DB, await record({ ...i, asset: "EUR", nonce: 1n, amount: 3n }));
    await insertStatement(env.DB, await record({ ...i, issuer: "latest-other", nonce: 9n, amount: 4n }));
    const latest = await latestStatements(env.DB, "latest");
    expect(latest.map((s) => [s.statement.asset, s.statement.nonce, s.statement.amount])).toEqual([
      ["EUR", 1n, 3n],
      ["USD", 2n, 2n],
    ]);
    expect(latest[1]?.digest).toBe(custodianStatementDigest({ ...i, nonce: 2n, amount: 2n }));
  });
});
