/**
 * End-to-end ledger benchmark through the real Worker code path:
 * `npx tsx scripts/bench/ledgerE2e.ts --rows 1000000 [--samples 200] [--wrk-seconds 10] [--wrk-connections 8]
 *    [--part-size BYTES (default 64 MiB)] [--parallel 3]`
 *
 * Generates a CSV ledger streamed to disk under /tmp, starts the demo
 * (anvil + `wrangler dev` on free ports, throwaway --persist-to and secrets),
 * streams the file to PUT /v1/admin/issuers/demo/ledger (or, larger than one
 * part, as a multi-part upload of parallel parts), polls the status URL
 * until complete (the queue consumer's sharded build), publishes a tick so an
 * attestation names the ledger, fetches a sample of proofs and verifies them,
 * then (when `wrk` is installed) loads the proof route. Samples workerd's CPU
 * time and RSS from /proc. One JSON object per line; docs/benchmarks.md.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Readable } from "node:stream";
import { parseArgs } from "node:util";
import { bytesToHex } from "../../core/bytes.js";
import { userCommitment, verifyInclusionProof } from "../../core/liabilities/index.js";
import { buildSumTree, topNode } from "../../core/liabilities/sumTreeCore.js";
import type { TreeManifest } from "../../worker/ledger/ledgerFormat.js";
import { shardGeometry, shardLeaves } from "../../worker/ledger/shardLayout.js";
import { planParts, uploadInParts } from "../cli/ledgerParts.js";
import { type RunningDemo, startDemo } from "../demo/runDemo.js";

const { values } = parseArgs({
  options: {
    rows: { type: "string", default: "1000000" },
    samples: { type: "string", default: "200" },
    "wrk-seconds": { type: "string", default: "10" },
    "wrk-connections": { type: "string", default: "8" },
    "part-size": { type: "string", default: String(64 * 1024 * 1024) },
    parallel: { type: "string", default: "3" },
  },
});
const PART_BYTES = Number(values["part-size"]);
const PARALLEL = Number(values.parallel);
const ROWS = Number(values.rows);
const SAMPLES = Number(values.samples);
const emit = (record: Record<string, unknown>) => console.log(JSON.stringify(record));
const log = (line: string) => console.error(`[bench] ${line}`);
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

const saltOf = (i: number) => new Uint8Array(createHash("sha256").update(`bench-salt-${i}`).digest().subarray(0, 16));
const userIdOf = (i: number) => `u${i}@bench.example`;

/** Streams a `userId,salt,USD,ETH` ledger of `rows` users to `file`, amounts in base units (uploaded with units=base). */
/** What the ledger status URL answers, as far as this bench reads it. */
interface BuildStatus {
  status?: string;
  reason?: string;
  root?: string;
  progress?: { phase?: string; steps?: unknown };
}

async function generateLedger(file: string, rows: number): Promise<number> {
  const out = createWriteStream(file);
  out.write("userId,salt,USD,ETH\n");
  let chunk = "";
  for (let i = 0; i < rows; i++) {
    chunk += `${userIdOf(i)},${bytesToHex(saltOf(i))},${(i * 7_919) % 2_000_000_000},${i % 7 === 5 ? 0 : (i % 500_000) * 1_000_000_000}\n`;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await new Promise<void>((r) => out.once("drain", () => r()));
      chunk = "";
    }
  }
  out.write(chunk);
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  return (await stat(file)).size;
}

// ------------------------------------------------------------ /proc sampling

const TICK = 100; // USER_HZ
async function procStat(pid: number): Promise<{ ppid: number; comm: string; cpuS: number } | null> {
  try {
    const s = await readFile(`/proc/${pid}/stat`, "utf8");
    const close = s.lastIndexOf(")");
    const comm = s.slice(s.indexOf("(") + 1, close);
    const f = s.slice(close + 2).split(" ");
    return { ppid: Number(f[1]), comm, cpuS: (Number(f[11]) + Number(f[12])) / TICK };
  } catch {
    return null;
  }
}

