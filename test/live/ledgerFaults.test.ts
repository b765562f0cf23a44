/**
 * The ledger lifecycle under faults, for real: the demo world on anvil and the
 * Worker under `wrangler dev` (local D1, R2, queues, Durable Objects, state
 * persisted in a temporary directory). A ledger sent as a multi-part upload
 * (always built through the queue, in sharded steps) is killed with SIGKILL
 * of wrangler's whole process group at every build phase (start, shuffle,
 * shard, index, combine, read from the status route); wrangler restarts on the
 * same state, a newer ledger is uploaded and attested meanwhile, and the
 * cron's sweep resumes the old build (LEDGER_RESUME_AFTER_SECONDS=1 here).
 * Every time: the newer ledger stays current, the older ends superseded, no
 * attestation ever names it, and the whole chain re-verifies with the
 * independent verifier. Also: two uploads racing with different asOf, and the
 * same asOf twice.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bytesToHex } from "../../core/bytes.js";
import { type DemoUser, demoLedgerCsv, demoUsers } from "../../scripts/demo/ledger.js";
import {
  type DemoWorld,
  demoCustodianStatement,
  demoRelayerKey,
  deployDemoWorld,
  refreshDemoFeeds,
} from "../../scripts/demo/world.js";
import { type AnvilInstance, getFreePort, startAnvil } from "../../scripts/lib/anvil.js";
import { startWranglerDev, type WranglerDev } from "../../scripts/lib/localWorker.js";
import {
  attestationDigest,
  checkProof,
  commitment,
  hex,
  keccak,
  recoverDigestSigner,
  unhex,
} from "../support/independentVerifier.js";

const ISSUER = "demo";
/** Rows of the ledger killed mid-build: enough for every step kind (64 shuffles, a shard, index groups, combine). */
const LARGE_ROWS = 3000;
/** Every phase of a sharded build the suite kills it in. */
const PHASES = ["start", "shuffle", "shard", "index", "combine"] as const;
type Phase = (typeof PHASES)[number];

let dir: string;
let anvil: AnvilInstance;
let world: DemoWorld;
let dev: WranglerDev;
let envFiles: string[];
let token: string;
let signer: string;
let step = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "solvent-ledger-faults-"));
  token = bytesToHex(crypto.getRandomValues(new Uint8Array(24))).slice(2);
  const key = bytesToHex(crypto.getRandomValues(new Uint8Array(32)));
  const { privateKeyToAccount } = await import("viem/accounts");
  signer = privateKeyToAccount(key).address.toLowerCase();
  anvil = await startAnvil({ port: await getFreePort() });
  world = await deployDemoWorld(anvil.rpcUrl, { ttlSeconds: 600, attestationSigner: privateKeyToAccount(key).address });
  const secrets = join(dir, "secrets.env");
  await writeFile(secrets, `SIGNING_KEY=${key}\nADMIN_TOKEN=${token}\n`, { mode: 0o600 });
  const vars = join(dir, "vars.env");
  await writeFile(
    vars,
    `${[`SOLVENT_CONFIG='${JSON.stringify(world.config)}'`, `RELAYER_KEY=${demoRelayerKey()}`, "LEDGER_RESUME_AFTER_SECONDS=1"].join("\n")}\n`,
  );
  envFiles = [secrets, vars];
  dev = await startWranglerDev({ persistTo: join(dir, "state"), envFiles, startupTimeoutMs: 180_000 });
});

