/**
 * `npx tsx scripts/bench/privateE2e.ts [--users 100000]`
 *
 * A private ledger (SPEC §11) end to end through `wrangler dev`: starts the
 * demo with `demo-private` (anvil + wrangler dev on free ports, throwaway
 * state and secrets), uploads `--users` users to demo-private as one CSV body,
 * times the build through the local queue (start with padding, shuffle,
 * private shards, index, combine) until the status URL says complete, and the
 * CPU the workerd processes spent on it (from /proc); then ticks so an
 * attestation names the ledger and fetches three users' proofs twice each
 * (the first makes the range proofs on demand, the second is the stored
 * bytes), checking each with core's `checkPrivateInclusion` against the
 * attested root. Prints one JSON line per figure. Do not edit the sources
 * while it runs: wrangler dev restarts the Worker on a change.
 */
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { bytesToHex, hexToBytes } from "../../core/bytes.js";
import { userCommitment } from "../../core/liabilities/index.js";
import { checkPrivateInclusion } from "../../core/liabilities/private/index.js";
import { demoLedgerCsv, demoUsers } from "../demo/ledger.js";
import { startDemo } from "../demo/runDemo.js";
import { nodeRangeProofs } from "../lib/rangeProofs.js";

const { values } = parseArgs({ options: { users: { type: "string", default: "100000" } } });
const USERS = Number(values.users);
if (!Number.isSafeInteger(USERS) || USERS < 1 || USERS > 100_000)
  throw new Error("--users must be 1 to 100000 (one request body; larger ledgers go in parts)");
const ISSUER = "demo-private";
const emit = (o: Record<string, unknown>) => console.log(JSON.stringify(o));
const log = (line: string) => console.error(`[bench] ${line}`);

/** CPU seconds (user + system) of every workerd process now running. */
function workerdCpuSeconds(): number {
  const tick = 100; // USER_HZ on Linux
  let total = 0;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      if (name !== "workerd") continue;
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      total += (Number(fields[11]) + Number(fields[12])) / tick;
    } catch {
      // the process ended meanwhile
    }
  }
  return total;
}

async function main() {
  const work = await mkdtemp(join(tmpdir(), "solvent-private-e2e-"));
  const adminToken = bytesToHex(crypto.getRandomValues(new Uint8Array(24))).slice(2);
  const secrets = join(work, "bench.vars");
  await writeFile(
    secrets,
    `SIGNING_KEY=${bytesToHex(crypto.getRandomValues(new Uint8Array(32)))}\nADMIN_TOKEN=${adminToken}\n` +
      `LEDGER_BLINDING_SECRET=${bytesToHex(crypto.getRandomValues(new Uint8Array(32)))}\n`,
  );
  const demo = await startDemo({
    port: 0,
    anvilPort: 0,
    persistTo: join(work, "state"),
    workDir: join(work, "demo"),
    secretFiles: [secrets],
    adminToken,
    users: 10,
    privateIssuer: true,
    log,
    wranglerOutput: process.env.BENCH_WRANGLER_LOG ? "inherit" : "ignore",
  });
  try {
    const auth = { authorization: `Bearer ${adminToken}` };
    const users = demoUsers(USERS, "bench.example", 10n ** 9n);
    const csv = demoLedgerCsv(users);
    const cpu0 = workerdCpuSeconds();
    const t0 = performance.now();
    const res = await fetch(`${demo.base}/v1/admin/issuers/${ISSUER}/ledger`, {
      method: "PUT",
      headers: { ...auth, "content-type": "text/csv" },
      body: csv,
    });
    const text = await res.text();
    if (res.status !== 202) throw new Error(`upload answered ${res.status}: ${text}`);
    const { statusUrl, ledgerId } = JSON.parse(text) as { statusUrl: string; ledgerId: string };
    const accepted = performance.now() - t0;
    let status: { status: string; reason: string | null; root: string | null; private?: { leafCount: number } };
    for (;;) {
      status = (await (await fetch(statusUrl, { headers: auth })).json()) as typeof status;
      if (status.status !== "building" && status.status !== "validating") break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    const built = performance.now() - t0;
    if (status.status !== "complete") throw new Error(`the ledger ended ${status.status}: ${status.reason}`);
    emit({
      bench: "private-e2e-build",
      users: USERS,
      leaves: status.private?.leafCount,
      csvBytes: csv.length,
      uploadAcceptedMs: Math.round(accepted),
      builtMs: Math.round(built),
      workerdCpuS: Math.round((workerdCpuSeconds() - cpu0) * 10) / 10,
      load: readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" "),
    });

    await demo.tick();
    const latest = (await (await fetch(`${demo.base}/v1/issuers/${ISSUER}/attestations/latest`)).json()) as {
      attestation: { sequence: string; liabilitiesRoot: string };
    };
    const { sequence, liabilitiesRoot } = latest.attestation;
    if (liabilitiesRoot.toLowerCase() !== status.root?.toLowerCase())
      throw new Error(`attestation ${sequence} does not name ledger ${ledgerId}`);
    const engine = await nodeRangeProofs();
    for (const u of [users[0]!, users[Math.floor(USERS / 2)]!, users[USERS - 1]!]) {
      const c = bytesToHex(userCommitment(hexToBytes(u.salt, "salt"), u.userId));
      const url = `${demo.base}/v1/issuers/${ISSUER}/proofs/${sequence}/${c}`;
      const times: number[] = [];
      let bytes = "";
      for (let i = 0; i < 2; i++) {
        const t = performance.now();
        const answer = await fetch(url);
        bytes = await answer.text();
        times.push(Math.round(performance.now() - t));
        if (!answer.ok) throw new Error(`proof of ${u.userId} answered ${answer.status}: ${bytes}`);
      }
      const result = checkPrivateInclusion(JSON.parse(bytes), { commitment: hexToBytes(c, "c") }, engine, {
        root: liabilitiesRoot as `0x${string}`,
      });
      if (!result.ok) throw new Error(`proof of ${u.userId} does not verify: ${result.record}: ${result.reason}`);
      emit({
        bench: "private-e2e-proof",
        user: u.userId,
        firstMs: times[0],
        storedMs: times[1],
        jsonBytes: bytes.length,
      });
    }
  } finally {
    await demo.stop();
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  console.error(e.stack ?? e.message);
  process.exit(1);
});