async function memKb(pid: number): Promise<{ rss: number; hwm: number }> {
  const s = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(s)?.[1] ?? 0);
  return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
}

/** workerd processes started by this process (descendants). */
async function workerdPids(): Promise<number[]> {
  const all = (await readdir("/proc")).filter((d) => /^\d+$/.test(d)).map(Number);
  const info = new Map<number, { ppid: number; comm: string }>();
  for (const pid of all) {
    const s = await procStat(pid);
    if (s) info.set(pid, s);
  }
  const mine = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 20; hops++) {
      if (p === process.pid) return true;
      p = info.get(p)?.ppid ?? 0;
    }
    return false;
  };
  return [...info].filter(([pid, s]) => s.comm === "workerd" && mine(pid)).map(([pid]) => pid);
}

/** CPU time and RSS of this run's workerd processes, rescanned every sample (wrangler may restart workerd). */
class Sampler {
  peakRssKb = 0;
  /** Largest CPU seconds seen per pid, so a process that exits keeps its share. */
  private cpuByPid = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  async sample(): Promise<void> {
    let rss = 0;
    for (const pid of await workerdPids()) {
      const s = await procStat(pid);
      if (s) this.cpuByPid.set(pid, Math.max(this.cpuByPid.get(pid) ?? 0, s.cpuS));
      rss += (await memKb(pid)).rss;
    }
    this.peakRssKb = Math.max(this.peakRssKb, rss);
  }
  async cpu(): Promise<number> {
    await this.sample();
    return [...this.cpuByPid.values()].reduce((a, b) => a + b, 0);
  }
  pids(): number[] {
    return [...this.cpuByPid.keys()];
  }
  start() {
    this.timer = setInterval(() => void this.sample(), 500);
  }
  stop() {
    clearInterval(this.timer);
  }
}

/**
 * The single-machine SPEC §2 build of the stored leaves in their stored order:
 * downloads the manifest and every shard through the admin tree routes and
 * builds the whole tree with the core in this process.
 */
async function singleMachineRoot(
  base: string,
  auth: Record<string, string>,
  issuer: string,
  ledgerId: string,
): Promise<{ root: string; ms: number; downloadMs: number }> {
  const t = performance.now();
  const prefix = `${base}/v1/admin/issuers/${issuer}/ledgers/${ledgerId}/tree`;
  const m = (await (await fetch(`${prefix}/manifest`, { headers: auth })).json()) as TreeManifest;
  const k = m.assets.length;
  const commitments = new Uint8Array(m.leafCount * 32);
  const balances = new Uint8Array(m.leafCount * 16 * k);
  for (let s = 0; s < m.shardCount; s++) {
    const res = await fetch(`${prefix}/shards/${s}`, { headers: auth });
    if (!res.ok) throw new Error(`shard ${s}: ${res.status}`);
    // The shard's leaves in either layout (worker/ledger/shardLayout.ts).
    const leaves = shardLeaves(new Uint8Array(await res.arrayBuffer()), shardGeometry(m, s));
    commitments.set(leaves.commitments, s * m.shardSize * 32);
    balances.set(leaves.balances, s * m.shardSize * 16 * k);
  }
  const downloadMs = performance.now() - t;
  const t2 = performance.now();
  const tree = buildSumTree(commitments, balances, m.leafCount, k);
  return {
    root: bytesToHex(topNode(tree).hash),
    ms: Math.round(performance.now() - t2),
    downloadMs: Math.round(downloadMs),
  };
}

// ------------------------------------------------------------ main

