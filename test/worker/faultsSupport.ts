/**
 * Shared harness of the fault-injection suite (test/worker/faults*.test.ts):
 * the demo world's configuration, RPC proxy channels to break, D1 and R2
 * wrappers whose Nth call throws (the real bindings stay underneath), and
 * the three checks every scenario makes:
 *   - nothing wrong, partial or forked is stored (expectNothingStored, or a
 *     published attestation compared with a healthy tick's);
 *   - the next healthy tick recovers (healthyTick: the next sequence, linked);
 *   - history is intact (verifyHistory: the whole stored chain re-checked
 *     with test/support/independentVerifier.ts, D1 rows against R2 objects).
 */
import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";
import { attestationFromJson } from "../../core/attestation.js";
import { parseConfig } from "../../core/config/parseConfig.js";
import type { IssuerConfig, SolventConfig } from "../../core/config/schema.js";
import { keyValidAt } from "../../core/keysDocument.js";
import { checkReport } from "../../core/reportCheck.js";
import { demoLedgerCsv, demoUsers } from "../../scripts/demo/ledger.js";
import { demoCustodianStatement } from "../../scripts/demo/world.js";
import type { Env } from "../../worker/env.js";
import { type PublishOutcome, publishTick } from "../../worker/publisher/publishTick.js";
import { keysDocument } from "../../worker/storage/signingKeys.js";
import * as spec from "../support/independentVerifier.js";

export const testEnv = env as unknown as Env & { TEST_WORLD: string; TEST_RPC_PROXY: string; ADMIN_TOKEN: string };
export const world = JSON.parse(testEnv.TEST_WORLD) as {
  rpcUrl: string;
  chainId: number;
  contracts: Record<string, `0x${string}`>;
  config: unknown;
};
const proxy = JSON.parse(testEnv.TEST_RPC_PROXY) as { url: string; controlUrl: string };
export const config: SolventConfig = parseConfig(world.config);
const ORIGIN = "http://solvent.test";

export const now = () => BigInt(Math.floor(Date.now() / 1000));

// ------------------------------------------------------------------ RPC channels

export interface ProxyCommand {
  failAfter?: number | null;
  delayMs?: number;
  error?: boolean;
  garbage?: "html" | "wrongId" | "badResult" | "truncated" | null;
  methods?: string[] | null;
  lie?: { find: string; replace: string } | null;
  failCalls?: string | null;
  fakeReorgAfter?: number | null;
  hideCode?: boolean;
  reset?: boolean;
}

/** An RPC "provider" of its own: a channel of the test proxy (test/support/rpcProxy.ts), reset when created. */
export async function rpcChannel(name: string) {
  const url = `${proxy.url}/c/${name}`;
  const control = async (command: ProxyCommand) => {
    const res = await fetch(`${url}/__control`, { method: "POST", body: JSON.stringify(command) });
    expect(res.status).toBe(200);
    return (await res.json()) as { forwarded: number };
  };
  await control({ reset: true });
  return { url, control, heal: () => control({ reset: true }) };
}

/** The configuration with the demo chain's RPC list (and other chain fields) replaced. */
export function withChain(base: SolventConfig, chain: Partial<SolventConfig["chains"][number]>): SolventConfig {
  return { ...structuredClone(base), chains: base.chains.map((c) => ({ ...c, ...chain })) };
}

export function withIssuer(base: SolventConfig, issuerId: string, edit: (issuer: IssuerConfig) => void): SolventConfig {
  const copy = structuredClone(base);
  edit(copy.issuers.find((i) => i.id === issuerId)!);
  return copy;
}

// ------------------------------------------------------------------ storage faults

