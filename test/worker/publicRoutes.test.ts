import { env as workersEnv } from "cloudflare:workers";
import { Hono } from "hono";
import { keccak256, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Attestation,
  attestationDigest,
  attestationFromJson,
  issuerKey,
  nextAttestation,
  recoverAttestationSigner,
  signAttestation,
  ZERO_HASH,
} from "../../core/attestation.js";
import { type Hex, utf8 } from "../../core/bytes.js";
import { parseConfig } from "../../core/config/parseConfig.js";
import { parseKeysDocument } from "../../core/keysDocument.js";
import type { AppEnv } from "../../worker/api/context.js";
import { ApiError, handleError } from "../../worker/api/errors.js";
import { publicCors } from "../../worker/api/openapi.js";
import { publicRoutes } from "../../worker/api/publicRoutes.js";
import type { Env } from "../../worker/env.js";
import { insertAttestation, type StoredAttestation } from "../../worker/storage/attestationStore.js";
import { putReport, reportKey } from "../../worker/storage/reportStore.js";
import { ensureSigningKey } from "../../worker/storage/signingKeys.js";

// Bindings from wrangler.toml (no generated `wrangler types` here).
const env = workersEnv as unknown as Env;

const signer = privateKeyToAccount(`0x${"33".repeat(32)}`);

const usd = { id: "USD", decimals: 6, pegCurrency: true, prices: [{ kind: "fixed", priceUsd: "1000000000000000000" }] };
const config = parseConfig({
  version: 1,
  issuers: [
    { id: "acme", name: "Acme Dollar", assets: [usd], liabilities: { ledger: { assets: ["USD"] } }, reserves: {} },
    { id: "beta", name: "Beta Dollar", assets: [usd], liabilities: { ledger: { assets: ["USD"] } }, reserves: {} },
  ],
});

/** The app as worker/api/app.ts builds it, with this file's config. */
const app = new Hono<AppEnv>();
app.onError(handleError);
app.notFound((c) => {
  throw new ApiError("NOT_FOUND", `no route for ${c.req.method}`);
});
app.use("*", async (c, next) => {
  c.set("config", config);
  await next();
});
app.use("*", publicCors);
app.route("/", publicRoutes);

const ORIGIN = "https://solvent.example";
const get = (path: string, init?: RequestInit) => app.request(`${ORIGIN}${path}`, init, env);

// Report bytes a JSON round trip would change (spacing, key order, number form).
const reportText = (n: number) => `{"version":1, "issuer":"acme","sequence":"${n}",  "z":1.50,"a":[ ]}\n`;
const chain: StoredAttestation[] = [];

beforeAll(async () => {
  await ensureSigningKey(env.DB, signer.address, 1_600_000_000);
  let previous: Attestation | null = null;
  for (let n = 1; n <= 3; n++) {
    const report = utf8(reportText(n));
    const reportHash = keccak256(report);
    const attestation = nextAttestation(previous, {
      issuer: issuerKey("acme"),
      observedAt: 1_700_000_000n + BigInt(n),
      validUntil: 1_700_003_600n + BigInt(n),
      reservesUsd: 10n ** 24n,
      onchainReservesUsd: 10n ** 24n,
      offchainReservesUsd: 0n,
      liabilitiesUsd: 9n * 10n ** 23n,
      ratioBps: 11111,
      reservesRoot: keccak256(utf8(`reserves ${n}`)),
      liabilitiesRoot: ZERO_HASH,
      flags: n === 3 ? (1n << 2n) | (1n << 63n) : 0n,
      reportHash,
    });
    const record: StoredAttestation = {
      issuerId: "acme",
      attestation,
      digest: attestationDigest(attestation),
      signature: await signAttestation(attestation, signer),
      signer: signer.address.toLowerCase() as Hex,
      reportKey: await putReport(env.BUCKET, "acme", report, reportHash),
      reportHash,
      ledgerId: null,
      publishedAt: 1_700_000_010 + n,
    };
    await insertAttestation(env.DB, record);
    chain.push(record);
    previous = attestation;
  }
});

async function expectError(res: Response, status: number, code: string, extra?: Record<string, unknown>) {
  expect(res.status).toBe(status);
  const body = (await res.json()) as { error: Record<string, unknown> };
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe("string");
  if (extra) expect(body.error).toMatchObject(extra);
  return body;
}

interface AttestationAnswer {
  attestation: Record<string, string>;
  signature: Hex;
  digest: Hex;
  signer: string;
  reportUrl: string;
}

