/**
 * `solvent ledger upload` in parts against a real local publisher (the demo
 * world on anvil, the Worker under wrangler dev with its local queue, D1 and
 * R2), started here on free ports with throwaway state: the multi-part path a
 * ledger larger than one Workers request body takes.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { userCommitmentHex } from "../../core/liabilities/commitment.js";
import { verifyInclusionProof } from "../../core/liabilities/index.js";
import { ledgerUpload } from "../../scripts/cli/ledgerUpload.js";
import { demoLedgerCsv, demoUsers } from "../../scripts/demo/ledger.js";
import type { RunningDemo } from "../../scripts/demo/runDemo.js";
import { startLiveDemo, type LiveDemo } from "../support/liveDemo.js";

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

describe("solvent ledger upload in parts, against wrangler dev", () => {
  it("uploads a ledger in parallel parts; the publisher attests its root and every sampled user's proof verifies", async () => {
    const users = demoUsers(3000);
    const file = join(stateDir, "ledger.csv");
    await writeFile(file, demoLedgerCsv(users));
    const { io, out, err } = capture();
    const code = await ledgerUpload(
      [file, "--issuer", "demo", "--url", demo.base, "--token", adminToken, "--part-size", "40K", "--parallel", "3"],
      io,
      { progress: notTty, pollIntervalMs: 300 },
    );
    expect(code, err.join("\n")).toBe(0);
    const parts = Number(/^(\d+) parts of about 40\.0 KiB, 3 at a time$/.exec(err[0] ?? "")?.[1]);
    expect(parts).toBeGreaterThanOrEqual(5);
    expect(out.join("\n")).toMatch(new RegExp(`3000 rows accepted in ${parts} parts, building`));
    expect(out.join("\n")).toContain("users:    3000");
    const root = /^root: +(0x[0-9a-f]{64})$/m.exec(out.join("\n"))![1]!;

    await demo.tick();
    const latest = (await (await fetch(`${demo.base}/v1/issuers/demo/attestations/latest`)).json()) as { attestation: { sequence: string; liabilitiesRoot: string } };
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

  it("names a bad row by its row in the file and abandons the upload", async () => {
    const users = demoUsers(2000);
    const lines = demoLedgerCsv(users).split("\n");
    lines[1500] = `user-bad@demo.example,${users[0]!.salt},-3,0`; // data row 1500 of the file
    const file = join(stateDir, "bad.csv");
    await writeFile(file, lines.join("\n"));
    const { io, err } = capture();
    const code = await ledgerUpload([file, "--issuer", "demo", "--url", demo.base, "--token", adminToken, "--part-size", "30K"], io, { progress: notTty });
    expect(code).toBe(1);
    const text = err.join("\n");
    expect(text).toMatch(/^ {2}row 1500 \(part \d+ row \d+\): /m);
    const ledgerId = /ledger (lg_[0-9a-f]{32}) was abandoned/.exec(text)?.[1];
    expect(ledgerId).toBeDefined();
    const status = (await (await fetch(`${demo.base}/v1/admin/issuers/demo/ledgers/${ledgerId}`, { headers: { authorization: `Bearer ${adminToken}` } })).json()) as Record<string, unknown>;
    expect(status).toMatchObject({ status: "failed", reason: "abandoned by the issuer" });
  });
});
