/**
 * The local demo publisher as a function: anvil with the demo world, the
 * Worker under `wrangler dev` with local D1/R2, a custodian statement, a user
 * ledger, and a tick every `tickMs`. `npm start` runs it on fixed ports; the
 * browser tests run their own on free ports with throwaway state.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { privateKeyToAccount } from "viem/accounts";
import { join } from "node:path";
import { decodeFlags } from "../../core/flags.js";
import { getFreePort, startAnvil, type AnvilInstance } from "../lib/anvil.js";
import { demoLedgerCsv, demoUsers, type DemoUser } from "./ledger.js";
import { deployDemoWorld, demoCustodianStatement, demoRelayerKey, refreshDemoFeeds, type DemoWorld } from "./world.js";

/** wrangler's CLI, run with this Node directly (npx would not pass signals on to it). */
const WRANGLER = createRequire(import.meta.url).resolve("wrangler/bin/wrangler.js");

export interface DemoOptions {
  /** HTTP port of the Worker; 0 picks a free one. */
  port: number;
  /** anvil's port; 0 picks a free one. */
  anvilPort: number;
  /** Where wrangler keeps local D1/R2/DO state. */
  persistTo: string;
  /** Where the demo writes its generated files (env file, users.json). */
  workDir: string;
  /** Files of secrets for wrangler (`KEY=value` lines), e.g. [".dev.vars"]. */
  secretFiles: string[];
  adminToken: string;
  users?: number;
  tickMs?: number;
  log?: (line: string) => void;
  /** Where wrangler's own output goes. */
  wranglerOutput?: "inherit" | "ignore";
}

export interface RunningDemo {
  base: string;
  world: DemoWorld;
  users: DemoUser[];
  /** Runs one tick now: fresh feeds and statement, then the cron path. */
  tick(): Promise<void>;
  stop(): Promise<void>;
}

/** The address of SIGNING_KEY in the secret files, so the demo oracle trusts the demo publisher. */
async function signingAddress(files: string[]) {
  for (const file of files) {
    const key = /^SIGNING_KEY=(0x[0-9a-fA-F]{64})\s*$/m.exec(await readFile(file, "utf8"))?.[1];
    if (key) return privateKeyToAccount(key as `0x${string}`).address;
  }
  throw new Error(`no SIGNING_KEY=0x… line in ${files.join(", ")}`);
}

function signalGroup(group: number, signal: NodeJS.Signals): void {
  try {
    process.kill(group, signal);
  } catch {
    // already gone
  }
}

