import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import type { Hono } from "hono";
import { beforeAll, describe, expect, it } from "vitest";
import { bytesToHex, type Hex } from "../../core/bytes.js";
import {
  buildLiabilityTree,
  userCommitment,
  verifyInclusionProof,
  verifyNonInclusionProof,
} from "../../core/liabilities/index.js";
import type { AmountUnits } from "../../core/numbers.js";
import { type AdminLedgerOptions, createAdminLedger } from "../../worker/api/adminLedger.js";
import type { AppEnv } from "../../worker/api/context.js";
import { storable } from "../../worker/api/edgeCache.js";
import { proofRoutes } from "../../worker/api/proofRoutes.js";
import { buildLedger } from "../../worker/ledger/buildLedger.js";
import { type TreeManifest, treeManifestKey } from "../../worker/ledger/ledgerFormat.js";
import { latestCompleteLedger } from "../../worker/ledger/ledgerLifecycle.js";
import { deletePrefix, getLedger, readJson } from "../../worker/ledger/ledgerStore.js";
import { type LedgerFormat, type LedgerRowBatch, parseLedger } from "../../worker/ledger/parseLedger.js";
import { readInclusionProof, readLedgerLeaves, readNonInclusionProof } from "../../worker/ledger/proofLookup.js";
import { handleLedgerBuild, type LedgerBuildMessage, retryDelaySeconds } from "../../worker/ledger/queueConsumer.js";
import { chunkedStream } from "../support/chunkedStream.js";
import {
  checkNonInclusion,
  checkProof,
  hex,
  leafNode,
  commitment as naiveCommitment,
  sumTreeRoot,
  unhex,
} from "../support/independentVerifier.js";
import {
  ASSETS,
  DECIMALS,
  ISSUER,
  type LedgerUser,
  ledgerApp,
  ledgerCsv,
  ledgerNdjson,
  ledgerPublisher,
  ledgerTestEnv,
  makeLedgerUsers,
  TOKEN,
} from "./ledgerFixture.js";

const TWO_128 = 1n << 128n;

const sent: LedgerBuildMessage[] = [];
const testEnv = ledgerTestEnv(sent);

function appWith(options: AdminLedgerOptions = {}): Hono<AppEnv> {
  return ledgerApp(createAdminLedger(options), proofRoutes);
}

/** Parses `text`; the hand-written bodies of these tests are in base units unless `units` says otherwise. */
async function parse(text: string, format: LedgerFormat = "csv", units: AmountUnits = "base") {
  const batches: LedgerRowBatch[] = [];
  const result = await parseLedger(chunkedStream(text, 7), {
    format,
    assets: ASSETS,
    units,
    decimals: DECIMALS,
    onRows: (b) => void batches.push(b),
    batchRows: 5,
  });
  return { ...result, batches };
}

const header = `userId,salt,${ASSETS.join(",")}`;
const salt16 = `0x${"ab".repeat(16)}`;

/** Each upload of this file declares an asOf newer than the one before (two in one second would otherwise be refused as not newer). */
let asOf = Math.floor(Date.now() / 1000) - 100_000;

async function upload(
  app: Hono<AppEnv>,
  body: string,
  format: LedgerFormat,
  token = TOKEN,
  units?: AmountUnits,
): Promise<Response> {
  return app.fetch(
    new Request(
      `https://solvent.test/v1/admin/issuers/${ISSUER}/ledger?asOf=${asOf++}${units === undefined ? "" : `&units=${units}`}`,
      {
        method: "PUT",
        headers: {
          "Content-Type": format === "csv" ? "text/csv" : "application/x-ndjson",
          Authorization: `Bearer ${token}`,
        },
        body: chunkedStream(body, 4096),
        duplex: "half",
      } as RequestInit,
    ),
    testEnv,
  );
}

const publish = ledgerPublisher(testEnv.DB);

async function getProof(app: Hono<AppEnv>, sequence: bigint | string, commitment: string): Promise<Response> {
  return app.fetch(new Request(`https://solvent.test/v1/issuers/${ISSUER}/proofs/${sequence}/${commitment}`), testEnv);
}

