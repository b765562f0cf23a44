/**
 * The Chainlink external adapter through the real Worker: the standard
 * request, the standard answer with the signed attestation (checked here with
 * core's verification against the published keys), and every error in the
 * adapter's own shape.
 */
import { env, exports } from "cloudflare:workers";
import { privateKeyToAccount } from "viem/accounts";
import { beforeAll, describe, expect, it } from "vitest";
import { attestationDigest, attestationFromJson, issuerKey, verifySignedAttestation } from "../../core/attestation.js";
import type { Hex } from "../../core/bytes.js";
import { parseConfig } from "../../core/config/parseConfig.js";
import { parseKeysDocument } from "../../core/keysDocument.js";
import type { Env } from "../../worker/env.js";
import { publishTick } from "../../worker/publisher/publishTick.js";
import { storeOddAttestation } from "../support/storedAttestation.js";

const ORIGIN = "http://solvent.test";
const testEnv = env as unknown as Env;
const config = parseConfig(JSON.parse(testEnv.SOLVENT_CONFIG!));

const adapter = (body: unknown, init: { type?: string; raw?: string } = {}) =>
  exports.default.fetch(`${ORIGIN}/v1/adapters/chainlink`, {
    method: "POST",
    headers: { "content-type": init.type ?? "application/json" },
    body: init.raw ?? JSON.stringify(body),
  });

interface Answer {
  jobRunID: string;
  statusCode: number;
  status: string;
  result: string;
  data: Record<string, unknown> & {
    result: string;
    attestation: Record<string, string>;
    signature: Hex;
    digest: Hex;
    signer: string;
  };
  error?: { name: string; message: string };
}

async function answer(res: Response): Promise<Answer> {
  expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
  const body = (await res.json()) as Answer;
  expect(body.statusCode).toBe(res.status);
  return body;
}

beforeAll(async () => {
  const outcome = await publishTick({
    env: testEnv,
    config,
    issuerId: "demo-stable",
    now: BigInt(Math.floor(Date.now() / 1000)),
  });
  expect(outcome).toMatchObject({ published: true });
});