async function waitFor(url: string, timeoutMs: number, alive: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive()) throw new Error("wrangler dev exited before it answered");
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s`);
}

export async function startDemo(options: DemoOptions): Promise<RunningDemo> {
  const log = options.log ?? (() => undefined);
  const port = options.port === 0 ? await getFreePort() : options.port;
  const base = `http://127.0.0.1:${port}`;
  const auth = { authorization: `Bearer ${options.adminToken}` };
  let anvil: AnvilInstance | undefined;
  let wrangler: ChildProcess | undefined;
  let timer: NodeJS.Timeout | undefined;
  let exited = false;

  const stop = async () => {
    if (timer) clearInterval(timer);
    if (wrangler?.pid !== undefined && !exited) {
      // wrangler runs in its own process group with workerd and esbuild under it: signal them all.
      const group = -wrangler.pid;
      const gone = new Promise((r) => wrangler!.once("exit", r));
      signalGroup(group, "SIGINT");
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
      signalGroup(group, "SIGKILL");
    }
    await anvil?.stop();
  };

  try {
    anvil = await startAnvil(options.anvilPort === 0 ? {} : { port: options.anvilPort });
    log(`anvil on ${anvil.rpcUrl}`);
    const world = await deployDemoWorld(anvil.rpcUrl, { ttlSeconds: 180, attestationSigner: await signingAddress(options.secretFiles) });
    log(`demo contracts deployed (DUSD ${world.contracts.dusd}, vault ${world.contracts.vault})`);

    const users = demoUsers(options.users ?? 1000);
    await mkdir(options.workDir, { recursive: true });
    await writeFile(join(options.workDir, "users.json"), `${JSON.stringify(users, null, 2)}\n`);
    const shown = users.slice(0, 3).map(({ userId, salt }) => ({ userId, salt }));
    const envFile = join(options.workDir, "demo.env");
    await writeFile(
      envFile,
      [
        `SOLVENT_CONFIG='${JSON.stringify(world.config)}'`,
        "DEMO_MODE=1",
        `RELAYER_KEY=${demoRelayerKey()}`,
        `DEMO_USERS='${JSON.stringify(shown)}'`,
        `DEMO_CONTRACTS='${JSON.stringify({ chainId: world.chainId, rpcUrl: world.rpcUrl, ...world.contracts })}'`,
      ].join("\n") + "\n",
    );

    // Offline, miniflare would try to download the `Request.cf` placeholder data at every start and
    // print a warning with a stack trace when it cannot; the Worker never reads request.cf.
    const childEnv = { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
    const migrate = spawnSync(process.execPath, [WRANGLER, "d1", "migrations", "apply", "DB", "--local", "--persist-to", options.persistTo], {
      stdio: ["ignore", options.wranglerOutput ?? "inherit", "inherit"],
      env: childEnv,
    });
    if (migrate.status !== 0) throw new Error("applying the D1 migrations failed (see above)");

    const envArgs = [...options.secretFiles, envFile].flatMap((f) => ["--env-file", f]);
    wrangler = spawn(
      process.execPath,
      [WRANGLER, "dev", "--ip", "127.0.0.1", "--port", String(port), "--test-scheduled", "--persist-to", options.persistTo, ...envArgs],
      { stdio: ["ignore", options.wranglerOutput ?? "inherit", options.wranglerOutput ?? "inherit"], env: childEnv, detached: true },
    );
    wrangler.on("exit", () => (exited = true));
    const wranglerGroup = -wrangler.pid!;
    process.once("exit", () => signalGroup(wranglerGroup, "SIGKILL"));
    await waitFor(`${base}/health`, 90_000, () => !exited);

    const post = async (path: string, body: string, type: string, method = "POST") => {
      const res = await fetch(`${base}${path}`, { method, headers: { ...auth, "content-type": type }, body });
      return { status: res.status, text: await res.text() };
    };
    const statementNow = async () => {
      const s = await post("/v1/admin/issuers/demo/statements", JSON.stringify(await demoCustodianStatement(BigInt(Math.floor(Date.now() / 1000)))), "application/json");
      if (s.status !== 201) log(`custodian statement refused (${s.status}): ${s.text}`);
      return s;
    };
    if ((await statementNow()).status !== 201) throw new Error("the demo's first custodian statement was refused");
    const ledger = await post("/v1/admin/issuers/demo/ledger", demoLedgerCsv(users), "text/csv", "PUT");
    if (ledger.status !== 201) throw new Error(`uploading the demo ledger failed (${ledger.status}): ${ledger.text}`);
    log(`ledger of ${users.length} users uploaded, root ${(JSON.parse(ledger.text) as { root: string }).root}`);

    let step = 0;
    const tick = async () => {
      await refreshDemoFeeds(world, BigInt(Math.floor(Date.now() / 1000)), step++);
      await statementNow();
      // The same path a deployed cron takes: scheduled() fans out to every issuer's publisher.
      const res = await fetch(`${base}/__scheduled?cron=${encodeURIComponent("* * * * *")}`);
      if (!res.ok) log(`cron trigger answered ${res.status}`);
      for (const issuer of ["demo-stable", "demo"]) {
        const latest = await fetch(`${base}/v1/issuers/${issuer}/attestations/latest`);
        if (latest.ok) {
          const { attestation } = (await latest.json()) as { attestation: { sequence: string; ratioBps: string; flags: string } };
          const flags = decodeFlags(BigInt(attestation.flags));
          log(`${issuer}: attestation #${attestation.sequence}, ratio ${(Number(attestation.ratioBps) / 100).toFixed(2)} %, ${flags.length === 0 ? "no flags" : `flags ${flags.join(", ")}`}`);
        } else {
          const status = await fetch(`${base}/v1/admin/issuers/${issuer}/publisher`, { headers: auth });
          log(`${issuer}: no attestation yet (${await status.text()})`);
        }
      }
    };
    await tick();
    if (options.tickMs) {
      timer = setInterval(() => tick().catch((e: Error) => log(`tick failed: ${e.message}`)), options.tickMs);
    }
    return { base, world, users, tick, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