/** Checks the stored tree against the core and the independent SPEC §2 implementation, and every user's proof. */
async function checkStoredLedger(
  app: Hono<AppEnv>,
  ledgerId: string,
  users: LedgerUser[],
  root: string,
  sequence: bigint,
) {
  const leaves = (await readLedgerLeaves(testEnv.BUCKET, ledgerId))!;
  expect(leaves).toHaveLength(users.length);
  const expected = new Map(users.map((u) => [bytesToHex(userCommitment(u.salt, u.userId)), u.balances.join()]));
  expect(new Map(leaves.map((l) => [l.commitment, l.balances.join()]))).toEqual(expected);
  // SPEC §2: ascending commitments (fresh salts make that a fresh pseudorandom order), whatever the upload order.
  expect(leaves.map((l) => l.commitment)).toEqual([...expected.keys()].sort());
  expect((await readJson<TreeManifest>(testEnv.BUCKET, treeManifestKey(ledgerId)))?.order).toBe("commitment");
  expect((await getLedger(testEnv.DB, ledgerId))?.leafOrder).toBe("commitment");
  expect(buildLiabilityTree({ assets: ASSETS, rows: leaves }).root).toBe(root);
  expect(hex(sumTreeRoot(leaves.map((l) => leafNode(unhex(l.commitment), l.balances))).hash)).toBe(root);

  for (const u of users) {
    const c = hex(naiveCommitment(u.salt, u.userId));
    const res = await getProof(app, sequence, c);
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("public, max-age=31536000, immutable");
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    const proof = await res.json();
    expect(verifyInclusionProof(proof, { userId: u.userId, salt: u.salt })).toMatchObject({
      ok: true,
      root,
      balances: u.balances,
    });
    expect(checkProof(proof, u.salt, u.userId)).toBeNull();
  }

  // SPEC §2.1: absent commitments before the first leaf, after the last, and just above every leaf get a 404 carrying a proof of absence.
  const above = (c: string) =>
    `${c.slice(0, -2)}${((parseInt(c.slice(-2), 16) + 1) & 0xff).toString(16).padStart(2, "0")}` as Hex;
  const absent = (
    [`0x${"00".repeat(32)}`, `0x${"ff".repeat(32)}`, ...leaves.map((l) => above(l.commitment))] as Hex[]
  ).filter((c) => !expected.has(c));
  for (const c of absent) {
    const res = await getProof(app, sequence, c);
    expect(res.status).toBe(404);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    // A sequence's ledger never changes, so the proof of absence is as immutable as a proof; the edge cache still keeps only 200s.
    expect(res.headers.get("Cache-Control")).toBe("public, max-age=31536000, immutable");
    expect(storable(res)).toBe(false);
    const body = (await res.json()) as { error: { code: string; message: string }; nonInclusion: unknown };
    expect(body.error.code).toBe("NOT_FOUND");
    expect(verifyNonInclusionProof(body.nonInclusion, { commitment: c })).toMatchObject({
      ok: true,
      root,
      leafCount: users.length,
    });
    expect(checkNonInclusion(body.nonInclusion, unhex(c), root, users.length)).toBeNull();
  }
}

