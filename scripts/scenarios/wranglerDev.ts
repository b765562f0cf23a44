/**
 * One `wrangler dev` for the scenario runner: local D1 migrated into a
 * throwaway --persist-to, the Worker on a free 127.0.0.1 port with
 * --test-scheduled, in its own process group (wrangler, workerd and esbuild
 * under it), stopped as a group — also on exit and on SIGINT/SIGTERM.
 * Same launch as scripts/demo/runDemo.ts, with its output captured so a
 * failure can show the tail of it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { getFreePort } from "../lib/anvil.js";

/** wrangler's CLI, run with this Node directly (npx would not pass signals on to it). */
const WRANGLER = createRequire(import.meta.url).resolve("wrangler/bin/wrangler.js");
const OUTPUT_LIMIT = 20_000;

export interface WranglerDev {
  base: string;
  /** The last lines wrangler printed (for failure messages). */
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

const childEnv = () => ({ ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" });

/** Runs a wrangler command to completion in its own group; killed if it outlives timeoutMs. */
function runWrangler(args: string[], timeoutMs: number, keep: (chunk: string) => void): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRANGLER, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: childEnv(),
      detached: true,
    });
    const kill = () => child.pid !== undefined && signalGroup(child.pid, "SIGKILL");
    process.once("exit", kill);
    const timer = setTimeout(() => {
      kill();
      reject(new Error(`wrangler ${args.slice(0, 3).join(" ")} took longer than ${timeoutMs / 1000} s`));
    }, timeoutMs);
    child.stdout.setEncoding("utf8").on("data", keep);
    child.stderr.setEncoding("utf8").on("data", keep);
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(timer);
      process.off("exit", kill);
      resolve(code);
    });
  });
}

export async function startWranglerDev(options: {
  persistTo: string;
  envFiles: string[];
  startupTimeoutMs?: number;
}): Promise<WranglerDev> {
  let output = "";
  const keep = (chunk: string) => {
    output = (output + chunk).slice(-OUTPUT_LIMIT);
  };
  const migrated = await runWrangler(
    ["d1", "migrations", "apply", "DB", "--local", "--persist-to", options.persistTo],
    120_000,
    keep,
  );
  if (migrated !== 0) throw new Error(`applying the D1 migrations failed (exit ${migrated}):\n${output.slice(-3000)}`);

  const port = await getFreePort();
  const base = `http://127.0.0.1:${port}`;
  const envArgs = options.envFiles.flatMap((f) => ["--env-file", f]);
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
    { stdio: ["ignore", "pipe", "pipe"], env: childEnv(), detached: true },
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
  child.stdout?.setEncoding("utf8").on("data", keep);
  child.stderr?.setEncoding("utf8").on("data", keep);
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

  const deadline = Date.now() + (options.startupTimeoutMs ?? 120_000);
  try {
    while (true) {
      if (exited) throw new Error(`wrangler dev exited before it answered:\n${output.slice(-3000)}`);
      try {
        if ((await fetch(`${base}/health`, { signal: AbortSignal.timeout(5000) })).ok) break;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline)
        throw new Error(`wrangler dev did not answer ${base}/health in time:\n${output.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { base, output: () => output, stop, crash };
}
