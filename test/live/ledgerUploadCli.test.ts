/**
 * `solvent ledger upload` against a real local publisher (the demo world on
 * anvil, the Worker under wrangler dev with its local queue, D1 and R2),
 * started here on free ports with throwaway state: the unit-slip guard and
 * the confirmation against the demo's published ledger, then the multi-part
 * path a ledger larger than one Workers request body takes.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { userCommitmentHex } from "../../core/liabilities/commitment.js";
import { verifyInclusionProof } from "../../core/liabilities/index.js";
import { ledgerUpload } from "../../scripts/cli/ledgerUpload.js";
import { type DemoUser, demoLedgerCsv, demoUsers } from "../../scripts/demo/ledger.js";
import type { RunningDemo } from "../../scripts/demo/runDemo.js";
import { type LiveDemo, startLiveDemo } from "../support/liveDemo.js";

let live: LiveDemo;
let demo: RunningDemo;
let stateDir: string;
let adminToken: string;

beforeAll(async () => {
  live = await startLiveDemo("live-ledger", { users: 10 });
  ({ demo, adminToken, dir: stateDir } = live);
});

afterAll(async () => {
  await live?.stop();
});

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

const notTty = { isTTY: false, write: () => true };

/** The demo ledger with its amounts in base units, as an exporter that forgets the decimals writes it. */
const baseUnitsCsv = (users: DemoUser[]) =>
  `userId,salt,USD,ETH\n${users.map((u) => `${u.userId},${u.salt},${u.balances.USD},${u.balances.ETH}`).join("\n")}\n`;

async function latestReport(): Promise<{
  sequence: string;
  report: { liabilities: { assets: { asset: string; source: string; amount: string }[] } };
}> {
  const latest = (await (await fetch(`${demo.base}/v1/issuers/demo/attestations/latest`)).json()) as {
    attestation: { sequence: string };
    reportUrl: string;
  };
  return { sequence: latest.attestation.sequence, report: await (await fetch(latest.reportUrl)).json() };
}

describe("solvent ledger upload: totals, the unit-slip guard and confirmation, against wrangler dev", () => {
  it("refuses a base-units file read as whole units (a 10^6 / 10^18 jump), sending nothing; --units base reads it, and a script must say --yes", async () => {
    const users = demoUsers(10);
    const file = join(stateDir, "base-units.csv");
    await writeFile(file, baseUnitsCsv(users));
    const before = await latestReport();

    const slip = capture();
    const refused = await ledgerUpload(
      [file, "--issuer", "demo", "--url", demo.base, "--token", adminToken, "--yes"],
      slip.io,
      { progress: notTty },
    );
    const slipText = slip.err.join("\n");
    expect(refused, slipText).toBe(2);
    expect(slipText).toMatch(/^ {2}USD \(6 decimals\) /m);
    expect(slipText).toMatch(
      /refused: USD \(x[0-9,]+\.\d\), ETH \(x[0-9,]+\.\d\) would move more than 100x against the current ledger; nothing was sent/,
    );
    expect(slipText).toContain("Check --units (now decimal)");

    // The same file declared as base units: totals within 100x of the demo's, but stdin is no terminal and there is no --yes.
    const unconfirmed = capture();
    expect(
      await ledgerUpload(
        [file, "--issuer", "demo", "--url", demo.base, "--token", adminToken, "--units", "base"],
        unconfirmed.io,
        { progress: notTty, interactive: false },
      ),
    ).toBe(2);
    expect(unconfirmed.err.at(-1)).toBe(
      "stdin is not a terminal, so nobody can confirm these totals: nothing was sent. Pass --yes to upload from a script.",
    );
    // Someone at a terminal who answers no.
    const declined = capture();
    const asked: string[] = [];
    const no = await ledgerUpload(
      [file, "--issuer", "demo", "--url", demo.base, "--token", adminToken, "--units", "base"],
      declined.io,
      {
        progress: notTty,
        interactive: true,
        confirm: async (q) => {
          asked.push(q);
          return false;
        },
      },
    );
    expect(no).toBe(2);
    expect(asked).toEqual([`upload 10 users to ${new URL(demo.base).origin} for issuer "demo"? [y/N] `]);
    expect(declined.err.at(-1)).toBe("not confirmed: nothing was sent");
    await demo.tick();
    const untouched = await latestReport();
    // The same ledger amounts are owed (prices may move between ticks: the demo's price keeper runs).
    const ledgerAmounts = (r: typeof before) =>
      r.report.liabilities.assets.map(({ asset, source, amount }) => ({ asset, source, amount }));
    expect(ledgerAmounts(untouched)).toEqual(ledgerAmounts(before));

    // Confirmed: stored, and the next attestation owes exactly these base units.
    const ok = capture();
    expect(
      await ledgerUpload(
        [file, "--issuer", "demo", "--url", demo.base, "--token", adminToken, "--units", "base", "--yes"],
        ok.io,
        { progress: notTty },
      ),
    ).toBe(0);
    await demo.tick();
    const after = await latestReport();
    const owed = (asset: string) =>
      after.report.liabilities.assets.find((a) => a.asset === asset && a.source === "ledger")!.amount;
    expect(owed("USD")).toBe(users.reduce((s, u) => s + BigInt(u.balances.USD), 0n).toString());
    expect(owed("ETH")).toBe(users.reduce((s, u) => s + BigInt(u.balances.ETH), 0n).toString());
  });
});

