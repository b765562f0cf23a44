/**
 * Starts throw-away anvil nodes for tests, the demo and scripts.
 *
 * Each node runs in its own process group under a tiny `sh` supervisor that
 * (a) on SIGTERM stops anvil and waits for it, so "supervisor exited" means
 * "anvil exited", and (b) polls this Node process and stops anvil within a
 * second if it disappears without running its exit hooks (e.g. SIGKILL).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export interface StartAnvilOptions {
  /** Port on 127.0.0.1; a free one is picked by the OS when omitted. */
  port?: number;
  /** Defaults to 31337, anvil's own default. */
  chainId?: number;
  /** Seconds between blocks; omitted = a block per transaction (automine). */
  blockTime?: number;
  /** How long to wait for the RPC to answer; default 20 s. */
  startupTimeoutMs?: number;
}

export interface AnvilInstance {
  rpcUrl: string;
  port: number;
  chainId: number;
  /** Stops the node: SIGTERM, SIGKILL to its process group after a grace period. Idempotent. */
  stop(): Promise<void>;
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

const NATIVE_PACKAGE_ARCH: Record<string, string> = { x64: "amd64", arm64: "arm64" };

/**
 * The anvil executable from `@foundry-rs/anvil`. `node_modules/.bin/anvil` is a
 * Node wrapper that spawns the platform binary; we run that binary directly
 * when it is there (one process less, and signals reach anvil itself).
 */
export function anvilBinary(): string {
  const arch = NATIVE_PACKAGE_ARCH[process.arch];
  if (arch && process.platform !== "win32") {
    const native = join(repoRoot, "node_modules", "@foundry-rs", `anvil-${process.platform}-${arch}`, "bin", "anvil");
    if (existsSync(native)) return native;
  }
  return join(repoRoot, "node_modules", ".bin", "anvil");
}

const STOP_GRACE_MS = 3_000;
const DEFAULT_STARTUP_TIMEOUT_MS = 20_000;
const STDERR_LIMIT = 8_000;

/** Process-group ids of nodes still running, killed when this process exits. */
const running = new Set<number>();
let exitHooksInstalled = false;

function killGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // ESRCH: the group is already gone.
  }
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  // SIGTERM, not SIGKILL: anvil exits within milliseconds and its supervisor reaps it.
  process.on("exit", () => {
    for (const pgid of running) killGroup(pgid, "SIGTERM");
  });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const onSignal = (): void => {
      for (const pgid of running) killGroup(pgid, "SIGTERM");
      running.clear();
      // Restore the default behaviour unless someone else handles this signal.
      process.off(signal, onSignal);
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

/** Asks the OS for a free TCP port on 127.0.0.1 (listen on 0, read it, close). */
export function getFreePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close((error) =>
        error || port === 0 ? reject(error ?? new Error("no port assigned")) : resolvePort(port),
      );
    });
  });
}

/** Resolves when nothing listens on 127.0.0.1:port, so we never mistake another node for ours. */
function assertPortFree(port: number): Promise<void> {
  return new Promise((resolveFree, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(new Error(`startAnvil: 127.0.0.1:${port} is not available (${error.code ?? error.message})`)),
    );
    server.listen(port, "127.0.0.1", () => server.close(() => resolveFree()));
  });
}

async function rpcChainId(rpcUrl: string): Promise<number | undefined> {
  try {
    const response = await fetch(rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(1_000),
    });
    const body = (await response.json()) as { result?: string };
    return typeof body.result === "string" ? Number.parseInt(body.result, 16) : undefined;
  } catch {
    return undefined;
  }
}

function checkInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new Error(`startAnvil: ${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** True when `promise` settles within `ms`; the timer is cleared so it never holds the process open. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((r) => {
    timer = setTimeout(() => r(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts anvil on 127.0.0.1 and resolves once `eth_chainId` answers.
 *
 * @example
 * const anvil = await startAnvil();
 * const client = createPublicClient({ transport: http(anvil.rpcUrl) });
 * // ...
 * await anvil.stop();
 */
export async function startAnvil(options: StartAnvilOptions = {}): Promise<AnvilInstance> {
  const chainId = options.chainId ?? 31337;
  checkInteger("chainId", chainId, 1, Number.MAX_SAFE_INTEGER);
  if (options.port !== undefined) checkInteger("port", options.port, 1, 65535);
  if (options.blockTime !== undefined) checkInteger("blockTime", options.blockTime, 1, 86_400);
  const binary = anvilBinary();
  if (!existsSync(binary)) throw new Error(`startAnvil: ${binary} not found (is @foundry-rs/anvil installed?)`);

  // A port picked by the OS can be taken by someone else before anvil binds it; retry then.
  const attempts = options.port === undefined ? 3 : 1;
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const port = options.port ?? (await getFreePort());
    if (options.port !== undefined) await assertPortFree(port);
    try {
      return await launch(binary, { ...options, port, chainId });
    } catch (error) {
      lastError = error as Error;
      // anvil says "Error: Address already in use (os error 98)".
      if (!/address already in use/i.test(lastError.message)) throw lastError;
    }
  }
  throw lastError ?? new Error("startAnvil failed");
}

async function launch(
  binary: string,
  options: StartAnvilOptions & { port: number; chainId: number },
): Promise<AnvilInstance> {
  const { port, chainId } = options;
  const args = ["--host", "127.0.0.1", "--port", String(port), "--chain-id", String(chainId), "--silent"];
  if (options.blockTime !== undefined) args.push("--block-time", String(options.blockTime));

  // $0 is anvil, "$@" its arguments. The loop ends when anvil exits or this Node process is gone.
  const supervisor =
    `"$0" "$@" & a=$!; ` +
    `trap 'kill $a 2>/dev/null; wait $a; exit 143' TERM INT HUP; ` +
    `while kill -0 ${process.pid} 2>/dev/null && kill -0 $a 2>/dev/null; do sleep 1; done; ` +
    `kill $a 2>/dev/null; wait $a`;
  const child: ChildProcess = spawn("/bin/sh", ["-c", supervisor, binary, ...args], {
    detached: true, // own process group, so a SIGKILL reaches anvil and the supervisor together
    stdio: ["ignore", "ignore", "pipe"],
  });
  const pgid = child.pid;
  if (pgid === undefined) throw new Error(`startAnvil: could not spawn ${binary}`);
  installExitHooks();
  running.add(pgid);
  child.unref(); // a forgotten node must not keep the event loop (and the tests) alive
  (child.stderr as NodeJS.ReadableStream & { unref?: () => void }).unref?.();

  let stderr = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    if (stderr.length < STDERR_LIMIT) stderr += chunk;
  });
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitPromise = new Promise<void>((resolveExit) => {
    child.once("exit", (code, signal) => {
      exited = { code, signal };
      resolveExit();
    });
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (!exited) {
        killGroup(pgid, "SIGTERM");
        if (!(await settlesWithin(exitPromise, STOP_GRACE_MS))) {
          killGroup(pgid, "SIGKILL");
          await settlesWithin(exitPromise, STOP_GRACE_MS);
        }
      }
      running.delete(pgid);
    })();
    return stopping;
  };

  const rpcUrl = `http://127.0.0.1:${port}`;
  const timeoutMs = options.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  while (true) {
    if (exited) {
      await stop();
      throw new Error(
        `anvil exited before answering on ${rpcUrl} (code ${exited.code}, signal ${exited.signal}); ` +
          `stderr:\n${stderr.trim() || "(empty)"}`,
      );
    }
    const answered = await rpcChainId(rpcUrl);
    if (answered === chainId) break;
    if (answered !== undefined) {
      await stop();
      throw new Error(`something else answers on ${rpcUrl}: chain id ${answered}, expected ${chainId}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `anvil did not answer eth_chainId on ${rpcUrl} within ${timeoutMs} ms; stderr:\n${stderr.trim() || "(empty)"}`,
      );
    }
    await sleep(100);
  }
  return { rpcUrl, port, chainId, stop };
}