afterAll(async () => {
  await dev?.stop();
  await anvil?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const auth = () => ({ Authorization: `Bearer ${token}` });

async function call(
  method: string,
  path: string,
  body?: string,
  type?: string,
): Promise<{ status: number; json: any }> {
  // A request that never answers fails here, naming itself, instead of as the test's timeout.
  const res = await fetch(`${dev.base}${path}`, {
    method,
    headers: { ...auth(), ...(type ? { "Content-Type": type } : {}) },
    ...(body === undefined ? {} : { body }),
    signal: AbortSignal.timeout(30_000),
  }).catch((e: unknown) => {
    throw new Error(`${method} ${path} got no answer: ${String(e)}\n${dev.output().slice(-2000)}`);
  });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: keep the text for the failure message
  }
  return { status: res.status, json };
}

/** One tick the way a deployed cron runs it: fresh feeds and statement, then scheduled() (publish, sweep, alerts). */
async function tick(): Promise<void> {
  await refreshDemoFeeds(world, BigInt(Math.floor(Date.now() / 1000)), step++);
  const statement = await call(
    "POST",
    `/v1/admin/issuers/${ISSUER}/statements`,
    JSON.stringify(await demoCustodianStatement(BigInt(Math.floor(Date.now() / 1000)))),
    "application/json",
  );
  expect(statement.status, JSON.stringify(statement.json)).toBe(201);
  const res = await fetch(`${dev.base}/__scheduled?cron=${encodeURIComponent("* * * * *")}`);
  expect(res.ok, dev.output().slice(-2000)).toBe(true);
}

async function latestSequence(): Promise<number> {
  const res = await call("GET", `/v1/issuers/${ISSUER}/attestations/latest`);
  return res.status === 200 ? Number(res.json.attestation.sequence) : 0;
}

/** Ticks until a new attestation is published; returns its sequence. */
async function publish(): Promise<number> {
  const before = await latestSequence();
  for (let i = 0; i < 5; i++) {
    await tick();
    const now = await latestSequence();
    if (now > before) return now;
  }
  throw new Error(`no attestation after 5 ticks:\n${dev.output().slice(-3000)}`);
}

/** A multi-part upload (one part): always built through the queue. */
async function uploadParts(users: DemoUser[], asOf: number): Promise<string> {
  const created = await call(
    "POST",
    `/v1/admin/issuers/${ISSUER}/ledgers?asOf=${asOf}`,
    JSON.stringify({ format: "csv" }),
    "application/json",
  );
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  const ledgerId = created.json.ledgerId as string;
  expect(
    (await call("PUT", `/v1/admin/issuers/${ISSUER}/ledgers/${ledgerId}/parts/0`, demoLedgerCsv(users), "text/csv"))
      .status,
  ).toBe(201);
  return ledgerId;
}

async function complete(ledgerId: string): Promise<void> {
  const done = await call(
    "POST",
    `/v1/admin/issuers/${ISSUER}/ledgers/${ledgerId}/complete`,
    JSON.stringify({ parts: 1 }),
    "application/json",
  );
  expect(done.status, JSON.stringify(done.json)).toBe(202);
}

/** An in-request upload. */
async function uploadSmall(users: DemoUser[], asOf: number): Promise<{ status: number; json: any }> {
  return call("PUT", `/v1/admin/issuers/${ISSUER}/ledger?asOf=${asOf}`, demoLedgerCsv(users), "text/csv");
}

async function ledgerStatus(ledgerId: string): Promise<any> {
  return (await call("GET", `/v1/admin/issuers/${ISSUER}/ledgers/${ledgerId}`)).json;
}

/** The phase a status route answer shows, in the suite's names. */
function phaseOf(status: any): Phase | "done" | "waiting" {
  if (status.status !== "building") return status.status === "validating" ? "waiting" : "done";
  const steps = status.progress?.steps;
  if (!steps) return "start";
  if (steps.buckets.done < steps.buckets.total) return steps.buckets.done > 0 ? "shuffle" : "start";
  if (steps.shards.done < steps.shards.total) return "shard";
  if (steps.index.done < steps.index.total) return "index";
  return "combine";
}

/**
 * Uploads a ledger of `users` (multi-part, so it builds through the queue),
 * completes it and kills wrangler's process group as soon as the build shows
 * `phase`, then restarts wrangler on the same state. A short phase (one shard
 * step, say) can pass between two polls: then nothing is killed, the build
 * finishes, and a fresh upload tries again (at most 4 times). Returns the
 * killed ledger's id and asOf, and the phase seen just before the kill.
 */
async function killAt(
  phase: Phase,
  users: DemoUser[],
  nextAsOf: () => number,
): Promise<{ ledgerId: string; asOf: number; seen: Phase | "done" | "waiting" }> {
  let seen: Phase | "done" | "waiting" = "waiting";
  for (let attempt = 0; attempt < 4; attempt++) {
    const asOf = nextAsOf();
    const ledgerId = await uploadParts(users, asOf);
    await complete(ledgerId);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      seen = phaseOf(await ledgerStatus(ledgerId));
      if (seen === phase || seen === "done" || PHASES.indexOf(seen as Phase) > PHASES.indexOf(phase)) break;
    }
    if (seen !== phase) {
      await resumeUntilSettled(ledgerId);
      continue;
    }
    await dev.crash();
    dev = await startWranglerDev({ persistTo: join(dir, "state"), envFiles, startupTimeoutMs: 180_000 });
    return { ledgerId, asOf, seen };
  }
  throw new Error(`never saw a build in phase ${phase} (last seen: ${seen}) in 4 uploads`);
}