/** R2 with the named method throwing on its calls number `from` … `from + times - 1` (1-based); counts every call. */
export function faultyBucket(
  real: R2Bucket,
  method: "put" | "head" | "get",
  from = 1,
  times = Number.POSITIVE_INFINITY,
) {
  let calls = 0;
  const bucket = new Proxy(real, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown;
      if (typeof value !== "function") return value;
      if (prop !== method) return value.bind(target);
      return async (...args: unknown[]) => {
        calls++;
        if (calls >= from && calls < from + times) throw new Error(`injected R2 ${method} failure`);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { bucket, calls: () => calls };
}

/**
 * D1 whose statements matching `fails` (by SQL text) throw when executed —
 * alone or inside a batch — while `armed()` says so; everything else reaches
 * the real database.
 */
export function faultyDb(real: D1Database, fails: (sql: string) => boolean) {
  let armed = true;
  let injected = 0;
  const realOf = new WeakMap<object, { statement: D1PreparedStatement; sql: string }>();
  const check = (sql: string) => {
    if (armed && fails(sql)) {
      injected++;
      throw new Error(`D1_ERROR: injected failure of ${sql.trim().split(/\s+/).slice(0, 3).join(" ")}`);
    }
  };
  const wrap = (statement: D1PreparedStatement, sql: string): D1PreparedStatement => {
    const wrapped = {
      bind: (...values: unknown[]) => wrap(statement.bind(...values), sql),
      first: (...a: unknown[]) => {
        check(sql);
        return (statement.first as (...x: unknown[]) => unknown)(...a);
      },
      run: () => {
        check(sql);
        return statement.run();
      },
      all: () => {
        check(sql);
        return statement.all();
      },
      raw: (...a: unknown[]) => {
        check(sql);
        return (statement.raw as (...x: unknown[]) => unknown)(...a);
      },
    };
    realOf.set(wrapped, { statement, sql });
    return wrapped as unknown as D1PreparedStatement;
  };
  const db = new Proxy(real, {
    get(target, prop) {
      if (prop === "prepare") return (sql: string) => wrap(target.prepare(sql), sql);
      if (prop === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          const reals = statements.map((s) => realOf.get(s) ?? { statement: s, sql: "" });
          for (const r of reals) check(r.sql);
          return target.batch(reals.map((r) => r.statement));
        };
      }
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return {
    db,
    injected: () => injected,
    disarm: () => {
      armed = false;
    },
  };
}

// ------------------------------------------------------------------ what is stored

interface Row {
  sequence: number;
  digest: string;
  previous: string;
  signer: string;
  signature: string;
  attestation_json: string;
  observed_at: number;
  report_key: string;
  report_hash: string;
  ledger_id: string | null;
}

export async function storedRows(issuerId: string): Promise<Row[]> {
  const { results } = await testEnv.DB.prepare(
    `SELECT sequence, digest, previous, signer, signature, attestation_json, observed_at, report_key, report_hash, ledger_id
     FROM attestations WHERE issuer_id = ?1 ORDER BY sequence`,
  )
    .bind(issuerId)
    .all<Row>();
  return results;
}

async function r2Keys(issuerId: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await testEnv.BUCKET.list({ prefix: `reports/${issuerId}/`, cursor });
    keys.push(...page.objects.map((o) => o.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor !== undefined);
  return keys.sort();
}

export interface StoreState {
  rows: Row[];
  reports: string[];
  keys: number;
}

/** What is stored for the issuer: D1 rows, R2 report keys, signing keys. */
export async function storeState(issuerId: string): Promise<StoreState> {
  const keys = (await keysDocument(testEnv.DB)).keys.length;
  return { rows: await storedRows(issuerId), reports: await r2Keys(issuerId), keys };
}

/**
 * Nothing was published: the same D1 rows. R2 may hold one more report only
 * when `orphanReportAllowed` (the tick died after the report and before the
 * commit point); it is never referenced, and must not be served.
 */
export async function expectNothingStored(
  issuerId: string,
  before: StoreState,
  { orphanReportAllowed = false } = {},
): Promise<void> {
  const after = await storeState(issuerId);
  expect(after.rows).toEqual(before.rows);
  if (!orphanReportAllowed) expect(after.reports).toEqual(before.reports);
  else expect(after.reports.length - before.reports.length).toBeLessThanOrEqual(1);
  const latest = await get(`/v1/issuers/${issuerId}/attestations/latest`);
  if (before.rows.length === 0) expect(latest.status).toBe(404);
  else
    expect(((await latest.json()) as { attestation: { sequence: string } }).attestation.sequence).toBe(
      String(before.rows.at(-1)!.sequence),
    );
}

export const get = (path: string) => exports.default.fetch(`${ORIGIN}${path}`);
export const admin = (method: string, path: string, body?: string, type = "application/json") =>
  exports.default.fetch(`${ORIGIN}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${testEnv.ADMIN_TOKEN}`,
      ...(body === undefined ? {} : { "content-type": type }),
    },
    body,
  });

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Report = any;

/**
 * The issuer's whole stored history, checked as a third party would: sequences
 * 1…n, each `previous` the digest before it, observedAt never going back,
 * every digest and signature (signer valid at observedAt in the keys
 * document), every report in R2 hashing to reportHash, reservesRoot and the
 * totals re-computed from the report. Returns the reports, oldest first.
 */
export async function verifyHistory(issuerId: string): Promise<Report[]> {
  const rows = await storedRows(issuerId);
  const keys = await keysDocument(testEnv.DB);
  const reports: Report[] = [];
  let previousDigest = `0x${"00".repeat(32)}`;
  let previousObserved = -1n;
  for (const [i, row] of rows.entries()) {
    const attestation = JSON.parse(row.attestation_json) as Record<string, string>;
    expect(row.sequence).toBe(i + 1);
    expect(attestation.sequence).toBe(String(i + 1));
    expect(attestation.previous).toBe(previousDigest);
    expect(spec.attestationDigest(attestation)).toBe(row.digest);
    const signer = await spec.recoverDigestSigner(row.digest as `0x${string}`, row.signature as `0x${string}`);
    expect(signer).toBe(row.signer.toLowerCase());
    expect(keyValidAt(keys, signer, BigInt(attestation.observedAt!))).toBe(true);
    const observed = BigInt(attestation.observedAt!);
    expect(observed >= previousObserved).toBe(true);

    const object = await testEnv.BUCKET.get(row.report_key);
    expect(object, `report of sequence ${row.sequence} is in R2`).not.toBeNull();
    const bytes = new Uint8Array(await object!.arrayBuffer());
    expect(spec.hex(spec.keccak(bytes))).toBe(attestation.reportHash);
    expect(row.report_hash).toBe(attestation.reportHash);
    const report = JSON.parse(new TextDecoder().decode(bytes));
    expect(spec.standardTreeRoot(report.reserves.items.map(spec.reserveLeafHash))).toBe(attestation.reservesRoot);
    const counted = (status: number) =>
      report.reserves.items
        .filter((it: any) => it.status === status)
        .reduce((s: bigint, it: any) => s + BigInt(it.valueUsd), 0n);
    expect(counted(0).toString()).toBe(attestation.onchainReservesUsd);
    expect(counted(2).toString()).toBe(attestation.offchainReservesUsd);
    expect((counted(0) + counted(2)).toString()).toBe(attestation.reservesUsd);
    expect(checkReport(bytes, attestationFromJson(attestation))).toEqual([]);
    reports.push(report);
    previousDigest = row.digest;
    previousObserved = observed;
  }
  return reports;
}

/** The stored report of the issuer's latest attestation, with the attestation. */
export async function latestReport(
  issuerId: string,
): Promise<{ attestation: Record<string, string>; report: Report; row: Row }> {
  const row = (await storedRows(issuerId)).at(-1)!;
  const bytes = await (await testEnv.BUCKET.get(row.report_key))!.arrayBuffer();
  return { attestation: JSON.parse(row.attestation_json), report: JSON.parse(new TextDecoder().decode(bytes)), row };
}

export function tick(
  cfg: SolventConfig,
  issuerId: string,
  options: { at?: bigint; env?: Env; fetchFn?: typeof fetch } = {},
): Promise<PublishOutcome> {
  return publishTick({
    env: options.env ?? testEnv,
    config: cfg,
    issuerId,
    now: options.at ?? now(),
    fetchFn: options.fetchFn,
  });
}

/**
 * A healthy tick with `cfg` (default: the demo world's) publishes the next
 * sequence, linked to the last stored one, and the whole history verifies.
 */
export async function healthyTick(
  issuerId: string,
  cfg: SolventConfig = config,
  at?: bigint,
  fetchFn?: typeof fetch,
): Promise<Report> {
  const before = await storedRows(issuerId);
  const outcome = await tick(cfg, issuerId, { at, fetchFn });
  expect(outcome).toMatchObject({ published: true, sequence: String(before.length + 1) });
  const { attestation, report } = await latestReport(issuerId);
  expect(attestation.previous).toBe(before.at(-1)?.digest ?? `0x${"00".repeat(32)}`);
  await verifyHistory(issuerId);
  return report;
}

/** What must be equal between two reports of the same world state (not observedAt, block or sequence). */
export function essentials(report: Report) {
  return {
    items: report.reserves.items.map((i: any) => ({
      label: i.label,
      status: i.status,
      amount: i.amount,
      priceUsd: i.priceUsd,
      valueUsd: i.valueUsd,
    })),
    flags: report.flags.map((f: any) => f.name),
  };
}

/** `demo` needs a custodian statement and a complete ledger before it publishes. */
export async function prepareDemoIssuer(users = 20): Promise<{ root: string; ledgerId: string }> {
  const statement = await demoCustodianStatement(now());
  expect((await admin("POST", "/v1/admin/issuers/demo/statements", JSON.stringify(statement))).status).toBe(201);
  const upload = await admin("PUT", "/v1/admin/issuers/demo/ledger", demoLedgerCsv(demoUsers(users)), "text/csv");
  expect(upload.status).toBe(201);
  return (await upload.json()) as { root: string; ledgerId: string };
}

/** Every string in the report (reasons included) that looks like an RPC URL of the proxy. */
export function leakedUrls(value: unknown): string[] {
  return JSON.stringify(value).match(/https?:\/\/127\.0\.0\.1[^\s"]*/g) ?? [];
}

/** An HTTP price source that always answers `body` (given to publishTick as fetchFn). */
export function priceServer(body: () => string, status = 200): typeof fetch {
  return (async () =>
    new Response(body(), { status, headers: { "content-type": "application/json" } })) as unknown as typeof fetch;
}

export const ETH_PRICE_URL = "http://prices.test/eth";

/** The configuration with `source` added to (or, with `only`, replacing) the price sources of `asset` of `issuerId`. */
export function withHttpPrice(
  base: SolventConfig,
  issuerId: string,
  asset: string,
  { only = false, band }: { only?: boolean; band?: { minPriceUsd?: string; maxPriceUsd?: string } } = {},
): SolventConfig {
  return withIssuer(base, issuerId, (issuer) => {
    const a = issuer.assets.find((x) => x.id === asset)!;
    const source = { kind: "http" as const, url: ETH_PRICE_URL, path: "usd" };
    a.prices = only ? [source] : [...a.prices, source];
    if (band) Object.assign(a, band);
  });
}