describe("solvent ledger upload in parts, against wrangler dev", () => {
  it("uploads a ledger in parallel parts; the publisher attests its root and every sampled user's proof verifies", async () => {
    const users = demoUsers(3000);
    const file = join(stateDir, "ledger.csv");
    await writeFile(file, demoLedgerCsv(users));
    // The upload's asOf defaults to its own second and must be newer than the ledger before it (SPEC §4): never the same second.
    await new Promise((r) => setTimeout(r, 1100));
    const { io, out, err } = capture();
    const code = await ledgerUpload(
      // 3,000 users against the 10 the demo attests: a real change beyond 100x, so it is allowed explicitly.
      [
        file,
        "--issuer",
        "demo",
        "--url",
        demo.base,
        "--token",
        adminToken,
        "--part-size",
        "40K",
        "--parallel",
        "3",
        "--yes",
        "--allow-large-change",
      ],
      io,
      { progress: notTty, pollIntervalMs: 300 },
    );
    expect(code, err.join("\n")).toBe(0);
    expect(err.join("\n")).toMatch(/--allow-large-change: uploading although USD \(x[0-9,.]+\)/);
    const parts = Number(/^(\d+) parts of about 40\.0 KiB, 3 at a time$/m.exec(err.join("\n"))?.[1]);
    expect(parts).toBeGreaterThanOrEqual(5);
    expect(out.join("\n")).toMatch(new RegExp(`3000 rows accepted in ${parts} parts, building`));
    expect(out.join("\n")).toContain("users:    3000");
    const root = /^root: +(0x[0-9a-f]{64})$/m.exec(out.join("\n"))![1]!;

    await demo.tick();
    const latest = (await (await fetch(`${demo.base}/v1/issuers/demo/attestations/latest`)).json()) as {
      attestation: { sequence: string; liabilitiesRoot: string };
    };
    expect(latest.attestation.liabilitiesRoot).toBe(root);
    for (const i of [0, 1499, 2999]) {
      const u = users[i]!;
      const commitment = userCommitmentHex(u.salt, u.userId);
      const res = await fetch(`${demo.base}/v1/issuers/demo/proofs/${latest.attestation.sequence}/${commitment}`);
      expect(res.status).toBe(200);
      const check = verifyInclusionProof(await res.json(), { userId: u.userId, salt: u.salt });
      expect(check).toMatchObject({ ok: true, root, balances: [BigInt(u.balances.USD), BigInt(u.balances.ETH)] });
    }
  });

  it("names a bad row by its row in the file before sending anything", async () => {
    const users = demoUsers(2000);
    const lines = demoLedgerCsv(users).split("\n");
    lines[1500] = `user-bad@demo.example,${users[0]!.salt},-3,0`; // data row 1500 of the file
    const file = join(stateDir, "bad.csv");
    await writeFile(file, lines.join("\n"));
    const { io, err } = capture();
    const code = await ledgerUpload(
      [file, "--issuer", "demo", "--url", demo.base, "--token", adminToken, "--part-size", "30K", "--yes"],
      io,
      { progress: notTty },
    );
    expect(code).toBe(1);
    const text = err.join("\n");
    // The file is read as the publisher reads it before any part is sent: the row of the file, the publisher's reason.
    expect(text).toContain(`ledger rejected: 1 invalid row(s) in ${file}; nothing was sent`);
    expect(text).toMatch(/^ {2}row 1500: USD \(column 3\): "-3" is negative$/m);
    expect(text).not.toMatch(/parts of about/);
  });
});