async function main() {
  const work = await mkdtemp(join(tmpdir(), "solvent-bench-"));
  const file = join(work, `ledger-${ROWS}.csv`);
  let demo: RunningDemo | undefined;
  const cleanup = async () => {
    await demo?.stop();
    await rm(work, { recursive: true, force: true });
  };
  process.on("SIGINT", () => void cleanup().then(() => process.exit(130)));
  try {
    let t = performance.now();
    const bytes = await generateLedger(file, ROWS);
    emit({ bench: "ledger-e2e-generate", rows: ROWS, bytes, ms: Math.round(performance.now() - t) });

    // Throwaway secrets: a fresh signing key and admin token for this run only.
    const adminToken = bytesToHex(crypto.getRandomValues(new Uint8Array(16))).slice(2);
    const secrets = join(work, "bench.vars");
    await writeFile(
      secrets,
      `SIGNING_KEY=${bytesToHex(crypto.getRandomValues(new Uint8Array(32)))}\nADMIN_TOKEN=${adminToken}\n`,
    );
    // wrangler dev rebuilds and restarts the Worker when a source file changes (others edit this
    // tree while benches run): serve a snapshot of the sources instead, with the same node_modules.
    const snapshot = join(work, "src");
    await mkdir(snapshot);
    for (const entry of [
      "wrangler.toml",
      "package.json",
      "tsconfig.json",
      "worker",
      "core",
      "migrations",
      "public",
      "config",
    ]) {
      if (existsSync(entry)) await cp(entry, join(snapshot, entry), { recursive: true });
    }
    await symlink(resolve("node_modules"), join(snapshot, "node_modules"));
    process.chdir(snapshot);
    demo = await startDemo({
      port: 0,
      anvilPort: 0,
      persistTo: join(work, "state"),
      workDir: join(work, "demo"),
      secretFiles: [secrets],
      adminToken,
      users: 10,
      log,
      wranglerOutput: process.env.BENCH_WRANGLER_LOG ? "inherit" : "ignore",
    });
    const base = demo.base;
    const auth = { authorization: `Bearer ${adminToken}` };
    const sampler = new Sampler();
    const cpu0 = await sampler.cpu();
    const rss0 = sampler.peakRssKb;
    log(`workerd pids ${sampler.pids().join(",")}`);
    sampler.start();

    // Upload: one request body when the file fits in one part, else in parts (what `solvent ledger upload` does).
    t = performance.now();
    let answer: { ledgerId: string; statusUrl: string; status: string };
    let status: number;
    let partCount = 1;
    if (bytes <= PART_BYTES) {
      const res = await fetch(`${base}/v1/admin/issuers/demo/ledger?units=base`, {
        method: "PUT",
        headers: { ...auth, "content-type": "text/csv", "content-length": String(bytes) },
        body: Readable.toWeb(createReadStream(file, { highWaterMark: 1 << 20 })) as ReadableStream,
        duplex: "half",
      } as RequestInit);
      answer = (await res.json()) as typeof answer;
      status = res.status;
    } else {
      const plan = await planParts(file, bytes, PART_BYTES, "csv");
      partCount = plan.parts.length;
      log(`uploading ${partCount} parts, ${PARALLEL} at a time`);
      const result = await uploadInParts({
        base: new URL(base),
        issuer: "demo",
        token: adminToken,
        file,
        format: "csv",
        plan,
        parallel: PARALLEL,
        query: { units: "base" },
      });
      if (!result.ok)
        throw new Error(
          `upload refused (${result.httpStatus}) at part ${result.part}: ${JSON.stringify(result.error)}`,
        );
      answer = result.answer as typeof answer;
      status = result.status;
    }
    const uploadMs = performance.now() - t;
    const cpuUpload = await sampler.cpu();
    if (status !== 202 && status !== 201) throw new Error(`upload answered ${status}: ${JSON.stringify(answer)}`);
    emit({
      bench: "ledger-e2e-upload",
      rows: ROWS,
      bytes,
      parts: partCount,
      parallel: PARALLEL,
      status,
      ms: Math.round(uploadMs),
      workerdCpuS: round(cpuUpload - cpu0),
    });

    // Build: poll the status URL; record when each phase ends.
    const phases: Record<string, number> = {};
    let last: BuildStatus = {};
    let slowestStatusMs = 0;
    for (;;) {
      const t0 = performance.now();
      const s = (await (await fetch(answer.statusUrl, { headers: auth })).json()) as BuildStatus;
      slowestStatusMs = Math.max(slowestStatusMs, performance.now() - t0);
      const phase = s.status === "building" ? (s.progress?.phase ?? "queued") : (s.status ?? "unknown");
      if (phases[phase] === undefined) {
        phases[phase] = Math.round(performance.now() - t);
        log(`${phase} at ${phases[phase]} ms ${JSON.stringify(s.progress)}`);
      }
      if (s.progress?.steps)
        log(`progress ${Math.round(performance.now() - t)} ms ${JSON.stringify(s.progress.steps)}`);
      last = s;
      if (s.status === "complete" || s.status === "failed") break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const totalMs = performance.now() - t;
    const cpuBuild = await sampler.cpu();
    if (last.status !== "complete") throw new Error(`ledger failed: ${last.reason}`);
    const manifestShards = Math.ceil(ROWS / 16384); // defaultShardSize for 2 assets
    emit({
      bench: "ledger-e2e-build",
      rows: ROWS,
      uploadMs: Math.round(uploadMs),
      buildMs: Math.round(totalMs - uploadMs),
      totalMs: Math.round(totalMs),
      phaseEndsMs: phases,
      workerdCpuS: {
        upload: round(cpuUpload - cpu0),
        build: round(cpuBuild - cpuUpload),
        total: round(cpuBuild - cpu0),
      },
      workerdRssMb: { before: Math.round(rss0 / 1024), peak: Math.round(sampler.peakRssKb / 1024) },
      shards: manifestShards,
      slowestStatusPollMs: Math.round(slowestStatusMs),
      root: last.root,
    });
    const single = await singleMachineRoot(base, auth, "demo", answer.ledgerId);
    emit({
      bench: "ledger-e2e-root-check",
      rows: ROWS,
      shardedRoot: last.root,
      singleMachineRoot: single.root,
      equal: single.root === last.root,
      downloadMs: single.downloadMs,
      singleBuildMs: single.ms,
    });
    if (single.root !== last.root) throw new Error("the sharded root differs from the single-machine build");

    // Publish: one tick names the newest complete ledger; then proofs by sequence.
    await demo.tick();
    const latest = (await (await fetch(`${base}/v1/issuers/demo/attestations/latest`)).json()) as {
      attestation: { sequence: string; liabilitiesRoot: string };
    };
    const sequence = latest.attestation.sequence;
    if (latest.attestation.liabilitiesRoot !== last.root) throw new Error("the published root is not the ledger's");
    // Baselines through the same wrangler dev: a route with no storage, and one D1 read.
    const baseline = async (path: string) => {
      const ms: number[] = [];
      for (let i = 0; i < 100; i++) {
        const t0 = performance.now();
        await (await fetch(`${base}${path}`)).arrayBuffer();
        ms.push(performance.now() - t0);
      }
      ms.sort((a, b) => a - b);
      return { p50Ms: round(ms[50]!, 2), p99Ms: round(ms[98]!, 2) };
    };
    emit({ bench: "ledger-e2e-baseline", route: "/health", ...(await baseline("/health")) });
    emit({
      bench: "ledger-e2e-baseline",
      route: "/v1/issuers/demo/attestations/latest",
      ...(await baseline("/v1/issuers/demo/attestations/latest")),
    });
    const picks = Array.from({ length: SAMPLES }, () => Math.floor(Math.random() * ROWS));
    const latencies: number[] = [];
    let proofBytes = 0;
    let pathLength = 0;
    const paths: string[] = [];
    for (const i of picks) {
      const c = bytesToHex(userCommitment(saltOf(i), userIdOf(i)));
      const path = `/v1/issuers/demo/proofs/${sequence}/${c}`;
      paths.push(path);
      const t0 = performance.now();
      const r = await fetch(`${base}${path}`);
      const body = await r.text();
      latencies.push(performance.now() - t0);
      if (r.status !== 200) throw new Error(`proof ${i}: ${r.status} ${body}`);
      const proof = JSON.parse(body) as { path: unknown[] };
      const check = verifyInclusionProof(proof, { userId: userIdOf(i), salt: saltOf(i) });
      if (!check.ok || check.root !== last.root) throw new Error(`proof ${i} does not verify`);
      proofBytes = Math.max(proofBytes, Buffer.byteLength(body));
      pathLength = proof.path.length;
    }
    const quantile = (xs: number[], p: number) =>
      round([...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!, 2);
    emit({
      bench: "ledger-e2e-proofs",
      rows: ROWS,
      samples: SAMPLES,
      verified: SAMPLES,
      p50Ms: quantile(latencies, 0.5),
      p99Ms: quantile(latencies, 0.99),
      maxProofBytes: proofBytes,
      pathLength,
    });
    const again: number[] = [];
    for (const path of paths) {
      const t0 = performance.now();
      await (await fetch(`${base}${path}`)).arrayBuffer();
      again.push(performance.now() - t0);
    }
    emit({
      bench: "ledger-e2e-proofs-repeat",
      rows: ROWS,
      samples: SAMPLES,
      p50Ms: quantile(again, 0.5),
      p99Ms: quantile(again, 0.99),
    });

    if (existsSync("/usr/bin/wrk")) {
      const lua = join(work, "proofs.lua");
      await writeFile(
        lua,
        // Many client addresses, so the per-client public rate limits (worker/api/rateLimit.ts) are not what is measured;
        // no-cache, so every proof is read from R2 rather than served from the edge cache.
        `local paths = {${paths.map((p) => JSON.stringify(p)).join(",")}}\nlocal i = 0\nrequest = function()\n  i = i + 1\n  return wrk.format("GET", paths[(i % #paths) + 1], { ["CF-Connecting-IP"] = "10.1." .. (i % 250) .. "." .. (math.floor(i / 250) % 250), ["Cache-Control"] = "no-cache" })\nend\n`,
      );
      const args = [
        "-t",
        "2",
        "-c",
        String(values["wrk-connections"]),
        "-d",
        `${values["wrk-seconds"]}s`,
        "--latency",
        "-s",
        lua,
        base,
      ];
      const cpuW = await sampler.cpu();
      const out = await new Promise<string>((resolve, reject) => {
        const child = spawn("wrk", args, { stdio: ["ignore", "pipe", "inherit"] });
        let text = "";
        child.stdout.on("data", (d: Buffer) => (text += d.toString()));
        child.on("exit", (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited ${code}`))));
      });
      const cpuAfter = await sampler.cpu();
      const pct = (p: string) =>
        /^\s+(\d+)%\s+([\d.]+)(us|ms|s)\s*$/m.exec(out.split("\n").find((l) => l.trim().startsWith(`${p}%`)) ?? "");
      const ms = (m: RegExpExecArray | null) =>
        m ? Number(m[2]) * (m[3] === "us" ? 0.001 : m[3] === "s" ? 1000 : 1) : null;
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
      const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? "0";
      emit({
        bench: "ledger-e2e-proof-load",
        rows: ROWS,
        tool: `wrk ${args.slice(0, 7).join(" ")}`,
        distinctProofs: paths.length,
        p50Ms: ms(pct("50")),
        p90Ms: ms(pct("90")),
        p99Ms: ms(pct("99")),
        requestsPerS: rps,
        non2xx: Number(errors),
        workerdCpuS: round(cpuAfter - cpuW),
      });
    } else {
      log("wrk is not installed: skipping the load test");
    }
    sampler.stop();
    const hwm = (await Promise.all(sampler.pids().map(memKb))).map((m) => Math.round(m.hwm / 1024));
    emit({
      bench: "ledger-e2e-peak",
      rows: ROWS,
      workerdPids: sampler.pids().length,
      workerdPeakRssMbSampled: Math.round(sampler.peakRssKb / 1024),
      workerdHwmMbPerProcess: hwm,
    });
  } finally {
    await cleanup();
  }
}

await main();
process.exit(0);
