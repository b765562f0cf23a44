/**
 * SPEC §10 gate, through the real Worker: attestations are published by the
 * real publisher (admin route or publishTick) against anvil's demo world, and
 * the gate's every reason is provoked, alone and together.
 */
import { env, exports } from "cloudflare:workers";
import { recoverTypedDataAddress } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import {
  ATTESTATION_DOMAIN,
  ATTESTATION_TYPES,
  attestationDigest,
  attestationFromJson,
  verifySignedAttestation,
} from "../../core/attestation.js";
import type { Hex } from "../../core/bytes.js";
import { parseConfig } from "../../core/config/parseConfig.js";
import type { SolventConfig } from "../../core/config/schema.js";
import { parseKeysDocument } from "../../core/keysDocument.js";
import { signOwnership } from "../../core/ownershipProof.js";
import { createApp } from "../../worker/api/app.js";
import type { Env } from "../../worker/env.js";
import { publishTick } from "../../worker/publisher/publishTick.js";
import { storeOddAttestation } from "../support/storedAttestation.js";

const testEnv = env as unknown as Env & { TEST_WORLD: string; ADMIN_TOKEN: string; SIGNING_KEY: Hex };
const world = JSON.parse(testEnv.TEST_WORLD) as { config: unknown };
const config = parseConfig(world.config);
const ttl = config.issuers.find((i) => i.id === "demo-stable")!.policy.ttlSeconds;
const ORIGIN = "http://solvent.test";

const get = (path: string) => exports.default.fetch(`${ORIGIN}${path}`);
const publish = () =>
  exports.default.fetch(`${ORIGIN}/v1/admin/issuers/demo-stable/publish`, {
    method: "POST",
    headers: { authorization: `Bearer ${testEnv.ADMIN_TOKEN}` },
  });
const nowSeconds = () => BigInt(Math.floor(Date.now() / 1000));

interface GateAnswer {
  allow: boolean;
  reasons: { code: string; message: string; flag?: string }[];
  issuer: string;
  evaluatedAt: string;
  criteria: { minRatioBps: string; maxAgeSeconds: string | null; denyFlags: string };
  sequence: string | null;
  ratioBps: string | null;
  flags: string | null;
  ageSeconds: string | null;
  attestation: Record<string, string> | null;
  signature: Hex | null;
  digest: Hex | null;
  signer: string | null;
}

async function gate(query = "", issuer = "demo-stable"): Promise<GateAnswer> {
  const res = await get(`/v1/issuers/${issuer}/gate${query}`);
  expect(res.status).toBe(200);
  expect(res.headers.get("Cache-Control")).toBe("no-store");
  expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
  const body = (await res.json()) as GateAnswer;
  // allow and reasons never disagree
  expect(body.allow).toBe(body.reasons.length === 0);
  return body;
}

const codes = (answer: GateAnswer) => answer.reasons.map((r) => r.code).sort();

/** Waits until the clock has moved past `unixSeconds`. */
async function waitPast(unixSeconds: bigint): Promise<void> {
  while (nowSeconds() <= unixSeconds) await new Promise((resolve) => setTimeout(resolve, 100));
}

function withStablePolicy(edit: (issuer: SolventConfig["issuers"][number]) => void): SolventConfig {
  const copy = structuredClone(config);
  edit(copy.issuers.find((i) => i.id === "demo-stable")!);
  return copy;
}

