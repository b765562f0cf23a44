import { mkdtemp, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ledgerUpload } from "../../scripts/cli/ledgerUpload.js";

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: Buffer;
}

let server: Server;
let base: string;
let tmp: string;
let csvFile: string;
let csvBytes: Buffer;
const received: Received[] = [];
const preflight: Received[] = [];
let respond: (req: Received, res: ServerResponse) => void = () => {};

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const r = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks) };
      // What the CLI reads before it sends (the ledger's assets, the current attestation) is answered here; `received` holds the upload's own requests.
      if (r.method === "GET" && r.url === "/v1/admin/issuers/acme/ledger") {
        preflight.push(r);
        return json(res, 200, {
          issuer: "acme",
          assets: [
            { id: "USD", decimals: 6 },
            { id: "BTC", decimals: 8 },
          ],
          units: ["decimal", "base"],
          defaultUnits: "decimal",
        });
      }
      if (r.method === "GET" && r.url === "/v1/issuers/acme/attestations/latest") {
        preflight.push(r);
        return json(res, 404, { error: { code: "NOT_FOUND", message: "no attestation yet" } });
      }
      received.push(r);
      respond(r, res);
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  tmp = await mkdtemp(join(tmpdir(), "solvent-ledger-"));
  // ~1 MB so the body goes out in many chunks.
  const lines = ["userId,salt,USD,BTC"];
  for (let i = 0; i < 12_000; i++)
    lines.push(`user-${i}-zoë,0x${(i % 256).toString(16).padStart(2, "0").repeat(16)},${i * 7},${i}`);
  csvBytes = Buffer.from(`${lines.join("\n")}\n`);
  csvFile = join(tmp, "ledger.csv");
  await writeFile(csvFile, csvBytes);
});

afterAll(async () => {
  await new Promise((ok) => server.close(ok));
});

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

const notTty = { isTTY: false, write: () => true };