describe("GET /v1/issuers", () => {
  it("lists every configured issuer, with nulls before the first attestation", async () => {
    const res = await get("/v1/issuers");
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("public, max-age=15");
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(await res.json()).toEqual({
      issuers: [
        {
          id: "acme",
          name: "Acme Dollar",
          sequence: "3",
          ratioBps: "11111",
          flags: String((1n << 2n) | (1n << 63n)),
          observedAt: "1700000003",
        },
        { id: "beta", name: "Beta Dollar", sequence: null, ratioBps: null, flags: null, observedAt: null },
      ],
    });
  });
});

describe("attestation routes", () => {
  it("serves the latest attestation, verifiable on its own", async () => {
    const res = await get("/v1/issuers/acme/attestations/latest");
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("public, max-age=15");
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    const body = (await res.json()) as AttestationAnswer;
    expect(Object.keys(body).sort()).toEqual(["attestation", "digest", "reportUrl", "signature", "signer"]);
    const attestation = attestationFromJson(body.attestation);
    expect(attestation).toEqual(chain[2]!.attestation);
    expect(body.attestation.flags).toBe(String((1n << 2n) | (1n << 63n)));
    expect(body.digest).toBe(attestationDigest(attestation));
    expect((await recoverAttestationSigner(attestation, body.signature)).toLowerCase()).toBe(body.signer);
    expect(body.reportUrl).toBe(`${ORIGIN}/v1/issuers/acme/reports/3`);
  });

  it("serves one sequence with an immutable cache header", async () => {
    const res = await get("/v1/issuers/acme/attestations/2");
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("public, max-age=31536000, immutable");
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    const body = (await res.json()) as AttestationAnswer;
    expect(body.attestation.sequence).toBe("2");
    expect(body.attestation.previous).toBe(chain[0]!.digest);
    expect(body.digest).toBe(chain[1]!.digest);
    expect(body.reportUrl).toBe(`${ORIGIN}/v1/issuers/acme/reports/2`);
  });

  it("pages history newest first", async () => {
    const page1 = await get("/v1/issuers/acme/attestations?limit=2");
    expect(page1.status).toBe(200);
    expect(page1.headers.get("Cache-Control")).toBe("public, max-age=15");
    const body1 = (await page1.json()) as { attestations: AttestationAnswer[]; nextBefore: string | null };
    expect(body1.attestations.map((a) => a.attestation.sequence)).toEqual(["3", "2"]);
    expect(body1.nextBefore).toBe("2");
    const page2 = await get(`/v1/issuers/acme/attestations?limit=2&before=${body1.nextBefore}&unknown=1`);
    const body2 = (await page2.json()) as { attestations: AttestationAnswer[]; nextBefore: string | null };
    expect(body2.attestations.map((a) => a.attestation.sequence)).toEqual(["1"]);
    expect(body2.nextBefore).toBeNull();
    const all = (await (await get("/v1/issuers/acme/attestations")).json()) as { attestations: AttestationAnswer[] };
    expect(all.attestations.map((a) => a.attestation.sequence)).toEqual(["3", "2", "1"]);
    const empty = (await (await get("/v1/issuers/beta/attestations")).json()) as {
      attestations: unknown[];
      nextBefore: null;
    };
    expect(empty).toEqual({ issuer: "beta", attestations: [], nextBefore: null });
    const huge = (await (await get(`/v1/issuers/acme/attestations?before=${(1n << 64n) - 1n}&limit=100`)).json()) as {
      attestations: unknown[];
    };
    expect(huge.attestations).toHaveLength(3);
  });

  it("answers 404 UNKNOWN_ISSUER for an issuer not in the configuration", async () => {
    for (const path of [
      "/v1/issuers/nobody/attestations/latest",
      "/v1/issuers/nobody/attestations/1",
      "/v1/issuers/nobody/attestations",
      "/v1/issuers/nobody/reports/1",
    ]) {
      const res = await get(path);
      await expectError(res, 404, "UNKNOWN_ISSUER");
      expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
      expect(res.headers.get("Cache-Control")).toBeNull();
    }
  });

  it("answers 404 NOT_FOUND when there is no such attestation yet", async () => {
    await expectError(await get("/v1/issuers/beta/attestations/latest"), 404, "NOT_FOUND");
    await expectError(await get("/v1/issuers/acme/attestations/4"), 404, "NOT_FOUND");
    await expectError(await get(`/v1/issuers/acme/attestations/${(1n << 64n) - 1n}`), 404, "NOT_FOUND");
    const res = await get("/v1/issuers/acme/reports/4");
    await expectError(res, 404, "NOT_FOUND");
    // A miss must not be cached for a year: the sequence may be published later.
    expect(res.headers.get("Cache-Control")).toBeNull();
  });

  it("answers 400 INVALID_PARAMETER naming the parameter", async () => {
    for (const bad of ["abc", "0", "-1", "01", "1.0", "1e3", "%20", (1n << 64n).toString()]) {
      await expectError(await get(`/v1/issuers/acme/attestations/${bad}`), 400, "INVALID_PARAMETER", {
        field: "sequence",
      });
      await expectError(await get(`/v1/issuers/acme/reports/${bad}`), 400, "INVALID_PARAMETER", { field: "sequence" });
      await expectError(await get(`/v1/issuers/acme/attestations?before=${bad}`), 400, "INVALID_PARAMETER", {
        field: "before",
      });
    }
    for (const bad of ["0", "101", "-5", "abc", "", "020", "99999999999999999999"]) {
      await expectError(await get(`/v1/issuers/acme/attestations?limit=${bad}`), 400, "INVALID_PARAMETER", {
        field: "limit",
      });
    }
    const ok = await get("/v1/issuers/acme/attestations?limit=100");
    expect(ok.status).toBe(200);
  });
});

