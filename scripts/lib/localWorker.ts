/**
 * The Worker under `wrangler dev` on this machine, as `npm start` runs it for
 * the demo and for your own configuration: local D1 (migrations applied
 * first), R2, Durable Objects and queues persisted under one directory, the
 * cron fired on demand through `/__scheduled`, offline.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { decodeFlags } from "../../core/flags.js";
import { type AnvilInstance, getFreePort } from "./anvil.js";

/** wrangler's CLI, run with this Node directly (npx would not pass signals on to it). */
const WRANGLER = createRequire(import.meta.url).resolve("wrangler/bin/wrangler.js");

export interface LocalWorkerOptions {
  /** HTTP port; 0 picks a free one. */
  port: number;
  /** Where wrangler keeps local D1/R2/DO/queue state. */
  persistTo: string;
  /** `KEY=value` files handed to wrangler dev as bindings, later files winning. */
  envFiles: string[];
  /** Where wrangler's own output goes. */
  output?: "inherit" | "ignore";
}

export interface LocalWorker {
  base: string;
  /** Fires the cron once, the same path a deployed cron takes. */
  scheduled(): Promise<void>;
  stop(): Promise<void>;
}

function signalGroup(group: number, signal: NodeJS.Signals): void {
  try {
    process.kill(group, signal);
  } catch {
    // already gone
  }
}

/** Waits until `url` answers at all (any status: /health says 503 when something is misconfigured). */
async function waitForAnswer(url: string, timeoutMs: number, alive: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive()) throw new Error("wrangler dev exited before it answered (its output above says why)");
    try {
      await (await fetch(url)).arrayBuffer();
      return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s`);
}

export async function startLocalWorker(options: LocalWorkerOptions): Promise<LocalWorker> {
  const port = options.port === 0 ? await getFreePort() : options.port;
  const base = `http://127.0.0.1:${port}`;
  const output = options.output ?? "inherit";
  // Offline, miniflare would try to download the `Request.cf` placeholder data at every start and
  // print a warning with a stack trace when it cannot; the Worker never reads request.cf.
  const childEnv = { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
  const migrate = spawnSync(
    process.execPath,
    [WRANGLER, "d1", "migrations", "apply", "DB", "--local", "--persist-to", options.persistTo],
    {
      stdio: ["ignore", output, "inherit"],
      env: childEnv,
    },
  );
  if (migrate.status !== 0) throw new Error("applying the D1 migrations failed (see above)");

  const envArgs = options.envFiles.flatMap((f) => ["--env-file", f]);
  const wrangler: ChildProcess = spawn(
    process.execPath,
    [
      WRANGLER,
      "dev",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--test-scheduled",
      "--persist-to",
      options.persistTo,
      ...envArgs,
    ],
    { stdio: ["ignore", output, output], env: childEnv, detached: true },
  );
  let exited = false;
  wrangler.on("exit", () => (exited = true));
  const group = -wrangler.pid!;
  process.once("exit", () => signalGroup(group, "SIGKILL"));

  const stop = async () => {
    if (exited) return;
    // wrangler runs in its own process group with workerd and esbuild under it: signal them all.
    const gone = new Promise((r) => wrangler.once("exit", r));
    signalGroup(group, "SIGINT");
    await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
    signalGroup(group, "SIGKILL");
  };
  try {
    await waitForAnswer(`${base}/health`, 90_000, () => !exited);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    base,
    async scheduled() {
      const res = await fetch(`${base}/__scheduled?cron=${encodeURIComponent("* * * * *")}`);
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`the cron trigger answered HTTP ${res.status}`);
    },
    stop,
  };
}

/**
 * One line per issuer after a tick: its latest attestation (ratio, flags by
 * name), or why its publisher has none.
 */
export async function describeIssuer(base: string, issuer: string, adminToken: string): Promise<string> {
  const latest = await fetch(`${base}/v1/issuers/${encodeURIComponent(issuer)}/attestations/latest`);
  if (latest.ok) {
    const { attestation } = (await latest.json()) as {
      attestation: { sequence: string; ratioBps: string; flags: string };
    };
    const flags = decodeFlags(BigInt(attestation.flags));
    return `${issuer}: attestation #${attestation.sequence}, ratio ${(Number(attestation.ratioBps) / 100).toFixed(2)} %, ${flags.length === 0 ? "no flags" : `flags ${flags.join(", ")}`}`;
  }
  await latest.arrayBuffer();
  const status = await fetch(`${base}/v1/admin/issuers/${encodeURIComponent(issuer)}/publisher`, {
    headers: { authorization: `Bearer ${adminToken}` },
  });
  return `${issuer}: no attestation yet (${await status.text()})`;
}

/** What a local run has started so far; `stopLocal` stops it, newest first. */
export interface LocalProcesses {
  anvil?: AnvilInstance;
  worker?: LocalWorker;
  timer?: NodeJS.Timeout;
}

export async function stopLocal(running: LocalProcesses): Promise<void> {
  if (running.timer) clearInterval(running.timer);
  await running.worker?.stop();
  await running.anvil?.stop();
}