/** Ticks (each runs the sweep) until the ledger leaves building. */
async function resumeUntilSettled(ledgerId: string): Promise<any> {
  for (let i = 0; i < 40; i++) {
    const status = await ledgerStatus(ledgerId);
    if (status.status !== "building") return status;
    await new Promise((r) => setTimeout(r, 1100));
    const res = await fetch(`${dev.base}/__scheduled?cron=${encodeURIComponent("* * * * *")}`);
    expect(res.ok).toBe(true);
  }
  throw new Error(`ledger ${ledgerId} never left building:\n${dev.output().slice(-3000)}`);
}

/** Re-verifies attestations 1..latest with the independent verifier: signer, chain, report bytes; returns each one's ledger id. */
async function verifyChain(): Promise<Map<number, string | null>> {
  const latest = await latestSequence();
  const ledgers = new Map<number, string | null>();
  let previous = `0x${"00".repeat(32)}`;
  for (let s = 1; s <= latest; s++) {
    const got = await call("GET", `/v1/issuers/${ISSUER}/attestations/${s}`);
    expect(got.status).toBe(200);
    const a = got.json.attestation as Record<string, string>;
    const digest = attestationDigest(a);
    expect(digest).toBe(got.json.digest);
    expect((await recoverDigestSigner(digest, got.json.signature)).toLowerCase()).toBe(signer);
    expect(a.previous).toBe(previous);
    previous = digest;
    const reportPath = `/v1/issuers/${ISSUER}/reports/${s}`;
    const reportAnswer = await fetch(`${dev.base}${reportPath}`, { signal: AbortSignal.timeout(30_000) }).catch(
      (e: unknown) => {
        throw new Error(`GET ${reportPath} got no answer: ${String(e)}\n${dev.output().slice(-2000)}`);
      },
    );
    const report = new Uint8Array(await reportAnswer.arrayBuffer());
    expect(hex(keccak(report))).toBe(a.reportHash);
    const json = JSON.parse(new TextDecoder().decode(report));
    expect(json.liabilities.root).toBe(a.liabilitiesRoot);
    ledgers.set(s, json.liabilities.ledger?.id ?? json.liabilities.ledger?.ledgerId ?? null);
  }
  return ledgers;
}

/** Checks a few users' proofs at `sequence` with the independent verifier. */
async function checkUsers(sequence: number, users: DemoUser[]): Promise<void> {
  for (const u of [users[0]!, users[users.length - 1]!]) {
    const c = hex(commitment(unhex(u.salt), u.userId));
    const res = await call("GET", `/v1/issuers/${ISSUER}/proofs/${sequence}/${c}`);
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(checkProof(res.json, unhex(u.salt), u.userId)).toBeNull();
  }
}

