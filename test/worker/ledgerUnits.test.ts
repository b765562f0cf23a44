/**
 * Amounts as people write them, through the real Worker (the demo world's
 * configuration, workerd, D1, R2, anvil): a ledger saying `1500.25` in the
 * USD column (6 decimals) is attested as exactly 1,500.25 USD of liabilities,
 * read back from the signed report's bytes.
 */
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import * as spec from "../support/independentVerifier.js";

const testEnv = env as unknown as { ADMIN_TOKEN: string };
const ORIGIN = "http://solvent.test";
const admin = (method: string, path: string, body?: string, type = "text/csv") =>
  exports.default.fetch(`${ORIGIN}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${testEnv.ADMIN_TOKEN}`,
      ...(body === undefined ? {} : { "content-type": type }),
    },
    body,
  });

const salt = (n: number) => `0x${n.toString(16).padStart(2, "0").repeat(16)}`;

/** Each upload declares a newer asOf than the one before (two in one second would be refused as not newer). */
const AS_OF = Math.floor(Date.now() / 1000) - 1000;
describe("ledger amounts in whole units, end to end", () => {
  it("an upload of 1500.25 USD yields exactly 1,500.25 USD of liabilities in the signed report", async () => {
    const described = await admin("GET", "/v1/admin/issuers/demo/ledger");
    expect(await described.json()).toEqual({
      issuer: "demo",
      assets: [
        { id: "USD", decimals: 6 },
        { id: "ETH", decimals: 18 },
      ],
      units: ["decimal", "base"],
      defaultUnits: "decimal",
    });

    const upload = await admin(
      "PUT",
      `/v1/admin/issuers/demo/ledger?asOf=${AS_OF}`,
      `userId,salt,USD,ETH\nalice@demo.example,${salt(1)},1500.25,0\n`,
    );
    const ledger = (await upload.json()) as { units: string; rootSums: string[]; root: string };
    expect(upload.status, JSON.stringify(ledger)).toBe(201);
    expect(ledger.units).toBe("decimal");
    expect(ledger.rootSums).toEqual(["1500250000", "0"]);

    const published = await admin("POST", "/v1/admin/issuers/demo/publish");
    expect(published.status, await published.clone().text()).toBe(201);
    const signed = (await (await exports.default.fetch(`${ORIGIN}/v1/issuers/demo/attestations/latest`)).json()) as {
      attestation: Record<string, string>;
      reportUrl: string;
    };
    expect(signed.attestation.liabilitiesRoot).toBe(ledger.root);
    const res = await exports.default.fetch(signed.reportUrl.replace(/^https?:\/\/[^/]+/, ORIGIN));
    const bytes = new Uint8Array(await res.arrayBuffer());
    // The bytes are the signed ones (keccak256 = reportHash), read without our own code.
    expect(spec.hex(spec.keccak(bytes))).toBe(signed.attestation.reportHash);
    const report = JSON.parse(new TextDecoder().decode(bytes)) as {
      liabilities: { assets: { asset: string; source: string; amount: string; decimals: string; valueUsd: string }[] };
      totals: { liabilitiesUsd: string };
    };
    const usd = report.liabilities.assets.find((a) => a.asset === "USD" && a.source === "ledger");
    expect(usd).toMatchObject({ amount: "1500250000", decimals: "6", valueUsd: "1500250000000000000000" });
    // 1,500.25 USD in usd18, and nothing else owed (ETH 0): the attested liabilities.
    expect(report.totals.liabilitiesUsd).toBe("1500250000000000000000");
    expect(signed.attestation.liabilitiesUsd).toBe("1500250000000000000000");
  });

  it("reads base units only when the upload says units=base", async () => {
    const upload = await admin(
      "PUT",
      `/v1/admin/issuers/demo/ledger?units=base&asOf=${AS_OF + 1}`,
      `userId,salt,USD,ETH\nbob@demo.example,${salt(2)},1500250000,0\n`,
    );
    expect(upload.status).toBe(201);
    expect(await upload.json()).toMatchObject({ units: "base", rootSums: ["1500250000", "0"] });
    const slip = await admin(
      "PUT",
      `/v1/admin/issuers/demo/ledger?units=base&asOf=${AS_OF + 2}`,
      `userId,salt,USD,ETH\nbob@demo.example,${salt(2)},1500.25,0\n`,
    );
    expect(slip.status).toBe(422);
    expect(await slip.json()).toMatchObject({
      error: {
        errors: [
          {
            row: 1,
            reason: expect.stringContaining(
              'USD (column 3): "1500.25" is fractional: this upload is in base units (units=base)',
            ),
          },
        ],
      },
    });
  });
});
