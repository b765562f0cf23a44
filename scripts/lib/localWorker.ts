/**
 * The Worker under `wrangler dev` on this machine, as `npm start` runs it for
 * the demo and for your own configuration: local D1 (migrations applied
 * first), R2, Durable Objects and queues persisted under one directory, the
 * cron fired on demand through `/__scheduled`, offline.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { decodeFlags } from "../../core/flags.js";
import { type AnvilInstance, getFreePort } from "./anvil.js";

/** wrangler's CLI, run with this Node directly (npx would not pass signals on to it). */
const WRANGLER = createRequire(import.meta.url).resolve("wrangler/bin/wrangler.js");
/** How much of wrangler's output a captured launch keeps for failure messages. */
const OUTPUT_LIMIT = 20_000;

export interface LocalWorkerOptions {
  /** HTTP port; 0 picks a free one. */
  port: number;
  /** Where wrangler keeps local D1/R2/DO/queue state. */
  persistTo: string;
  /** `KEY=value` files handed to wrangler dev as bindings, later files winning. */
  envFiles: string[];
  /** Where wrangler's own output goes; "capture" keeps its tail for `output()`. */
  output?: "inherit" | "ignore" | "capture";
  /** "any": up once /health answers at all (it says 503 when something is misconfigured); "ok": only a 200. */
  ready?: "any" | "ok";
  startupTimeoutMs?: number;
}

export interface LocalWorker {
  base: string;
  /** Fires the cron once, the same path a deployed cron takes. */
  scheduled(): Promise<void>;
  /** The last lines wrangler printed, when its output is captured (for failure messages). */
  output(): string;
  stop(): Promise<void>;
  /** Kills wrangler's whole process group with SIGKILL at once (a crash: nothing is flushed or shut down). */
  crash(): Promise<void>;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Runs a wrangler command to completion in its own process group; killed if it outlives timeoutMs. */
function runWrangler(
  args: string[],
  env: NodeJS.ProcessEnv,
  output: "inherit" | "ignore" | ((chunk: string) => void),
  timeoutMs: number,
): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const piped = typeof output === "function";
    const child = spawn(process.execPath, [WRANGLER, ...args], {
      stdio: ["ignore", piped ? "pipe" : output, piped ? "pipe" : "inherit"],
      env,
      detached: true,
    });
    const kill = () => child.pid !== undefined && signalGroup(child.pid, "SIGKILL");
    process.once("exit", kill);
    const timer = setTimeout(() => {
      kill();
      reject(new Error(`wrangler ${args.slice(0, 3).join(" ")} took longer than ${timeoutMs / 1000} s`));
    }, timeoutMs);
    if (piped) {
      child.stdout!.setEncoding("utf8").on("data", output);
      child.stderr!.setEncoding("utf8").on("data", output);
    }
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(timer);
      process.off("exit", kill);
      resolve(code);
    });
  });
}

/**
 * `wrangler dev` on 127.0.0.1 with `--test-scheduled`, local D1 migrated
 * first, in its own process group (wrangler, workerd and esbuild under it),
 * stopped as a group, also when this process exits. The one launcher of
 * `npm start`, the scenario runner and the live tests.
 */
export async function startLocalWorker(options: LocalWorkerOptions): Promise<LocalWorker> {
  const mode = options.output ?? "inherit";
  let captured = "";
  const keep = (chunk: string) => {
    captured = (captured + chunk).slice(-OUTPUT_LIMIT);
  };
  const tail = () => (mode === "capture" ? `:\n${captured.slice(-3000)}` : " (its output above says why)");
  // Offline, miniflare would try to download the `Request.cf` placeholder data at every start and
  // print a warning with a stack trace when it cannot; the Worker never reads request.cf.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CI: "true",
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    ...(mode === "capture" ? { NO_COLOR: "1" } : {}),
  };
  const sink = mode === "capture" ? keep : mode;
  const migrated = await runWrangler(
    ["d1", "migrations", "apply", "DB", "--local", "--persist-to", options.persistTo],
    env,
    sink,
    120_000,
  );
  if (migrated !== 0) throw new Error(`applying the D1 migrations failed (exit ${migrated})${tail()}`);

  const port = options.port === 0 ? await getFreePort() : options.port;
  const base = `http://127.0.0.1:${port}`;
  const envArgs = options.envFiles.flatMap((f) => ["--env-file", f]);
  const piped = mode === "capture";
  const child: ChildProcess = spawn(
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
    { stdio: ["ignore", piped ? "pipe" : mode, piped ? "pipe" : mode], env, detached: true },
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error("could not spawn wrangler dev");
  let exited = false;
  const gone = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true;
      resolve();
    }),
  );
  if (piped) {
    child.stdout?.setEncoding("utf8").on("data", keep);
    child.stderr?.setEncoding("utf8").on("data", keep);
  }
  const killOnExit = () => signalGroup(pid, "SIGKILL");
  process.once("exit", killOnExit);

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      if (!exited) {
        signalGroup(pid, "SIGINT");
        await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
      }
      // workerd and esbuild may outlive wrangler itself: the whole group goes.
      signalGroup(pid, "SIGKILL");
      process.off("exit", killOnExit);
    })();
    return stopping;
  };
  const crash = async () => {
    signalGroup(pid, "SIGKILL");
    await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
    process.off("exit", killOnExit);
  };

  const timeoutMs = options.startupTimeoutMs ?? 120_000;
  const deadline = Date.now() + timeoutMs;
  try {
    while (true) {
      if (exited) throw new Error(`wrangler dev exited before it answered${tail()}`);
      try {
        const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(5000) });
        await res.arrayBuffer();
        if (res.ok || options.ready !== "ok") break;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error(`${base}/health did not answer within ${timeoutMs / 1000} s${tail()}`);
      await new Promise((r) => setTimeout(r, 300));
    }
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
    output: () => captured,
    stop,
    crash,
  };
}

/** The launch the scenario runner and the live tests use: a free port, output captured, up only when /health says 200. */
export function startWranglerDev(options: {
  persistTo: string;
  envFiles: string[];
  startupTimeoutMs?: number;
}): Promise<LocalWorker> {
  return startLocalWorker({ ...options, port: 0, output: "capture", ready: "ok" });
}

/** What the scenario runner and the live tests hold of a running `wrangler dev`. */
export type WranglerDev = LocalWorker;

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
