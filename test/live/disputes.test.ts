/**
 * SPEC §12 disputes through the real Worker (wrangler dev with its local D1
 * and R2) and the demo world on anvil: a ledger that omits a receipt holder
 * and shrinks another is disputed with `solvent dispute make --submit`, the
 * next attestation carries DISPUTED, a third party re-checks the stored
 * bundle offline with `solvent dispute verify`, an honest answer is refused
 * with nothing stored, and a ledger with a newer asOf clears the flag.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type LocalAccount, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Hex } from "../../core/bytes.js";
import { hasFlag } from "../../core/flags.js";
import { userCommitmentHex } from "../../core/liabilities/commitment.js";
import { signReceipt } from "../../core/receipt.js";
import { type DemoUser, demoLedgerCsv, demoUsers } from "../../scripts/demo/ledger.js";
import type { RunningDemo } from "../../scripts/demo/runDemo.js";
import { demoReceiptsAccount } from "../../scripts/demo/world.js";
import { type LiveDemo, startLiveDemo } from "../support/liveDemo.js";
import { runCli } from "../support/runCli.js";

let live: LiveDemo;
let demo: RunningDemo;
let dir: string;
let adminToken: string;

beforeAll(async () => {
  live = await startLiveDemo("live-disputes", { users: 6 });
  ({ demo, adminToken, dir } = live);
});

afterAll(async () => {
  await live?.stop();
});

const json = async <T>(path: string): Promise<T> =>
  (await (await fetch(`${demo.base}${path}`, { headers: { "cache-control": "no-cache" } })).json()) as T;

/** Uploads a ledger of `users` (a second after the previous upload, so its asOf is newer), attests it, and returns its asOf. */
async function attestLedger(users: DemoUser[]): Promise<bigint> {
  await new Promise((r) => setTimeout(r, 1100));
  const res = await fetch(`${demo.base}/v1/admin/issuers/demo/ledger`, {
    method: "PUT",
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "text/csv" },
    body: demoLedgerCsv(users),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  await demo.tick();
  const page = await json<{ ledgers: { asOf: string; current: boolean }[] }>("/v1/issuers/demo/ledgers");
  return BigInt(page.ledgers.find((l) => l.current)!.asOf);
}

/** The receipt the demo exchange's account system hands `user` for the ledger of `asOf`, written to a file. */
async function receiptFile(
  user: DemoUser,
  asOf: bigint,
  name: string,
  signer: LocalAccount = demoReceiptsAccount(),
): Promise<string> {
  const signed = await signReceipt(
    {
      issuer: "demo",
      commitment: userCommitmentHex(user.salt, user.userId) as Hex,
      assets: ["USD", "ETH"],
      balances: [BigInt(user.balances.USD), BigInt(user.balances.ETH)],
      asOf,
    },
    signer,
  );
  const file = join(dir, `${name}.receipt.json`);
  await writeFile(file, JSON.stringify(signed));
  return file;
}

const latestFlags = async () =>
  BigInt((await json<{ attestation: { flags: string } }>("/v1/issuers/demo/attestations/latest")).attestation.flags);
const disputeLog = () =>
  json<{ disputes: { summary: { kind: string; asOf: string; id: string }; bundle: unknown }[] }>(
    "/v1/issuers/demo/disputes",
  );

describe("disputes against wrangler dev (SPEC §12)", () => {
  it("an omitted and a shrunk receipt holder file disputes, DISPUTED is set until a newer ledger; an honest answer is refused", async () => {
    const users = demoUsers(6);
    const [honest, omitted, shrunk] = users as [DemoUser, DemoUser, DemoUser];
    // The issuer owes `shrunk` more than it reports, and leaves `omitted` out altogether.
    const reported = users
      .filter((u) => u !== omitted)
      .map((u) => (u === shrunk ? { ...u, balances: { USD: "1", ETH: u.balances.ETH } } : u));
    if (shrunk.balances.USD === "1") shrunk.balances.USD = "2";
    const asOf = await attestLedger(reported);
    expect(hasFlag(await latestFlags(), "DISPUTED")).toBe(false);

    // An honest answer: the ledger lists `honest` with exactly the receipt's balances. `make` refuses to build it…
    const honestReceipt = await receiptFile(honest, asOf, "honest");
    const refusedMake = await runCli(
      "dispute",
      "make",
      "--receipt",
      honestReceipt,
      "--publisher",
      demo.base,
      "--submit",
    );
    expect(refusedMake.code).toBe(1);
    expect(refusedMake.stdout).toMatch(/agrees with the receipt, so there is nothing to dispute/);
    // … and the publisher refuses it when it is filed by hand, storing nothing.
    const latest = await json<{ attestation: { sequence: string }; signature: string; reportUrl: string }>(
      "/v1/issuers/demo/attestations/latest",
    );
    const seq = latest.attestation.sequence;
    const report = await (await fetch(latest.reportUrl)).text();
    const honestCommitment = userCommitmentHex(honest.salt, honest.userId);
    const honestBundle = {
      version: 1,
      receipt: JSON.parse(await readFile(honestReceipt, "utf8")),
      proof: await json(`/v1/issuers/demo/proofs/${seq}/${honestCommitment}`),
      attestation: { attestation: latest.attestation, signature: latest.signature },
      report,
    };
    const post = (body: unknown) =>
      fetch(`${demo.base}/v1/issuers/demo/disputes`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const refused = await post(honestBundle);
    expect(refused.status).toBe(422);
    const refusal = (await refused.json()) as { error: { code: string; step: string; message: string } };
    expect(refusal.error).toMatchObject({ code: "DISPUTE_INVALID", step: "answer" });
    // A receipt signed by a key that is not a receipts key of the issuer: refused at the receipt, before anything is read.
    const forged = JSON.parse(
      await readFile(await receiptFile(omitted, asOf, "forged", privateKeyToAccount(`0x${"42".repeat(32)}`)), "utf8"),
    );
    const forgedAnswer = await post({ ...honestBundle, receipt: forged });
    expect(forgedAnswer.status).toBe(422);
    expect(((await forgedAnswer.json()) as { error: { step: string; message: string } }).error).toMatchObject({
      step: "receipt",
      message: expect.stringMatching(/is not in the keys document/),
    });
    expect((await disputeLog()).disputes).toEqual([]);

    // The omitted user: the publisher's own 404 proves the absence; the dispute is filed and stored.
    const absent = await runCli(
      "dispute",
      "make",
      "--receipt",
      await receiptFile(omitted, asOf, "omitted"),
      "--publisher",
      demo.base,
      "--submit",
      "--json",
    );
    expect(absent.code, absent.stderr).toBe(0);
    const absentResult = JSON.parse(absent.stdout.split("\n").at(-1)!) as {
      dispute: { kind: string; asOf: string; sequence: string };
      filed: { status: number };
    };
    expect(absentResult.dispute).toMatchObject({ kind: "absent", asOf: asOf.toString(), sequence: seq });
    expect(absentResult.filed.status).toBe(201);

    // The shrunk user: the inclusion proof shows 1 base unit of USD against the receipt's amount.
    const shrunkReceipt = await receiptFile(shrunk, asOf, "shrunk");
    const differs = await runCli(
      "dispute",
      "make",
      "--receipt",
      shrunkReceipt,
      "--publisher",
      demo.base,
      "--submit",
      "--json",
    );
    expect(differs.code, differs.stderr).toBe(0);
    const differsResult = JSON.parse(differs.stdout.split("\n").at(-1)!) as {
      dispute: { kind: string; differences: unknown[] };
      filed: { status: number };
    };
    expect(differsResult.dispute).toMatchObject({
      kind: "balance-differs",
      differences: [{ asset: "USD", receipt: shrunk.balances.USD, ledger: "1" }],
    });
    expect(differsResult.filed.status).toBe(201);
    // Filing the same receipt again changes nothing.
    const again = await runCli(
      "dispute",
      "make",
      "--receipt",
      shrunkReceipt,
      "--publisher",
      demo.base,
      "--submit",
      "--json",
    );
    expect(again.code).toBe(0);
    expect((JSON.parse(again.stdout.split("\n").at(-1)!) as { filed: { status: number } }).filed.status).toBe(200);

    const log = await disputeLog();
    expect(log.disputes.map((d) => d.summary.kind).sort()).toEqual(["absent", "balance-differs"]);

    // The next attestation carries DISPUTED, with the reason in its report.
    await demo.tick();
    expect(hasFlag(await latestFlags(), "DISPUTED")).toBe(true);
    const flagged = await json<{ reportUrl: string }>("/v1/issuers/demo/attestations/latest");
    const flags = ((await (await fetch(flagged.reportUrl)).json()) as { flags: { name: string; reason: string }[] })
      .flags;
    expect(flags.find((f) => f.name === "DISPUTED")?.reason).toMatch(
      /^2 valid disputes \(1 omitting a receipt holder, 1 showing other balances than a receipt\)/,
    );

    // A third party re-checks a stored dispute offline: the log's entry and the keys document as files, no network.
    const entryFile = join(dir, "entry.json");
    const keysFile = join(dir, "keys.json");
    await writeFile(entryFile, JSON.stringify(log.disputes[0]));
    await writeFile(keysFile, JSON.stringify(await json("/.well-known/solvent/keys.json")));
    const third = await runCli("dispute", "verify", "--bundle", entryFile, "--keys", keysFile);
    expect(third.code, third.stdout).toBe(0);
    expect(third.stdout.split("\n").at(-1)).toMatch(/^VALID DISPUTE: ledger lg_[0-9a-f]+ of "demo"/);

    // A ledger with a newer asOf (the issuer fixed its books) is attested: DISPUTED clears; the log keeps both disputes.
    await attestLedger(users);
    expect(hasFlag(await latestFlags(), "DISPUTED")).toBe(false);
    expect((await disputeLog()).disputes).toHaveLength(2);
  });
});