describe("history ranges and CSV", () => {
  const csvRows = (text: string) =>
    text
      .trimEnd()
      .split("\r\n")
      .map((line) => line.split(","));

  it("answers a from/to range in JSON, newest first like the pages", async () => {
    const body = (await (await get("/v1/issuers/acme/attestations?from=2&to=3")).json()) as {
      attestations: AttestationAnswer[];
      nextBefore: null;
    };
    expect(body.attestations.map((a) => a.attestation.sequence)).toEqual(["3", "2"]);
    expect(body.nextBefore).toBeNull();
    const open = (await (await get("/v1/issuers/acme/attestations?from=2")).json()) as {
      attestations: AttestationAnswer[];
    };
    expect(open.attestations.map((a) => a.attestation.sequence)).toEqual(["3", "2"]);
    const upTo = (await (await get("/v1/issuers/acme/attestations?to=1")).json()) as {
      attestations: AttestationAnswer[];
    };
    expect(upTo.attestations.map((a) => a.attestation.sequence)).toEqual(["1"]);
    const beyond = (await (await get(`/v1/issuers/acme/attestations?from=${(1n << 64n) - 5n}`)).json()) as {
      attestations: unknown[];
    };
    expect(beyond.attestations).toEqual([]);
  });

  it("serves the range as CSV, oldest first, every row still verifiable", async () => {
    const res = await get("/v1/issuers/acme/attestations?from=1&to=3&format=csv");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^text\/csv; charset=utf-8/);
    expect(res.headers.get("Content-Disposition")).toBe('attachment; filename="acme-attestations-1-3.csv"');
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    const text = await res.text();
    expect(text.endsWith("\r\n")).toBe(true);
    const [header, ...rows] = csvRows(text);
    expect(header).toEqual([
      "issuer",
      "sequence",
      "observedAt",
      "validUntil",
      "reservesUsd",
      "onchainReservesUsd",
      "offchainReservesUsd",
      "liabilitiesUsd",
      "ratioBps",
      "flags",
      "previous",
      "reservesRoot",
      "liabilitiesRoot",
      "reportHash",
      "issuerKey",
      "digest",
      "signer",
      "signature",
      "reportUrl",
      "observedAtUtc",
      "reservesDollars",
      "liabilitiesDollars",
      "ratioPercent",
      "flagNames",
    ]);
    expect(rows.map((r) => r[1])).toEqual(["1", "2", "3"]);
    for (const [i, row] of rows.entries()) {
      const cell = Object.fromEntries(header!.map((name, j) => [name, row[j]!]));
      const stored = chain[i]!;
      // The signed fields re-form the attestation: its digest and signature check out from the CSV alone.
      expect(cell.issuerKey).toBe(issuerKey(cell.issuer!));
      const attestation = attestationFromJson({
        issuer: cell.issuerKey,
        ...Object.fromEntries(
          [
            "sequence",
            "previous",
            "observedAt",
            "validUntil",
            "reservesUsd",
            "onchainReservesUsd",
            "offchainReservesUsd",
            "liabilitiesUsd",
            "ratioBps",
            "reservesRoot",
            "liabilitiesRoot",
            "flags",
            "reportHash",
          ].map((k) => [k, cell[k]]),
        ),
      });
      expect(attestationDigest(attestation)).toBe(cell.digest);
      expect(await recoverAttestationSigner(attestation, cell.signature as Hex)).toBe(signer.address);
      expect(cell.digest).toBe(stored.digest);
      expect(cell.reportUrl).toBe(`${ORIGIN}/v1/issuers/acme/reports/${i + 1}`);
      expect(cell.observedAtUtc).toBe(new Date((1_700_000_000 + i + 1) * 1000).toISOString());
      expect(cell.reservesDollars).toBe("1000000.000000000000000000");
      expect(cell.liabilitiesDollars).toBe("900000.000000000000000000");
      expect(cell.ratioPercent).toBe("111.11");
    }
    expect(rows[0]![header!.indexOf("flagNames")]).toBe("");
    expect(rows[2]![header!.indexOf("flagNames")]).toBe("PRICE_DIVERGENCE reserved bits 0x8000000000000000");
  });

  it("serves the latest page as CSV when no range is given, and an empty range as a header alone", async () => {
    const page = csvRows(await (await get("/v1/issuers/acme/attestations?limit=2&format=csv")).text());
    expect(page.slice(1).map((r) => r[1])).toEqual(["2", "3"]);
    const empty = await get("/v1/issuers/beta/attestations?from=1&to=10&format=csv");
    expect(empty.headers.get("Content-Disposition")).toBe('attachment; filename="beta-attestations-1-10.csv"');
    expect(csvRows(await empty.text())).toHaveLength(1);
  });

  it("refuses ranges it cannot answer, naming the parameter", async () => {
    await expectError(await get("/v1/issuers/acme/attestations?from=3&to=2"), 400, "INVALID_PARAMETER", {
      field: "to",
    });
    const tooWide = await expectError(
      await get("/v1/issuers/acme/attestations?from=1&to=1001"),
      400,
      "INVALID_PARAMETER",
      { field: "to" },
    );
    expect((tooWide.error as { message: string }).message).toContain("at most 1000");
    expect((await get("/v1/issuers/acme/attestations?from=1&to=1000")).status).toBe(200);
    await expectError(await get("/v1/issuers/acme/attestations?from=1&before=3"), 400, "INVALID_PARAMETER", {
      field: "from",
    });
    await expectError(await get("/v1/issuers/acme/attestations?to=2&limit=5"), 400, "INVALID_PARAMETER", {
      field: "from",
    });
    await expectError(await get("/v1/issuers/acme/attestations?from=0"), 400, "INVALID_PARAMETER", { field: "from" });
    await expectError(await get("/v1/issuers/acme/attestations?format=xml"), 400, "INVALID_PARAMETER", {
      field: "format",
    });
    await expectError(await get("/v1/issuers/nobody/attestations?format=csv"), 404, "UNKNOWN_ISSUER");
  });
});

