/**
 * Verification coverage (issue #17) through the real Worker in workerd: a
 * real ledger uploaded and attested twice, inclusion proofs fetched for
 * several commitments (some twice, some through another attestation of the
 * same ledger, one from the edge cache, one refused by the rate limit, one
 * absent), and the public count and its figures checked against them.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { unnoticedOmissions } from "../../core/verificationCoverage.js";
import { type DemoUser, demoLedgerCsv, demoUsers } from "../../scripts/demo/ledger.js";
import { createApp } from "../../worker/api/app.js";
import { CACHE_STATUS_HEADER, cacheKey } from "../../worker/api/edgeCache.js";
import { IMMUTABLE_CACHE } from "../../worker/api/openapi.js";
import type { Env } from "../../worker/env.js";
import worker from "../../worker/index.js";
import { readInclusionProof } from "../../worker/ledger/proofLookup.js";
import * as spec from "../support/independentVerifier.js";

const testEnv = env as unknown as Env & { ADMIN_TOKEN: string };
const ORIGIN = "http://solvent.test";
const users = demoUsers(40);

const commitmentOf = (u: DemoUser) => spec.hex(spec.commitment(spec.unhex(u.salt), u.userId));
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

/** A proof request through the Worker's own fetch handler, waiting for its background work (the count) to finish. */
async function fetchProof(
  sequence: string,
  commitment: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(`${ORIGIN}/v1/issuers/demo/proofs/${sequence}/${commitment}`, { headers }),
    testEnv,
    ctx,
  );
  await res.arrayBuffer();
  await waitOnExecutionContext(ctx);
  return res;
}

interface CoverageAnswer {
  issuer: string;
  model: string;
  ledgers: {
    id: string;
    asOf: string;
    leafCount: string;
    checked: string;
    attested: { from: string; to: string };
    unnoticed: { shareBps: string; omitted: string; chance: number; bound: number }[];
  }[];
  nextAfter: string | null;
}

async function coverage(query = ""): Promise<CoverageAnswer> {
  const res = await get(`/v1/issuers/demo/coverage${query}`);
  expect(res.status).toBe(200);
  expect(res.headers.get("Cache-Control")).toBe("public, max-age=15");
  return (await res.json()) as CoverageAnswer;
}

async function storedCommitments(): Promise<string[]> {
  const { results } = await testEnv.DB.prepare("SELECT commitment FROM coverage_checks ORDER BY commitment").all<{
    commitment: string;
  }>();
  return results.map((r) => r.commitment);
}