describe("solvent ledger upload", () => {
  it("streams the file intact with the bearer token and prints the root on 201", async () => {
    received.length = 0;
    respond = (_r, res) =>
      json(res, 201, {
        ledgerId: "lg_1",
        status: "complete",
        root: `0x${"ab".repeat(32)}`,
        rootSums: ["5", "6"],
        users: 12_000,
        statusUrl: `${base}/s`,
      });
    const { io, out, err } = capture();
    const code = await ledgerUpload(
      ["upload", csvFile, "--issuer", "acme", "--url", base, "--token", "secret-t", "--yes"],
      io,
      { progress: notTty },
    );
    expect(code).toBe(0);
    expect(received).toHaveLength(1);
    const r = received[0]!;
    expect(r.method).toBe("PUT");
    expect(r.url).toBe("/v1/admin/issuers/acme/ledger?format=csv&units=decimal");
    expect(r.headers.authorization).toBe("Bearer secret-t");
    // Before sending: the ledger's assets (with the token) and the current attestation (public).
    expect(preflight.slice(-2).map((p) => [p.url, p.headers.authorization])).toEqual([
      ["/v1/admin/issuers/acme/ledger", "Bearer secret-t"],
      ["/v1/issuers/acme/attestations/latest", undefined],
    ]);
    expect(r.headers["content-type"]).toBe("text/csv");
    expect(r.headers["transfer-encoding"]).toBe("chunked");
    expect(r.body.equals(csvBytes)).toBe(true);
    expect(out.join("\n")).toContain(`root:     0x${"ab".repeat(32)}`);
    expect(out.join("\n")).toContain("users:    12000");
    expect(err.at(-1)).toBe(`sent ${csvBytes.length} / ${csvBytes.length} bytes (100%)`);
  });

  it("takes the token from SOLVENT_ADMIN_TOKEN and draws a bar on a TTY", async () => {
    received.length = 0;
    respond = (_r, res) =>
      json(res, 201, { ledgerId: "lg_2", status: "complete", root: "0x01", rootSums: ["1"], users: 1 });
    const drawn: string[] = [];
    const { io } = capture();
    const code = await ledgerUpload([csvFile, "--issuer", "acme", "--url", base, "--yes"], io, {
      env: { SOLVENT_ADMIN_TOKEN: "from-env" },
      progress: { isTTY: true, write: (t: string) => drawn.push(t) },
    });
    expect(code).toBe(0);
    expect(received[0]!.headers.authorization).toBe("Bearer from-env");
    expect(drawn.join("")).toMatch(/\[#{30}\] 100%/);
  });

  it("exits 1 and prints the row errors on 422", async () => {
    respond = (_r, res) =>
      json(res, 422, {
        error: {
          code: "LEDGER_INVALID",
          message: "2 invalid row(s); nothing was stored",
          errors: [
            { row: 2, reason: 'USD: "1.5" is fractional' },
            { row: 3, reason: 'duplicate userId "alice": row 1 has the same userId' },
          ],
          errorCount: 150,
        },
      });
    const { io, err } = capture();
    const code = await ledgerUpload(
      ["upload", csvFile, "--issuer", "acme", "--url", base, "--token", "t", "--yes"],
      io,
      { progress: notTty },
    );
    expect(code).toBe(1);
    expect(err).toContain('  row 2: USD: "1.5" is fractional');
    expect(err).toContain('  row 3: duplicate userId "alice": row 1 has the same userId');
    expect(err).toContain("  … and 148 more (150 in all)");
  });

  it("polls the status URL after 202 until the build completes", async () => {
    received.length = 0;
    let polls = 0;
    respond = (r, res) => {
      if (r.method === "PUT")
        return json(res, 202, {
          ledgerId: "lg_3",
          status: "building",
          users: 12_000,
          statusUrl: `${base}/status/lg_3`,
        });
      polls += 1;
      if (polls < 2)
        return json(res, 200, { status: "building", progress: { phase: "build", done: 10, total: 12_000 } });
      return json(res, 200, {
        ledgerId: "lg_3",
        status: "complete",
        root: `0x${"cd".repeat(32)}`,
        rootSums: ["1", "2"],
        users: 12_000,
      });
    };
    const { io, out } = capture();
    const code = await ledgerUpload(
      ["upload", csvFile, "--issuer", "acme", "--url", base, "--token", "t", "--yes"],
      io,
      { progress: notTty, pollIntervalMs: 10 },
    );
    expect(code).toBe(0);
    expect(received.filter((r) => r.method === "GET").map((r) => [r.url, r.headers.authorization])).toEqual([
      ["/status/lg_3", "Bearer t"],
      ["/status/lg_3", "Bearer t"],
    ]);
    expect(out.join("\n")).toContain(`root:     0x${"cd".repeat(32)}`);
  });

  it("exits 1 when the background build fails", async () => {
    respond = (r, res) =>
      r.method === "PUT"
        ? json(res, 202, { ledgerId: "lg_4", status: "building", statusUrl: `${base}/status/lg_4` })
        : json(res, 200, {
            status: "failed",
            reason: "rows 3 and 9 have the same commitment",
            errors: [],
            errorCount: 1,
          });
    const { io, err } = capture();
    expect(
      await ledgerUpload(["upload", csvFile, "--issuer", "acme", "--url", base, "--token", "t", "--yes"], io, {
        progress: notTty,
        pollIntervalMs: 10,
      }),
    ).toBe(1);
    expect(err.join("\n")).toContain("rows 3 and 9 have the same commitment");
  });

  it("exits 1 and says why when the build ends superseded, polled or at once", async () => {
    const superseded = {
      ledgerId: "lg_6",
      status: "superseded",
      asOf: 1767225600,
      root: "0x01",
      rootSums: ["1"],
      users: 1,
    };
    respond = (r, res) =>
      r.method === "PUT"
        ? json(res, 202, { ledgerId: "lg_6", status: "building", statusUrl: `${base}/status/lg_6` })
        : json(res, 200, superseded);
    const polled = capture();
    expect(
      await ledgerUpload(["upload", csvFile, "--issuer", "acme", "--url", base, "--token", "t", "--yes"], polled.io, {
        progress: notTty,
        pollIntervalMs: 10,
      }),
    ).toBe(1);
    expect(polled.err.join("\n")).toContain(
      "ledger lg_6 (asOf 1767225600, 2026-01-01T00:00:00.000Z): built but superseded",
    );
    expect(polled.err.join("\n")).toContain("upload them again with a newer --as-of");
    expect(polled.out.join("\n")).not.toContain("complete");

    respond = (_r, res) => json(res, 201, superseded);
    const atOnce = capture();
    expect(
      await ledgerUpload(["upload", csvFile, "--issuer", "acme", "--url", base, "--token", "t", "--yes"], atOnce.io, {
        progress: notTty,
        pollIntervalMs: 10,
      }),
    ).toBe(1);
    expect(atOnce.err.join("\n")).toContain("built but superseded");
  });

  it("sends --units and --as-of as the upload's query, and refuses bad values before sending", async () => {
    received.length = 0;
    respond = (_r, res) =>
      json(res, 201, { ledgerId: "lg_5", status: "complete", root: "0x01", rootSums: ["1"], users: 1 });
    const { io, err } = capture();
    const baseFile = join(tmp, "base.csv");
    await writeFile(baseFile, "userId,salt,USD,BTC\nalice,0x000102030405060708090a0b0c0d0e0f,1500250000,1\n");
    expect(
      await ledgerUpload(
        [
          baseFile,
          "--issuer",
          "acme",
          "--url",
          base,
          "--token",
          "t",
          "--yes",
          "--units",
          "base",
          "--as-of",
          "1767225600",
        ],
        io,
        { progress: notTty },
      ),
    ).toBe(0);
    expect(received.map((r) => r.url)).toEqual(["/v1/admin/issuers/acme/ledger?format=csv&units=base&asOf=1767225600"]);
    expect(err.join("\n")).toMatch(/USD \(6 decimals\) +1,500\.25/);
    received.length = 0;
    for (const [flag, value, message] of [
      ["--units", "cents", "--units must be decimal"],
      ["--as-of", "1767225600000", "is it milliseconds?"],
      ["--as-of", "2026-01-01", "--as-of must be unix seconds"],
      ["--as-of", "1767225600.5", "--as-of must be unix seconds"],
    ]) {
      expect(
        await ledgerUpload([baseFile, "--issuer", "acme", "--url", base, "--token", "t", "--yes", flag!, value!], io),
      ).toBe(2);
      expect(err.at(-1)).toContain(message);
    }
    // Row errors found while reading the file stop the upload before anything is sent.
    await writeFile(baseFile, "userId,salt,USD,BTC\nalice,0x000102030405060708090a0b0c0d0e0f,1500.2500001,1\n");
    expect(
      await ledgerUpload([baseFile, "--issuer", "acme", "--url", base, "--token", "t", "--yes"], io, {
        progress: notTty,
      }),
    ).toBe(1);
    expect(err).toContain(
      '  row 1: USD (column 3): "1500.2500001" has 7 fractional digits; USD has 6 decimals (at most 6 digits after the point)',
    );
    expect(received).toEqual([]);
  });

  it("exits 2 for a missing file, missing flags or a refused token, sending nothing for unusable input", async () => {
    received.length = 0;
    const { io, err } = capture();
    expect(
      await ledgerUpload(["upload", join(tmp, "nope.csv"), "--issuer", "acme", "--url", base, "--token", "t"], io),
    ).toBe(2);
    expect(err.at(-1)).toMatch(/cannot read .*nope\.csv/);
    expect(await ledgerUpload(["upload", csvFile, "--url", base, "--token", "t"], io)).toBe(2);
    expect(await ledgerUpload(["upload", csvFile, "--issuer", "acme", "--url", base], io, { env: {} })).toBe(2);
    expect(received).toEqual([]);
    respond = (_r, res) => json(res, 403, { error: { code: "FORBIDDEN", message: "the token is not valid" } });
    expect(
      await ledgerUpload(["upload", csvFile, "--issuer", "acme", "--url", base, "--token", "bad", "--yes"], io, {
        progress: notTty,
      }),
    ).toBe(2);
    expect(err.at(-1)).toMatch(/403 FORBIDDEN/);
  });
});