describe("ledger builds killed with SIGKILL at every phase, against wrangler dev", () => {
  /** Every asOf of the suite counts up from here (all in the past). */
  let asOf = Math.floor(Date.now() / 1000) - 100_000;
  const killedIds: string[] = [];

  it("starts with a current ledger and an attestation naming it", async () => {
    const first = demoUsers(20);
    const res = await uploadSmall(first, asOf++);
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    const seq = await publish();
    await checkUsers(seq, first);
  });

  for (const phase of PHASES) {
    it(`killed at ${phase}: the newer ledger stays current, the older ends superseded and is never attested`, async () => {
      const { ledgerId: oldId, asOf: oldAsOf, seen } = await killAt(phase, demoUsers(LARGE_ROWS), () => asOf++);
      expect(seen).toBe(phase);
      expect((await ledgerStatus(oldId)).status).toBe("building");
      killedIds.push(oldId);

      // Meanwhile a newer ledger arrives and is attested.
      const newer = demoUsers(30);
      const small = await uploadSmall(newer, asOf++);
      expect(small.status, JSON.stringify(small.json)).toBe(201);
      const seq = await publish();
      const current = await call("GET", `/v1/issuers/${ISSUER}/attestations/latest`);
      expect(current.json.attestation.liabilitiesRoot).toBe(small.json.root);

      // The sweep resumes the killed build; it completes for an older asOf and is superseded.
      const settled = await resumeUntilSettled(oldId);
      expect(settled).toMatchObject({ status: "superseded", asOf: oldAsOf, order: "commitment", users: LARGE_ROWS });
      const after = await publish();
      expect((await call("GET", `/v1/issuers/${ISSUER}/attestations/${after}`)).json.attestation.liabilitiesRoot).toBe(
        small.json.root,
      );
      await checkUsers(after, newer);
      expect(after).toBeGreaterThan(seq);

      const history = await call("GET", `/v1/issuers/${ISSUER}/ledgers?limit=3`);
      expect(history.json.ledgers[0]).toMatchObject({
        id: small.json.ledgerId,
        current: true,
        status: "complete",
        attested: { from: String(seq), to: String(after) },
      });
      expect(history.json.ledgers[1]).toMatchObject({
        id: oldId,
        status: "superseded",
        current: false,
        attested: null,
      });
    });
  }

  it("two uploads racing with different asOf: the newer is current whichever lands first; the same asOf twice is refused", async () => {
    const a = demoUsers(25);
    const b = demoUsers(25);
    const older = asOf++;
    const newer = asOf++;
    const [ra, rb] = await Promise.all([uploadSmall(a, older), uploadSmall(b, newer)]);
    expect(rb.status, JSON.stringify(rb.json)).toBe(201);
    // The older either lost the race at the door (409 naming both times) or completed first and was replaced.
    if (ra.status === 409) expect(ra.json.error.message).toContain(`asOf ${older} (`);
    else expect(ra.status).toBe(201);
    const seq = await publish();
    expect((await call("GET", `/v1/issuers/${ISSUER}/attestations/${seq}`)).json.attestation.liabilitiesRoot).toBe(
      rb.json.root,
    );

    const again = await uploadSmall(demoUsers(5), newer);
    expect(again.status).toBe(409);
    expect(again.json.error.message).toContain(`asOf ${newer} (`);
    expect(again.json.error.message).toContain(`has asOf ${newer} (`);
  });

  it("no attestation ever names a killed ledger, and the whole chain re-verifies", async () => {
    const ledgers = await verifyChain();
    expect(ledgers.size).toBeGreaterThanOrEqual(PHASES.length * 2 + 2);
    for (const id of killedIds) expect([...ledgers.values()]).not.toContain(id);
  });
});