describe("POST /v1/adapters/chainlink", () => {
  it("answers reserves at the feed's 8 decimals, with the signed attestation, which verifies against the published keys", async () => {
    const res = await adapter({ id: "job-7f3a", data: { issuer: "demo-stable", field: "reserves" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const body = await answer(res);
    expect(body).toMatchObject({ jobRunID: "job-7f3a", statusCode: 200, status: "success" });
    expect(body.result).toBe(body.data.result);

    const attestation = attestationFromJson(body.data.attestation);
    // reserves: floor(reservesUsd / 10^10), exactly the AggregatorV3 answer of GET /feed
    expect(body.data.result).toBe((attestation.reservesUsd / 10n ** 10n).toString());
    const feed = (await (await exports.default.fetch(`${ORIGIN}/v1/issuers/demo-stable/feed`)).json()) as {
      answer: string;
      roundId: string;
    };
    expect(body.data.result).toBe(feed.answer);
    expect(body.data).toMatchObject({
      field: "reserves",
      decimals: 8,
      issuer: "demo-stable",
      sequence: feed.roundId,
      observedAt: attestation.observedAt.toString(),
      validUntil: attestation.validUntil.toString(),
      reservesUsd: attestation.reservesUsd.toString(),
      flags: [],
      reportUrl: `${ORIGIN}/v1/issuers/demo-stable/reports/${attestation.sequence}`,
    });
    expect(attestation.issuer).toBe(issuerKey("demo-stable"));

    // what a node operator does before trusting the number
    expect(body.data.digest).toBe(attestationDigest(attestation));
    const keys = parseKeysDocument(
      await (await exports.default.fetch(`${ORIGIN}/.well-known/solvent/keys.json`)).json(),
    );
    const check = await verifySignedAttestation({ attestation, signature: body.data.signature, keys });
    expect(check).toMatchObject({ ok: true, reasons: [] });
    expect(check.signer!.toLowerCase()).toBe(body.data.signer);
    // a tampered result would not match the signed reservesUsd
    expect(BigInt(body.result) * 10n ** 10n).toBeLessThanOrEqual(attestation.reservesUsd);
    expect((BigInt(body.result) + 1n) * 10n ** 10n).toBeGreaterThan(attestation.reservesUsd);
  });

  it('answers the ratio in bps (4 decimals), and echoes a numeric id as a string or defaults it to "1"', async () => {
    const ratio = await answer(await adapter({ id: 42, data: { issuer: "demo-stable", field: "ratio" } }));
    expect(ratio).toMatchObject({ jobRunID: "42", statusCode: 200 });
    expect(ratio.data).toMatchObject({
      field: "ratio",
      decimals: 4,
      result: ratio.data.attestation.ratioBps,
      ratioBps: ratio.data.attestation.ratioBps,
    });
    expect(ratio.result).toBe(ratio.data.attestation.ratioBps);
    const noId = await answer(await adapter({ data: { issuer: "demo-stable", field: "ratio" } }));
    expect(noId.jobRunID).toBe("1");
  });

  it("answers every error in the adapter shape, with the job's id and a sentence", async () => {
    const cases: [string, unknown, { type?: string; raw?: string }, number, string, RegExp][] = [
      [
        "unknown issuer",
        { id: "a", data: { issuer: "nope", field: "reserves" } },
        {},
        404,
        "UNKNOWN_ISSUER",
        /issuer "nope" is not published here/,
      ],
      [
        "no attestation yet",
        { id: "b", data: { issuer: "demo", field: "reserves" } },
        {},
        404,
        "NO_ATTESTATION",
        /"demo" has no attestation yet/,
      ],
      [
        "bad field",
        { id: "c", data: { issuer: "demo-stable", field: "supply" } },
        {},
        400,
        "INVALID_REQUEST",
        /^data\.field: .*send \{"id"/,
      ],
      ["missing data", { id: "d" }, {}, 400, "INVALID_REQUEST", /^data: /],
      ["not JSON", null, { raw: '{"id": "e", "data": ' }, 400, "INVALID_REQUEST", /not valid JSON/],
      [
        "too large",
        { id: "f", data: { issuer: "demo-stable", field: "reserves", pad: "x".repeat(5000) } },
        {},
        413,
        "PAYLOAD_TOO_LARGE",
        /at most 4096 bytes/,
      ],
      [
        "not JSON content",
        null,
        { type: "text/plain", raw: "reserves please" },
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        /application\/json/,
      ],
    ];
    for (const [name, body, init, status, errorName, message] of cases) {
      const res = await adapter(body, init);
      expect(res.status, name).toBe(status);
      const got = await answer(res);
      expect(got.status, name).toBe("errored");
      expect(got.error?.name, name).toBe(errorName);
      expect(got.error?.message, name).toMatch(message);
      // the id is echoed whenever the body could be read
      const id = (body as { id?: string } | null)?.id;
      expect(got.jobRunID, name).toBe(id !== undefined && status !== 413 ? id : "1");
    }
  });

  it("refuses an expired attestation (503) rather than report a stale number as a fresh round", async () => {
    const signer = privateKeyToAccount(`0x${"45".repeat(32)}`);
    const now = BigInt(Math.floor(Date.now() / 1000));
    await storeOddAttestation(
      testEnv.DB,
      "demo",
      { observedAt: now - 1000n, validUntil: now - 400n, flags: 0n, publishedAt: now - 1000n },
      signer,
    );
    const res = await adapter({ id: "g", data: { issuer: "demo", field: "reserves" } });
    expect(res.status).toBe(503);
    const got = await answer(res);
    expect(got).toMatchObject({ jobRunID: "g", status: "errored", error: { name: "ATTESTATION_EXPIRED" } });
    expect(got.error!.message).toMatch(new RegExp(`#1\\) expired at ${now - 400n}`));
  });
});