describe("GET /v1/issuers/{issuer}/gate", () => {
  it("refuses, with a reason, an unknown issuer and an issuer without attestations", async () => {
    const unknown = await gate("", "nobody");
    expect(unknown).toMatchObject({
      allow: false,
      issuer: "nobody",
      sequence: null,
      attestation: null,
      signature: null,
    });
    expect(codes(unknown)).toEqual(["UNKNOWN_ISSUER"]);
    expect(unknown.criteria).toEqual({ minRatioBps: "10000", maxAgeSeconds: null, denyFlags: "0" });

    const empty = await gate();
    expect(empty).toMatchObject({
      allow: false,
      sequence: null,
      ratioBps: null,
      flags: null,
      ageSeconds: null,
      attestation: null,
    });
    expect(codes(empty)).toEqual(["NO_ATTESTATION"]);
  });

  it("echoes an unknown issuer id of 10 KB bounded, in the issuer field and the reason alike", async () => {
    const id = "x".repeat(10_240);
    const res = await get(`/v1/issuers/${id}/gate`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.length).toBeLessThan(1024);
    const answer = JSON.parse(text) as GateAnswer;
    expect(answer.allow).toBe(false);
    expect(answer.issuer).toBe(`${"x".repeat(80)}… (10240 characters)`);
    expect(answer.reasons[0]!.message).toContain("(10240 characters)");
  });

  it("allows a healthy fresh attestation and returns it signed, verifiable by the caller", async () => {
    expect((await publish()).status).toBe(201);
    const answer = await gate();
    expect(answer.allow).toBe(true);
    expect(answer.reasons).toEqual([]);
    expect(answer.criteria).toEqual({ minRatioBps: "10000", maxAgeSeconds: String(ttl), denyFlags: "0" });
    expect(answer.sequence).toBe("1");
    expect(answer.attestation!.sequence).toBe("1");
    expect(answer.ratioBps).toBe(answer.attestation!.ratioBps);
    expect(answer.flags).toBe(answer.attestation!.flags);
    expect(BigInt(answer.ageSeconds!)).toBe(BigInt(answer.evaluatedAt) - BigInt(answer.attestation!.observedAt!));
    expect(Number(answer.ratioBps)).toBeGreaterThanOrEqual(10000);

    // the caller re-derives the digest and recovers the signer, with viem alone …
    const attestation = attestationFromJson(answer.attestation);
    expect(attestationDigest(attestation)).toBe(answer.digest);
    const recovered = await recoverTypedDataAddress({
      domain: ATTESTATION_DOMAIN,
      types: ATTESTATION_TYPES,
      primaryType: "SolvencyAttestation",
      message: attestation,
      signature: answer.signature!,
    });
    expect(recovered.toLowerCase()).toBe(privateKeyToAccount(testEnv.SIGNING_KEY).address.toLowerCase());
    // … and with the core verifier against the published keys document
    const keys = parseKeysDocument(await (await get("/.well-known/solvent/keys.json")).json());
    const check = await verifySignedAttestation({ attestation, signature: answer.signature!, keys });
    expect(check).toMatchObject({ ok: true, reasons: [] });
    expect(check.signer!.toLowerCase()).toBe(answer.signer);
    // the same attestation the attestation routes serve
    const latest = (await (await get("/v1/issuers/demo-stable/attestations/latest")).json()) as { digest: string };
    expect(latest.digest).toBe(answer.digest);
  });

  it("names a ratio below the minimum, and allows at exactly the minimum", async () => {
    const ratio = BigInt((await gate()).ratioBps!);
    const below = await gate(`?minRatioBps=${ratio + 1n}`);
    expect(below.allow).toBe(false);
    expect(codes(below)).toEqual(["RATIO_BELOW_MIN"]);
    expect(below.reasons[0]!.message).toBe(`ratio ${ratio} bps is below the minimum ${ratio + 1n}`);
    expect((await gate(`?minRatioBps=${ratio}`)).allow).toBe(true);
    expect((await gate("?minRatioBps=0")).allow).toBe(true);
  });

  it("names an attestation older than maxAgeSeconds", async () => {
    const { attestation } = await gate();
    await waitPast(BigInt(attestation!.observedAt!));
    const old = await gate("?maxAgeSeconds=0");
    expect(old.allow).toBe(false);
    expect(codes(old)).toEqual(["TOO_OLD"]);
    expect(old.reasons[0]!.message).toMatch(/is \d+ s old, above maxAgeSeconds 0/);
    expect((await gate("?maxAgeSeconds=3600")).allow).toBe(true);
  });

  it("names each denied flag that is set, by name or by bitmask", async () => {
    // A forged ownership signature leaves the treasury unproven: UNPROVEN_OWNERSHIP (bit 3).
    const stranger = privateKeyToAccount("0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a");
    const forged = withStablePolicy((issuer) => {
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
    expect(
      await publishTick({ env: testEnv, config: forged, issuerId: "demo-stable", now: nowSeconds() }),
    ).toMatchObject({ published: true });

    const flagged = await gate("?minRatioBps=0");
    expect(BigInt(flagged.flags!) & (1n << 3n)).toBe(1n << 3n);
    expect(flagged.allow).toBe(true); // flags alone deny nothing unless asked to

    for (const denyFlags of [
      "UNPROVEN_OWNERSHIP",
      "8",
      "STALE_SOURCE,UNPROVEN_OWNERSHIP",
      "3,UNPROVEN_OWNERSHIP",
      "1023",
    ]) {
      const denied = await gate(`?minRatioBps=0&denyFlags=${denyFlags}`);
      expect(denied.allow, denyFlags).toBe(false);
      expect(denied.reasons.filter((r) => r.code === "FLAG_DENIED").map((r) => r.flag)).toContain("UNPROVEN_OWNERSHIP");
      expect(denied.reasons.every((r) => r.code === "FLAG_DENIED")).toBe(true);
    }
    expect((await gate("?minRatioBps=0&denyFlags=3,UNPROVEN_OWNERSHIP")).criteria.denyFlags).toBe(String(3 | 8));
    const notSet = await gate("?minRatioBps=0&denyFlags=LIABILITY_PEG_DEVIATION");
    expect(notSet.allow).toBe((BigInt(notSet.flags!) & (1n << 9n)) === 0n);
  });

  it("names every failed condition at once", async () => {
    const { attestation } = await gate("?minRatioBps=0");
    await waitPast(BigInt(attestation!.observedAt!));
    const answer = await gate("?minRatioBps=4294967295&maxAgeSeconds=0&denyFlags=UNPROVEN_OWNERSHIP");
    expect(answer.allow).toBe(false);
    expect(codes(answer)).toEqual(["FLAG_DENIED", "RATIO_BELOW_MIN", "TOO_OLD"]);
    // still the signed attestation the decision rests on
    expect(answer.attestation).toEqual(attestation);
  });

  it("names an expired attestation (past validUntil) even when maxAgeSeconds would accept it", async () => {
    const shortLived = withStablePolicy((issuer) => {
      issuer.policy.ttlSeconds = 1;
    });
    expect(
      await publishTick({ env: testEnv, config: shortLived, issuerId: "demo-stable", now: nowSeconds() }),
    ).toMatchObject({ published: true });
    const { attestation } = await gate("?minRatioBps=0&maxAgeSeconds=86400");
    const validUntil = BigInt(attestation!.validUntil!);
    expect(validUntil).toBe(BigInt(attestation!.observedAt!) + 1n);
    await waitPast(validUntil);
    const expired = await gate("?minRatioBps=0&maxAgeSeconds=86400");
    expect(expired.allow).toBe(false);
    expect(codes(expired)).toEqual(["EXPIRED"]);
    expect(expired.reasons[0]!.message).toContain(`expired at ${validUntil}`);
    // with the default maxAgeSeconds (the configured ttl) only expiry fails too
    expect(codes(await gate("?minRatioBps=0"))).toEqual(["EXPIRED"]);
  });

  it("fails closed on flag bits SPEC §6 does not define and on an observation from the future", async () => {
    // A record no honest publisher writes, stored directly for the `demo` issuer.
    const signer = privateKeyToAccount(`0x${"44".repeat(32)}`);
    const now = nowSeconds();
    await storeOddAttestation(
      testEnv.DB,
      "demo",
      { observedAt: now + 3600n, validUntil: now + 7200n, flags: 1n << 40n, publishedAt: now },
      signer,
    );
    const answer = await gate("", "demo");
    expect(answer.allow).toBe(false);
    expect(codes(answer)).toEqual(["OBSERVED_IN_FUTURE", "UNKNOWN_FLAGS"]);
    expect(answer.ageSeconds).toBe("0");
    expect(answer.flags).toBe((1n << 40n).toString());
  });

  it("answers 503, never allow, when the attestation store fails", async () => {
    const app = createApp({ rateLimit: { limiter: () => ({ limit: async () => ({ success: true }) }) } });
    const broken = {
      prepare() {
        throw new Error("D1 is unavailable");
      },
    } as unknown as D1Database;
    const res = await app.request(`${ORIGIN}/v1/issuers/demo-stable/gate`, {}, { ...testEnv, DB: broken });
    expect(res.status).toBe(503);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const body = (await res.json()) as { allow?: boolean; error: { code: string; message: string; allow: boolean } };
    expect(body.error.code).toBe("UNAVAILABLE");
    expect(body.error.allow).toBe(false);
    expect(body.allow).toBeUndefined();
  });

  it("answers 400 INVALID_PARAMETER naming the parameter", async () => {
    const cases: [string, string][] = [];
    for (const name of ["minRatioBps", "maxAgeSeconds"]) {
      for (const bad of [
        "abc",
        "-1",
        "1.5",
        "01",
        "",
        "1e4",
        "%2B5",
        "4294967296",
        "99999999999999999999999999",
        "10000%20",
      ]) {
        cases.push([`${name}=${bad}`, name]);
      }
      cases.push([`${name}=1&${name}=2`, name]);
    }
    for (const bad of [
      "4096",
      "18446744073709551616",
      "-1",
      "",
      "NOT_A_FLAG",
      "STALE_SOURCE,,UNDERCOLLATERALIZED",
      "STALE_SOURCE,",
      "0x1",
      "1.0",
      "01",
    ]) {
      cases.push([`denyFlags=${bad}`, "denyFlags"]);
    }
    for (const [query, parameter] of cases) {
      const res = await get(`/v1/issuers/demo-stable/gate?${query}`);
      expect(res.status, query).toBe(400);
      const body = (await res.json()) as { error: { code: string; message: string; field: string } };
      expect(body.error.code, query).toBe("INVALID_PARAMETER");
      expect(body.error.field, query).toBe(parameter);
      expect(body.error.message.startsWith(`${parameter} `), `${query}: ${body.error.message}`).toBe(true);
      expect(Object.keys(body)).toEqual(["error"]);
    }
    const reserved = (await (await get("/v1/issuers/demo-stable/gate?denyFlags=4096")).json()) as {
      error: { message: string };
    };
    expect(reserved.error.message).toMatch(/reserved bits/);
    const unknownName = (await (await get("/v1/issuers/demo-stable/gate?denyFlags=NOT_A_FLAG")).json()) as {
      error: { message: string };
    };
    expect(unknownName.error.message).toMatch(/UNDERCOLLATERALIZED/);
  });
});