describe("verification coverage", () => {
  let ledgerId = "";

  it("lists an attested ledger with nothing checked yet", async () => {
    const upload = await admin("PUT", "/v1/admin/issuers/demo/ledger", demoLedgerCsv(users), "text/csv");
    expect(upload.status).toBe(201);
    ledgerId = ((await upload.json()) as { ledgerId: string }).ledgerId;
    expect(ledgerId).toMatch(/^lg_[0-9a-f]{32}$/);
    // Two attestations name the same ledger: proofs through either count for it once.
    expect((await admin("POST", "/v1/admin/issuers/demo/publish")).status).toBe(201);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await admin("POST", "/v1/admin/issuers/demo/publish")).status).toBe(201);

    const answer = await coverage();
    expect(answer.issuer).toBe("demo");
    expect(answer.model).toMatch(/fetching a proof is not checking it/);
    expect(answer.ledgers).toHaveLength(1);
    expect(answer.ledgers[0]).toMatchObject({
      id: ledgerId,
      leafCount: "40",
      checked: "0",
      attested: { from: "1", to: "2" },
    });
    expect(answer.ledgers[0]!.unnoticed.map((u) => u.chance)).toEqual([1, 1, 1]);
  });

  it("counts each commitment whose proof was served once, cached answers included, and nothing else", async () => {
    const [a, b, c, d, e, f] = users.map(commitmentOf);
    // a: twice at sequence 1 (the second from the edge cache), once at sequence 2 (the same ledger)
    const first = await fetchProof("1", a!);
    expect(first.status).toBe(200);
    const again = await fetchProof("1", a!);
    expect(again.headers.get(CACHE_STATUS_HEADER)).toBe("hit");
    expect((await fetchProof("2", a!.toUpperCase().replace(/^0X/, "0x"))).status).toBe(200);
    // b and c once each; d twice, asking for a fresh answer each time
    expect((await fetchProof("2", b!)).status).toBe(200);
    expect((await fetchProof("1", c!)).status).toBe(200);
    expect((await fetchProof("2", d!, { "Cache-Control": "no-cache" })).status).toBe(200);
    expect((await fetchProof("2", d!, { "Cache-Control": "no-cache" })).headers.get(CACHE_STATUS_HEADER)).toBe("miss");

    // e's answer is already in the edge cache (stored by another isolate, or before counting was deployed): served from it, and counted.
    const proof = await readInclusionProof(testEnv.BUCKET, ledgerId, e!);
    expect(proof).not.toBeNull();
    const url = `${ORIGIN}/v1/issuers/demo/proofs/2/${e}`;
    await (caches as unknown as { default: Cache }).default.put(
      cacheKey(url),
      new Response(JSON.stringify(proof), {
        headers: { "Content-Type": "application/json", "Cache-Control": IMMUTABLE_CACHE },
      }),
    );
    const cached = await fetchProof("2", e!);
    expect([cached.status, cached.headers.get(CACHE_STATUS_HEADER)]).toEqual([200, "hit"]);

    // Not counted: a commitment that is not in the ledger (404 with its absence proof), a proof the rate limit refused,
    // a malformed path, and an attestation that does not exist.
    const nobody = spec.hex(spec.commitment(spec.unhex(users[0]!.salt), "nobody@demo.example"));
    expect((await fetchProof("2", nobody)).status).toBe(404);
    const refusing = createApp({ rateLimit: { limiter: () => ({ limit: async () => ({ success: false }) }) } });
    expect((await refusing.request(`/v1/issuers/demo/proofs/2/${f}`, {}, testEnv)).status).toBe(429);
    expect((await fetchProof("02", f!)).status).toBe(400);
    expect((await fetchProof("9", f!)).status).toBe(404);

    expect(await storedCommitments()).toEqual([a!, b!, c!, d!, e!].sort());
    const answer = await coverage();
    expect(answer.ledgers[0]).toMatchObject({ id: ledgerId, leafCount: "40", checked: "5" });
    const expected = unnoticedOmissions(40, 5).map((o) => ({
      shareBps: String(o.shareBps),
      omitted: String(o.omitted),
      chance: o.chance,
      bound: o.bound,
    }));
    expect(answer.ledgers[0]!.unnoticed).toEqual(expected);
    // 5 % of all users, with 40 listed, is 3 left out (3 / 43); 5 checks all miss them with chance C(40,5)/C(43,5) = 658008/962598.
    expect(answer.ledgers[0]!.unnoticed[2]).toMatchObject({ shareBps: "500", omitted: "3" });
    expect(Math.abs(answer.ledgers[0]!.unnoticed[2]!.chance - 658008 / 962598)).toBeLessThan(1e-12);
  });

  it("keeps nothing about who asked: two columns, the ledger and the commitment", async () => {
    for (const table of ["coverage_checks", "coverage_counts"]) {
      const { results } = await testEnv.DB.prepare(`SELECT name FROM pragma_table_info('${table}')`).all<{
        name: string;
      }>();
      expect(results.map((r) => r.name)).toEqual(
        table === "coverage_checks" ? ["ledger_id", "commitment"] : ["ledger_id", "checked"],
      );
    }
  });

  it("never lowers a published count: rows cannot be deleted or changed, totals only grow", async () => {
    await expect(testEnv.DB.prepare("DELETE FROM coverage_checks").run()).rejects.toThrow(/append-only/);
    await expect(
      testEnv.DB.prepare("UPDATE coverage_checks SET commitment = ?1")
        .bind(`0x${"00".repeat(32)}`)
        .run(),
    ).rejects.toThrow(/append-only/);
    await expect(testEnv.DB.prepare("UPDATE coverage_counts SET checked = 0").run()).rejects.toThrow(/only grow/);
    await expect(testEnv.DB.prepare("DELETE FROM coverage_counts").run()).rejects.toThrow(/only grow/);
    await expect(
      testEnv.DB.prepare("INSERT INTO coverage_checks VALUES (?1, ?2)").bind(ledgerId, "0xNOTHEX").run(),
    ).rejects.toThrow(/CHECK/);
    expect((await coverage()).ledgers[0]!.checked).toBe("5");
  });

  it("pages through ledgers and refuses what it cannot answer, naming why", async () => {
    const paged = await coverage("?limit=1");
    expect(paged.ledgers).toHaveLength(1);
    expect(paged.nextAfter).toBeNull();
    const bad = await get("/v1/issuers/demo/coverage?limit=0");
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: "INVALID_PARAMETER", field: "limit" } });
    const unknown = await get("/v1/issuers/nobody/coverage");
    expect([unknown.status, ((await unknown.json()) as { error: { code: string } }).error.code]).toEqual([
      404,
      "UNKNOWN_ISSUER",
    ]);
    const noLedger = await get("/v1/issuers/demo-stable/coverage");
    expect(noLedger.status).toBe(404);
    expect(await noLedger.json()).toMatchObject({
      error: { code: "NOT_FOUND", message: expect.stringContaining("publishes no user ledger") },
    });
  });

  it("is in the OpenAPI document", async () => {
    const doc = (await (await get("/openapi.json")).json()) as {
      paths: Record<string, { get?: { summary?: string } }>;
    };
    expect(doc.paths["/v1/issuers/{issuer}/coverage"]?.get?.summary).toBe("Verification coverage");
  });
});