describe("GET /v1/issuers/:issuer/reports/:sequence", () => {
  it("serves the stored bytes verbatim as application/json, immutable", async () => {
    for (const n of [1, 2, 3]) {
      const res = await get(`/v1/issuers/acme/reports/${n}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("Content-Type")).toBe("application/json");
      expect(res.headers.get("Cache-Control")).toBe("public, max-age=31536000, immutable");
      expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
      const bytes = new Uint8Array(await res.arrayBuffer());
      expect(toHex(bytes)).toBe(toHex(utf8(reportText(n))));
      // SPEC §4: the served bytes hash to the attestation's reportHash.
      expect(keccak256(bytes)).toBe(chain[n - 1]!.attestation.reportHash);
    }
  });

  it("keeps serving the original bytes after an attempt to store different ones", async () => {
    const key = reportKey("acme", chain[0]!.reportHash);
    await expect(putReport(env.BUCKET, "acme", utf8("{}"), chain[0]!.reportHash)).rejects.toThrow();
    expect(key).toBe(chain[0]!.reportKey);
    const res = await get("/v1/issuers/acme/reports/1");
    expect(await res.text()).toBe(reportText(1));
  });
});

describe("GET /.well-known/solvent/keys.json", () => {
  it("serves the SPEC §7 keys document", async () => {
    const res = await get("/.well-known/solvent/keys.json");
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("public, max-age=15");
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    const body = await res.json();
    expect(body).toEqual({
      keys: [{ address: signer.address.toLowerCase(), validFrom: 1_600_000_000, validUntil: null }],
    });
    expect(() => parseKeysDocument(body)).not.toThrow();
  });
});

describe("CORS preflight", () => {
  it("answers OPTIONS on public routes", async () => {
    const res = await get("/v1/issuers/acme/attestations/latest", {
      method: "OPTIONS",
      headers: { Origin: "https://app.example", "Access-Control-Request-Method": "GET" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(res.headers.get("Access-Control-Allow-Methods")).toContain("GET");
    const keys = await get("/.well-known/solvent/keys.json", { method: "OPTIONS" });
    expect(keys.status).toBe(204);
  });

  it("does not spread CORS to routes outside the public API", async () => {
    const res = await get("/v1/admin/issuers/acme/statements", { method: "OPTIONS" });
    expect(res.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });
});
