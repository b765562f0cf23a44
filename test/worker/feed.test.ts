/**
 * SPEC §10 feed: the latest attestation as a Chainlink AggregatorV3 round,
 * published by the real publisher against anvil's demo world.
 */
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

const testEnv = env as unknown as { ADMIN_TOKEN: string };
const ORIGIN = "http://solvent.test";
const get = (path: string) => exports.default.fetch(`${ORIGIN}${path}`);
const publish = () =>
  exports.default.fetch(`${ORIGIN}/v1/admin/issuers/demo-stable/publish`, {
    method: "POST",
    headers: { authorization: `Bearer ${testEnv.ADMIN_TOKEN}` },
  });

interface Round {
  roundId: string;
  answer: string;
  startedAt: string;
  updatedAt: string;
  answeredInRound: string;
  decimals: string;
}

async function attestation(sequence: string): Promise<Record<string, string>> {
  const res = await get(`/v1/issuers/demo-stable/attestations/${sequence}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { attestation: Record<string, string> }).attestation;
}

/** What the round of an attestation must be, computed here from the SPEC §10 wording. */
function expectedRound(a: Record<string, string>): Round {
  return {
    roundId: a.sequence!,
    answer: (BigInt(a.reservesUsd!) / 10n ** 10n).toString(),
    startedAt: a.observedAt!,
    updatedAt: a.observedAt!,
    answeredInRound: a.sequence!,
    decimals: "8",
  };
}

async function error(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
  expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
}

describe("GET /v1/issuers/{issuer}/feed", () => {
  it("answers 404 before the first attestation and for an unknown issuer", async () => {
    await error(await get("/v1/issuers/demo-stable/feed"), 404, "NOT_FOUND");
    await error(await get("/v1/issuers/nobody/feed"), 404, "UNKNOWN_ISSUER");
  });

  it("follows the latest attestation: answer = floor(reservesUsd / 1e10), roundId = sequence", async () => {
    expect((await publish()).status).toBe(201);
    const first = await get("/v1/issuers/demo-stable/feed");
    expect(first.status).toBe(200);
    expect(first.headers.get("Cache-Control")).toBe("public, max-age=15");
    expect(first.headers.get("Access-Control-Allow-Origin")).toBe("*");
    // A page on another origin can read how old a cached answer is, and whether it came from the cache.
    const exposed = (first.headers.get("Access-Control-Expose-Headers") ?? "").split(/\s*,\s*/);
    expect(exposed).toEqual(expect.arrayContaining(["Age", "X-Solvent-Cache", "Retry-After", "ETag"]));
    const round1 = (await first.json()) as Round;
    expect(round1).toEqual(expectedRound(await attestation("1")));
    // reserves are far above a dollar, so the 8-decimal answer is not trivially zero
    expect(BigInt(round1.answer)).toBeGreaterThan(10n ** 8n);

    expect((await publish()).status).toBe(201);
    const round2 = (await (await get("/v1/issuers/demo-stable/feed")).json()) as Round;
    expect(round2).toEqual(expectedRound(await attestation("2")));
    expect(round2.roundId).toBe("2");
  });

  it("serves a past round by roundId, cached forever, and refuses a bad or missing one", async () => {
    const res = await get("/v1/issuers/demo-stable/feed?roundId=1");
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("public, max-age=31536000, immutable");
    expect(await res.json()).toEqual(expectedRound(await attestation("1")));

    const missing = await get("/v1/issuers/demo-stable/feed?roundId=99");
    await error(missing, 404, "NOT_FOUND");
    expect(missing.headers.get("Cache-Control")).toBeNull();
    for (const bad of ["0", "abc", "-1", "01", "", "1.5", (1n << 64n).toString()]) {
      const r = await get(`/v1/issuers/demo-stable/feed?roundId=${bad}`);
      expect(r.status, bad).toBe(400);
      const body = (await r.json()) as { error: { code: string; field: string; message: string } };
      expect(body.error).toMatchObject({ code: "INVALID_PARAMETER", field: "roundId" });
      expect(body.error.message).toMatch(/^roundId /);
    }
  });
});