describe("parseLedger", () => {
  it("reads CSV and NDJSON into commitments and balances, dropping userId and salt", async () => {
    const users = makeLedgerUsers(12, "p");
    const cases = [
      [ledgerCsv(users), "csv", "decimal"],
      [ledgerNdjson(users), "ndjson", "decimal"],
      [ledgerCsv(users, "base"), "csv", "base"],
      [ledgerNdjson(users, "base"), "ndjson", "base"],
    ] as const;
    for (const [text, format, units] of cases) {
      const r = await parse(text, format, units);
      expect(r.errors).toEqual([]);
      expect(r.rows).toBe(12);
      expect(r.form).toBe("user");
      expect(r.totals).toEqual([
        users.reduce((s, u) => s + u.balances[0]!, 0n),
        users.reduce((s, u) => s + u.balances[1]!, 0n),
      ]);
      const records = r.batches.flatMap((b) =>
        Array.from({ length: b.count }, (_, i) => b.records.subarray(i * 68, (i + 1) * 68)),
      );
      expect(records).toHaveLength(12);
      records.forEach((rec, i) => {
        expect(new DataView(rec.buffer, rec.byteOffset).getUint32(0)).toBe(i + 1);
        expect(bytesToHex(rec.subarray(4, 36))).toBe(bytesToHex(userCommitment(users[i]!.salt, users[i]!.userId)));
      });
    }
  });

  it("reads the commitment form, CRLF line ends, quoted fields and a BOM", async () => {
    const c = bytesToHex(userCommitment(unhex(salt16), "x"));
    const r = await parse(`\uFEFFcommitment,USD,BTC\r\n"${c}",1,"2"\r\n`);
    expect(r.errors).toEqual([]);
    expect(r.form).toBe("commitment");
    expect(r.rows).toBe(1);
  });

  it("lists each bad number form with its row", async () => {
    const bad = ["-1", "1.5", "1e3", "01", "", " 1", "+1", "0x10", "340282366920938463463374607431768211456"];
    const lines = bad.map((v, i) => `u${i},${salt16},${v},0`);
    const r = await parse(`${header}\n${lines.join("\n")}\nok,${salt16},340282366920938463463374607431768211455,0\n`);
    expect(r.errorCount).toBe(bad.length);
    expect(r.errors.map((e) => e.row)).toEqual(bad.map((_, i) => i + 1));
    expect(r.errors[0]!.reason).toMatch(/USD.*negative/);
    expect(r.errors[1]!.reason).toMatch(/fractional/);
    expect(r.errors[2]!.reason).toMatch(/exponent/);
    expect(r.errors[3]!.reason).toMatch(/leading zeros/);
    expect(r.errors[8]!.reason).toMatch(/exceeds the maximum/);
    expect(r.rows).toBe(1);
    expect(r.batches).toEqual([]); // nothing leaves the parser once a row is bad
  });

  it("rejects short and long salts, bad commitments, empty userIds and wrong column counts", async () => {
    const r = await parse(
      [
        header,
        `a,0x${"ab".repeat(15)},1,1`,
        `b,0x${"ab".repeat(33)},1,1`,
        `c,abab,1,1`,
        `,${salt16},1,1`,
        `d,${salt16},1`,
        `e,${salt16},1,1,1`,
      ].join("\n"),
    );
    expect(r.errors.map((e) => e.row)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(r.errors[0]!.reason).toMatch(/16 to 32 bytes, got 15/);
    expect(r.errors[1]!.reason).toMatch(/got 33/);
    expect(r.errors[2]!.reason).toMatch(/0x/);
    expect(r.errors[3]!.reason).toMatch(/userId is empty/);
    expect(r.errors[4]!.reason).toMatch(/expected 4 columns, got 3/);
    expect(r.errors[5]!.reason).toMatch(/expected 4 columns, got 5/);
    const c = await parse(`commitment,USD,BTC\n0x${"12".repeat(31)},1,1\n`);
    expect(c.errors).toEqual([{ row: 1, reason: expect.stringMatching(/32 bytes, got 31/) }]);
  });

  it("rejects a header whose assets are not the issuer's in order (row 0)", async () => {
    for (const h of ["userId,salt,BTC,USD", "userId,salt,USD", "userId,salt,USD,BTC,ETH", "user,salt,USD,BTC"]) {
      const r = await parse(`${h}\nu,${salt16},1,1\n`);
      expect(r.errors).toHaveLength(1);
      expect(r.errors[0]!.row).toBe(0);
      expect(r.rows).toBe(0);
    }
  });

  it("rejects NDJSON rows missing an asset, with extra assets or fields, numbers as JSON numbers, or mixed forms", async () => {
    const c = bytesToHex(userCommitment(unhex(salt16), "x"));
    const lines = [
      JSON.stringify({ userId: "a", salt: salt16, balances: { USD: "1" } }),
      JSON.stringify({ userId: "b", salt: salt16, balances: { USD: "1", BTC: "1", ETH: "1" } }),
      JSON.stringify({ userId: "c", salt: salt16, balances: { USD: 1, BTC: "1" } }),
      JSON.stringify({ userId: "d", salt: salt16, balances: { USD: "1", BTC: "1" }, extra: 1 }),
      "{not json",
      JSON.stringify({ userId: "f", salt: salt16, balances: { USD: "1", BTC: "1" } }),
      JSON.stringify({ commitment: c, balances: { USD: "1", BTC: "1" } }),
    ];
    const r = await parse(lines.join("\n"), "ndjson");
    expect(r.errors.map((e) => e.row)).toEqual([1, 2, 3, 4, 5, 7]);
    expect(r.errors[0]!.reason).toMatch(/miss asset BTC/);
    expect(r.errors[1]!.reason).toMatch(/unknown asset ETH/);
    expect(r.errors[2]!.reason).toMatch(/decimal string/);
    expect(r.errors[3]!.reason).toMatch(/unexpected field "extra"/);
    expect(r.errors[5]!.reason).toMatch(/mixes forms/);
    expect(r.rows).toBe(1);
  });

  it("names both rows of a duplicate userId and of a duplicate commitment", async () => {
    const r = await parse(
      [header, `alice,${salt16},1,1`, `bob,${salt16},1,1`, `alice,0x${"cd".repeat(16)},2,2`].join("\n"),
    );
    expect(r.errors).toEqual([{ row: 3, reason: expect.stringMatching(/duplicate userId "alice": row 1/) }]);
    const c = bytesToHex(userCommitment(unhex(salt16), "x"));
    const d = await parse(
      ["commitment,USD,BTC", `${c},1,1`, `0x${"77".repeat(32)},1,1`, `${c.toUpperCase().replace("0X", "0x")},3,3`].join(
        "\n",
      ),
    );
    expect(d.errors).toEqual([{ row: 3, reason: expect.stringMatching(/duplicate commitment .*row 1/) }]);
  });

  it("rejects an empty body, a body with no rows, and totals reaching 2^128", async () => {
    expect((await parse("")).errors).toEqual([{ row: 0, reason: expect.stringMatching(/empty/) }]);
    expect((await parse("", "ndjson")).errors).toEqual([{ row: 1, reason: expect.stringMatching(/no rows/) }]);
    expect((await parse(`${header}\n`)).errors).toEqual([{ row: 1, reason: expect.stringMatching(/no rows/) }]);
    const max = (TWO_128 - 1n).toString();
    const r = await parse([header, `a,${salt16},${max},0`, `b,${salt16},1,0`].join("\n"));
    expect(r.errors).toEqual([{ row: 2, reason: expect.stringMatching(/total of USD reaches 2\^128/) }]);
  });

  it("reads amounts as whole-unit decimals of each asset's decimals by default, exactly", async () => {
    const r = await parse(
      [
        header,
        `alice,${salt16},1500.25,0.00000001`,
        `bob,0x${"cd".repeat(16)},320000,21`,
        `carol,0x${"ef".repeat(16)},0,0.5`,
      ].join("\n"),
      "csv",
      "decimal",
    );
    expect(r.errors).toEqual([]);
    // USD has 6 decimals, BTC 8: 1500.25 + 320000 + 0 USD and 0.00000001 + 21 + 0.5 BTC, in base units.
    expect(r.totals).toEqual([1_500_250_000n + 320_000_000_000n, 1n + 2_100_000_000n + 50_000_000n]);
    const nd = await parse(
      JSON.stringify({ userId: "a", salt: salt16, balances: { USD: "1500.25", BTC: "0.1" } }),
      "ndjson",
      "decimal",
    );
    expect(nd.errors).toEqual([]);
    expect(nd.totals).toEqual([1_500_250_000n, 10_000_000n]);
  });

  it("names row, column, asset and decimals for more fractional digits than the asset has; keeps refusing every other odd form", async () => {
    const bad = ["1.2345678", "-1", "1e3", "01.5", ".5", "5.", "+1", " 1", ""];
    const lines = bad.map((v, i) => `u${i},${salt16},0,${i === 0 ? "0" : "1"}`.replace(/,0,/, `,${v},`));
    lines.push(`btc,${salt16},1,0.123456789`);
    const r = await parse(`${header}\n${lines.join("\n")}\n`, "csv", "decimal");
    expect(r.errors.map((e) => e.row)).toEqual([...bad.map((_, i) => i + 1), bad.length + 1]);
    expect(r.errors[0]!.reason).toBe(
      'USD (column 3): "1.2345678" has 7 fractional digits; USD has 6 decimals (at most 6 digits after the point)',
    );
    expect(r.errors[1]!.reason).toMatch(/negative/);
    expect(r.errors[2]!.reason).toMatch(/exponent/);
    expect(r.errors[3]!.reason).toMatch(/leading zeros/);
    expect(r.errors[4]!.reason).toMatch(/no digit before the decimal point/);
    expect(r.errors[5]!.reason).toMatch(/ends with a decimal point/);
    expect(r.errors[6]!.reason).toMatch(/sign/);
    expect(r.errors[7]!.reason).toMatch(/white space/);
    expect(r.errors[8]!.reason).toMatch(/empty/);
    expect(r.errors[9]!.reason).toBe(
      'BTC (column 4): "0.123456789" has 9 fractional digits; BTC has 8 decimals (at most 8 digits after the point)',
    );
    const nd = await parse(
      JSON.stringify({ userId: "a", salt: salt16, balances: { USD: "1.0000001", BTC: "1" } }),
      "ndjson",
      "decimal",
    );
    expect(nd.errors).toEqual([
      {
        row: 1,
        reason: expect.stringMatching(/^balances\.USD: "1\.0000001" has 7 fractional digits; USD has 6 decimals/),
      },
    ]);
  });

  it("in base units, tells a fractional amount's writer how to write decimals", async () => {
    const r = await parse(`${header}\nalice,${salt16},1500.25,0\n`);
    expect(r.errors).toEqual([
      {
        row: 1,
        reason: expect.stringMatching(
          /"1500\.25" is fractional: this upload is in base units \(units=base\).*1500\.25/,
        ),
      },
    ]);
  });

  it("gives one clear error per fault: a one-line 100 MiB body, bare-CR line ends, a header rejected before a long line, bad UTF-8", async () => {
    // 100 MiB without a line break, generated as it is read: only "the header line is too long", not also "the body is empty".
    const oneLine = (bytes: number, text = "a") => {
      const chunk = new TextEncoder().encode(text.repeat(Math.ceil((1 << 20) / text.length)).slice(0, 1 << 20));
      let sent = 0;
      return new ReadableStream<Uint8Array>({
        pull(ctl) {
          if (sent >= bytes) return ctl.close();
          ctl.enqueue(chunk);
          sent += chunk.length;
        },
      });
    };
    const csv = await parseLedger(oneLine(100 * 1024 * 1024), {
      format: "csv",
      assets: ASSETS,
      units: "decimal",
      decimals: DECIMALS,
    });
    expect(csv.errors).toEqual([{ row: 0, reason: "the header line is longer than 65536 characters" }]);
    expect(csv.errorCount).toBe(1);
    const nd = await parseLedger(oneLine(100 * 1024 * 1024), {
      format: "ndjson",
      assets: ASSETS,
      units: "decimal",
      decimals: DECIMALS,
    });
    expect(nd.errors).toEqual([{ row: 1, reason: "line longer than 65536 characters" }]);
    expect(nd.errorCount).toBe(1);
    // A file whose lines end in CR alone is one long line: say so.
    const cr = await parse(`${header}\r${`u,${salt16},1,1\r`.repeat(2000)}`);
    expect(cr.errors).toEqual([
      {
        row: 0,
        reason: expect.stringMatching(/header line is longer .*bare carriage return \(CR\); end them with LF or CRLF$/),
      },
    ]);
    // A rejected header stands for every row, long ones included.
    const h = await parse(`userId,salt,ETH\nu,${salt16},${"1".repeat(70_000)}\n`);
    expect(h.errors).toEqual([{ row: 0, reason: expect.stringMatching(/asset columns must be exactly/) }]);
    // Bad UTF-8 in the first bytes: that error alone (not also "empty"), and nothing after it is read.
    const bytes = new Uint8Array([0xff, 0xfe, 0x41, ...new TextEncoder().encode(`\nu,${salt16},x,1\n`)]);
    const utf = await parseLedger(chunkedStream(bytes, 4), { format: "csv", assets: ASSETS, units: "base" });
    expect(utf.errors).toEqual([{ row: 0, reason: expect.stringMatching(/not valid UTF-8/) }]);
    expect(utf.errorCount).toBe(1);
    // A CSV file sent as NDJSON: one error that says so, not one "not a JSON object" per row.
    const users = makeLedgerUsers(150, "as");
    const asNd = await parse(ledgerCsv(users), "ndjson", "decimal");
    expect(asNd.errors).toEqual([
      { row: 1, reason: expect.stringMatching(/^this is a CSV header, not a JSON object: send the file as CSV/) },
    ]);
    expect(asNd.errorCount).toBe(1);
  });

  it("reports the first 100 errors and the total count", async () => {
    const lines = Array.from({ length: 150 }, (_, i) => `u${i},${salt16},x,1`);
    const r = await parse(`${header}\n${lines.join("\n")}`);
    expect(r.errorCount).toBe(150);
    expect(r.errors).toHaveLength(100);
    expect(r.errors[99]!.row).toBe(100);
  });
});

describe("ledger upload, build and proofs", () => {
  const app = appWith();
  const syncUsers = makeLedgerUsers(37, "sync");
  let syncLedger: { ledgerId: string; root: string };
  let syncSequence: bigint;

  beforeAll(async () => {
    const res = await upload(app, ledgerCsv(syncUsers), "csv");
    expect(res.status).toBe(201);
    const body = (await res.json()) as {
      ledgerId: string;
      status: string;
      root: string;
      rootSums: string[];
      users: number;
      statusUrl: string;
    };
    expect(body).toMatchObject({ status: "complete", users: 37 });
    expect(body.rootSums).toEqual(ASSETS.map((_, a) => syncUsers.reduce((s, u) => s + u.balances[a]!, 0n).toString()));
    expect(body.statusUrl).toBe(`https://solvent.test/v1/admin/issuers/${ISSUER}/ledgers/${body.ledgerId}`);
    syncLedger = body;
    syncSequence = await publish(body.ledgerId, body.root as Hex);
  });

  it("builds a small ledger in the request: the root is the core's and the independent re-computation's, every proof verifies", async () => {
    await checkStoredLedger(app, syncLedger.ledgerId, syncUsers, syncLedger.root, syncSequence);
    const status = await app.fetch(
      new Request(`https://solvent.test/v1/admin/issuers/${ISSUER}/ledgers/${syncLedger.ledgerId}`, {
        headers: { Authorization: `Bearer ${TOKEN}` },
      }),
      testEnv,
    );
    expect(await status.json()).toMatchObject({ status: "complete", users: 37, root: syncLedger.root, errors: [] });
  });

  it("accepts NDJSON with ?format and a one-user ledger (empty path)", async () => {
    const one = makeLedgerUsers(1, "solo");
    const res = await app.fetch(
      new Request(`https://solvent.test/v1/admin/issuers/${ISSUER}/ledger?format=ndjson&asOf=${asOf++}`, {
        method: "PUT",
        headers: { Authorization: `Bearer ${TOKEN}` },
        body: ledgerNdjson(one),
      }),
      testEnv,
    );
    expect(res.status).toBe(201);
    const { ledgerId, root } = (await res.json()) as { ledgerId: string; root: Hex };
    const proof = (await readInclusionProof(
      testEnv.BUCKET,
      ledgerId,
      bytesToHex(userCommitment(one[0]!.salt, one[0]!.userId)),
    ))!;
    expect(proof.path).toEqual([]);
    expect(proof.root).toBe(root);
    expect(checkProof(proof, one[0]!.salt, one[0]!.userId)).toBeNull();
  });

  it("answers 404 for a commitment not in the snapshot, 400 for malformed parameters", async () => {
    const unknown = await getProof(app, syncSequence, `0x${"ee".repeat(32)}`);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe("NOT_FOUND");
    expect((await getProof(app, 999n, `0x${"ee".repeat(32)}`)).status).toBe(404);
    for (const [seq, c] of [
      ["01", `0x${"ee".repeat(32)}`],
      ["-1", `0x${"ee".repeat(32)}`],
      ["1", `0x${"ee".repeat(31)}`],
      ["1", "ee".repeat(32)],
      ["1", `0x${"zz".repeat(32)}`],
    ]) {
      const res = await getProof(app, seq!, c!);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("INVALID_PARAMETER");
    }
  });

  it("finds commitments across several index buckets (5,000 rows in the commitment form)", async () => {
    const rows = Array.from({ length: 5000 }, (_, i) => ({
      c: bytesToHex(crypto.getRandomValues(new Uint8Array(32))),
      b: [BigInt(i), 1n],
    }));
    const res = await upload(
      app,
      `commitment,USD,BTC\n${rows.map((r) => `${r.c},${r.b.join(",")}`).join("\n")}\n`,
      "csv",
      TOKEN,
      "base",
    );
    expect(res.status).toBe(201);
    const { ledgerId, root } = (await res.json()) as { ledgerId: string; root: Hex };
    const manifest = await (await testEnv.BUCKET.get(`ledgers/${ledgerId}/manifest.json`))!.json<{
      indexBits: number;
    }>();
    expect(manifest.indexBits).toBe(2);
    const sorted = [...rows].sort((x, y) => (x.c < y.c ? -1 : 1));
    for (const r of [sorted[0]!, sorted[1249]!, sorted[1250]!, sorted[2500]!, sorted[4999]!, ...rows.slice(0, 10)]) {
      const proof = (await readInclusionProof(testEnv.BUCKET, ledgerId, r.c))!;
      expect(proof.root).toBe(root);
      expect(verifyInclusionProof(proof, { commitment: r.c })).toMatchObject({ ok: true, balances: r.b });
    }
    expect(await readInclusionProof(testEnv.BUCKET, ledgerId, `0x${"00".repeat(32)}`)).toBeNull();
    for (const c of [
      `0x${"00".repeat(32)}`,
      `0x${"ff".repeat(32)}`,
      ...sorted.slice(0, 5).map((r) => `${r.c.slice(0, -1)}${r.c.endsWith("f") ? "e" : "f"}`),
    ] as Hex[]) {
      if (rows.some((r) => r.c === c)) continue;
      const absent = (await readNonInclusionProof(testEnv.BUCKET, ledgerId, c))!;
      expect(verifyNonInclusionProof(absent, { commitment: c })).toMatchObject({ ok: true, root, leafCount: 5000 });
    }
    expect(await readNonInclusionProof(testEnv.BUCKET, ledgerId, sorted[7]!.c)).toBeNull();
  });

  it("proves absence where the commitment's index bucket is empty (a binary search over the stored leaves)", async () => {
    // Commitments only in index buckets 0 and 3 (first byte below 0x40 or from 0xc0): buckets 1 and 2 hold nothing.
    const rows = Array.from({ length: 5000 }, (_, i) => {
      const c = crypto.getRandomValues(new Uint8Array(32));
      c[0] = i % 2 === 0 ? c[0]! & 0x3f : c[0]! | 0xc0;
      return { c: bytesToHex(c), b: [BigInt(i), 1n] };
    });
    const res = await upload(
      app,
      `commitment,USD,BTC\n${rows.map((r) => `${r.c},${r.b.join(",")}`).join("\n")}\n`,
      "csv",
    );
    expect(res.status).toBe(201);
    const { ledgerId, root } = (await res.json()) as { ledgerId: string; root: Hex };
    const manifest = (await readJson<TreeManifest>(testEnv.BUCKET, treeManifestKey(ledgerId)))!;
    expect(manifest.indexBits).toBe(2);
    expect(await testEnv.BUCKET.head(`ledgers/${ledgerId}/builds/${manifest.buildId}/index/1.bin`)).toBeNull();
    for (const c of [`0x40${"00".repeat(31)}`, `0x80${"11".repeat(31)}`, `0xbf${"ff".repeat(31)}`] as Hex[]) {
      const absent = (await readNonInclusionProof(testEnv.BUCKET, ledgerId, c))!;
      expect(verifyNonInclusionProof(absent, { commitment: c })).toMatchObject({
        ok: true,
        root,
        left: 2499,
        right: 2500,
      });
      expect(checkNonInclusion(absent, unhex(c), root, 5000)).toBeNull();
    }
  });

  it("refuses an invalid ledger with 422 and the row errors, storing nothing usable", async () => {
    const before = await latestCompleteLedger(testEnv.DB, ISSUER);
    const res = await upload(
      app,
      `${header}\nalice,${salt16},1,1\nbob,${salt16},1.5,1\nalice,${salt16},1,1\n`,
      "csv",
      TOKEN,
      "base",
    );
    expect(res.status).toBe(422);
    const body = (await res.json()) as {
      error: { code: string; ledgerId: string; errors: unknown[]; errorCount: number };
    };
    expect(body.error.code).toBe("LEDGER_INVALID");
    expect(body.error.errorCount).toBe(2);
    expect(body.error.errors).toEqual([
      { row: 2, reason: expect.stringMatching(/fractional/) },
      { row: 3, reason: expect.stringMatching(/duplicate userId "alice": row 1/) },
    ]);
    expect((await getLedger(testEnv.DB, body.error.ledgerId))?.status).toBe("failed");
    expect((await testEnv.BUCKET.list({ prefix: `ledgers/${body.error.ledgerId}/` })).objects).toEqual([]);
    expect(await latestCompleteLedger(testEnv.DB, ISSUER)).toEqual(before);
  });

  it("needs the admin token and a ledger format", async () => {
    expect((await upload(app, ledgerCsv(syncUsers), "csv", "wrong")).status).toBe(403);
    const res = await app.fetch(
      new Request(`https://solvent.test/v1/admin/issuers/${ISSUER}/ledger`, {
        method: "PUT",
        headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "text/plain" },
        body: "x",
      }),
      testEnv,
    );
    expect(res.status).toBe(415);
    const big = await appWith({ maxBytes: 100 }).fetch(
      new Request(`https://solvent.test/v1/admin/issuers/${ISSUER}/ledger`, {
        method: "PUT",
        headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "text/csv" },
        body: chunkedStream(ledgerCsv(syncUsers), 64),
        duplex: "half",
      } as RequestInit),
      testEnv,
    );
    expect(big.status).toBe(413);
  });

  it("keeps a complete ledger immutable and never deletes a ledger", async () => {
    const db = testEnv.DB;
    await expect(
      db
        .prepare("UPDATE ledgers SET root = ?1 WHERE ledger_id = ?2")
        .bind(`0x${"00".repeat(32)}`, syncLedger.ledgerId)
        .run(),
    ).rejects.toThrow(/LEDGER_IMMUTABLE/);
    await expect(
      db.prepare("UPDATE ledgers SET status = 'failed' WHERE ledger_id = ?1").bind(syncLedger.ledgerId).run(),
    ).rejects.toThrow(/LEDGER_IMMUTABLE/);
    await expect(
      db.prepare("DELETE FROM ledgers WHERE ledger_id = ?1").bind(syncLedger.ledgerId).run(),
    ).rejects.toThrow(/LEDGER_IMMUTABLE/);
    await expect(
      db
        .prepare(
          "INSERT OR REPLACE INTO ledgers (ledger_id, issuer_id, status, format, assets_json, created_at) VALUES (?1, 'x', 'validating', 'csv', '[]', 0)",
        )
        .bind(syncLedger.ledgerId)
        .run(),
    ).rejects.toThrow(/LEDGER_IMMUTABLE/);
    expect((await getLedger(db, syncLedger.ledgerId))?.root).toBe(syncLedger.root);
  });

  describe("large ledgers through the queue (threshold lowered to 50)", () => {
    const queued = appWith({ syncRowLimit: 50, shardSize: 8 });
    const users = makeLedgerUsers(117, "big");

    async function startLarge(list: LedgerUser[]): Promise<string> {
      sent.length = 0;
      const res = await upload(queued, ledgerNdjson(list), "ndjson");
      expect(res.status).toBe(202);
      const body = (await res.json()) as { ledgerId: string; status: string; statusUrl: string };
      expect(body.status).toBe("building");
      expect(sent).toEqual([{ ledgerId: body.ledgerId, issuerId: ISSUER }]);
      return body.ledgerId;
    }

    async function deliver(ledgerId: string, attempts: number, bucket: R2Bucket = testEnv.BUCKET) {
      const batch = createMessageBatch<LedgerBuildMessage>("solvent-ledger-builds", [
        { id: `m-${ledgerId}-${attempts}`, timestamp: Date.now(), attempts, body: { ledgerId, issuerId: ISSUER } },
      ]);
      const ctx = createExecutionContext();
      const pending: LedgerBuildMessage[] = [];
      const send = async (messages: LedgerBuildMessage[]) => void pending.push(...messages);
      await handleLedgerBuild(batch, { DB: testEnv.DB, BUCKET: bucket }, { shardSize: 8, send });
      const result = await getQueueResult(batch, ctx);
      // The build fans out over the same queue (shardedBuild.ts): deliver what it sends until nothing is left.
      for (let m = pending.shift(); m !== undefined; m = pending.shift()) {
        const step = createMessageBatch<LedgerBuildMessage>("solvent-ledger-builds", [
          { id: `step-${pending.length}`, timestamp: Date.now(), attempts: 1, body: m },
        ]);
        await handleLedgerBuild(step, { DB: testEnv.DB, BUCKET: bucket }, { shardSize: 8, send });
        expect((await getQueueResult(step, createExecutionContext())).retryMessages).toEqual([]);
      }
      return result;
    }

    it("answers 202, builds in the consumer, and serves proofs that verify", async () => {
      const ledgerId = await startLarge(users);
      expect((await getLedger(testEnv.DB, ledgerId))?.status).toBe("building");
      expect(await latestCompleteLedger(testEnv.DB, ISSUER)).not.toMatchObject({ ledgerId });

      const result = await deliver(ledgerId, 1);
      expect(result.explicitAcks).toEqual([`m-${ledgerId}-1`]);
      expect(result.retryMessages).toEqual([]);
      const ledger = (await getLedger(testEnv.DB, ledgerId))!;
      expect(ledger.status).toBe("complete");
      expect(ledger.rows).toBe(117);
      // The spool is gone once complete; the rows live on in the tree.
      expect((await testEnv.BUCKET.list({ prefix: `ledgers/${ledgerId}/spool/` })).objects).toEqual([]);

      const latest = await latestCompleteLedger(testEnv.DB, ISSUER);
      expect(latest).toEqual({
        ledgerId,
        assets: ASSETS,
        root: ledger.root,
        rootSums: ASSETS.map((_, a) => users.reduce((s, u) => s + u.balances[a]!, 0n)),
        users: 117,
        asOf: ledger.asOf,
        order: "commitment",
      });
      const sequence = await publish(ledgerId, ledger.root!);
      await checkStoredLedger(queued, ledgerId, users, ledger.root!, sequence);

      // A redelivered message is harmless: the complete ledger is left as it is.
      const again = await deliver(ledgerId, 1);
      expect(again.explicitAcks).toHaveLength(1);
      expect(await buildLedger({ db: testEnv.DB, bucket: testEnv.BUCKET }, ledgerId)).toMatchObject({
        status: "complete",
        root: ledger.root,
      });
      expect((await getLedger(testEnv.DB, ledgerId))?.root).toBe(ledger.root);
    });

    it("retries transient failures, then marks the ledger failed and never publishes it", async () => {
      const before = await latestCompleteLedger(testEnv.DB, ISSUER);
      const ledgerId = await startLarge(makeLedgerUsers(60, "flaky"));
      const broken = new Proxy(testEnv.BUCKET, {
        get(target, prop) {
          if (prop === "get")
            return async () => {
              throw new Error("R2 is unavailable");
            };
          const value = Reflect.get(target, prop);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
      const first = await deliver(ledgerId, 1, broken);
      expect(first.explicitAcks).toEqual([]);
      expect(first.retryMessages).toMatchObject([{ msgId: `m-${ledgerId}-1` }]);
      expect(retryDelaySeconds(1)).toBe(30);
      expect((await getLedger(testEnv.DB, ledgerId))?.status).toBe("building");

      const last = await deliver(ledgerId, 4, broken);
      expect(last.explicitAcks).toEqual([`m-${ledgerId}-4`]);
      const failed = (await getLedger(testEnv.DB, ledgerId))!;
      expect(failed.status).toBe("failed");
      expect(failed.error?.reason).toMatch(/after 4 attempts: R2 is unavailable/);
      expect(await latestCompleteLedger(testEnv.DB, ISSUER)).toEqual(before);
      // Failed is final: a late redelivery cannot revive it.
      await deliver(ledgerId, 2);
      expect((await getLedger(testEnv.DB, ledgerId))?.status).toBe("failed");
    });

    it("marks a ledger whose stored rows are gone failed at once, without retrying", async () => {
      const before = await latestCompleteLedger(testEnv.DB, ISSUER);
      const ledgerId = await startLarge(makeLedgerUsers(55, "lost"));
      await deletePrefix(testEnv.BUCKET, `ledgers/${ledgerId}/spool/`);
      const result = await deliver(ledgerId, 1);
      expect(result.explicitAcks).toHaveLength(1);
      expect(result.retryMessages).toEqual([]);
      expect((await getLedger(testEnv.DB, ledgerId))?.error?.reason).toMatch(/rows are missing/);
      expect(await latestCompleteLedger(testEnv.DB, ISSUER)).toEqual(before);
      const status = await queued.fetch(
        new Request(`https://solvent.test/v1/admin/issuers/${ISSUER}/ledgers/${ledgerId}`, {
          headers: { Authorization: `Bearer ${TOKEN}` },
        }),
        testEnv,
      );
      expect(await status.json()).toMatchObject({
        status: "failed",
        reason: expect.stringMatching(/rows are missing/),
      });
    });
  });
});
