/**
 * The local demo publisher as a function: anvil with the demo world, the
 * Worker under `wrangler dev` with local D1/R2, a custodian statement, a user
 * ledger, and a tick every `tickMs`. `npm start` runs it on fixed ports; the
 * browser tests run their own on free ports with throwaway state.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { privateKeyToAccount } from "viem/accounts";
import { startAnvil } from "../lib/anvil.js";
import { describeIssuer, type LocalProcesses, startLocalWorker, stopLocal } from "../lib/localWorker.js";
import { type DemoUser, demoLedgerCsv, demoUsers } from "./ledger.js";
import { type DemoWorld, demoCustodianStatement, demoRelayerKey, deployDemoWorld, refreshDemoFeeds } from "./world.js";

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

export async function startDemo(options: DemoOptions): Promise<RunningDemo> {
  const log = options.log ?? (() => undefined);
  const running: LocalProcesses = {};
  const stop = () => stopLocal(running);

  try {
    const anvil = await startAnvil(options.anvilPort === 0 ? {} : { port: options.anvilPort });
    running.anvil = anvil;
    log(`anvil on ${anvil.rpcUrl}`);
    const world = await deployDemoWorld(anvil.rpcUrl, {
      ttlSeconds: 600,
      attestationSigner: await signingAddress(options.secretFiles),
    });
    log(`demo contracts deployed (DUSD ${world.contracts.dusd}, vault ${world.contracts.vault})`);

    const users = demoUsers(options.users ?? 1000);
    await mkdir(options.workDir, { recursive: true });
    await writeFile(join(options.workDir, "users.json"), `${JSON.stringify(users, null, 2)}\n`);
    const shown = users.slice(0, 3).map(({ userId, salt }) => ({ userId, salt }));
    const envFile = join(options.workDir, "demo.env");
    await writeFile(
      envFile,
      `${[
        `SOLVENT_CONFIG='${JSON.stringify(world.config)}'`,
        "DEMO_MODE=1",
        `RELAYER_KEY=${demoRelayerKey()}`,
        `DEMO_USERS='${JSON.stringify(shown)}'`,
        `DEMO_CONTRACTS='${JSON.stringify({ chainId: world.chainId, rpcUrl: world.rpcUrl, ...world.contracts })}'`,
      ].join("\n")}\n`,
    );

    const worker = await startLocalWorker({
      port: options.port,
      persistTo: options.persistTo,
      envFiles: [...options.secretFiles, envFile],
      output: options.wranglerOutput ?? "inherit",
    });
    running.worker = worker;
    const { base } = worker;
    const auth = { authorization: `Bearer ${options.adminToken}` };

    const post = async (path: string, body: string, type: string, method = "POST") => {
      const res = await fetch(`${base}${path}`, { method, headers: { ...auth, "content-type": type }, body });
      return { status: res.status, text: await res.text() };
    };
    const statementNow = async () => {
      const s = await post(
        "/v1/admin/issuers/demo/statements",
        JSON.stringify(await demoCustodianStatement(BigInt(Math.floor(Date.now() / 1000)))),
        "application/json",
      );
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
      await worker.scheduled().catch((e: Error) => log(e.message));
      for (const issuer of ["demo-stable", "demo"]) log(await describeIssuer(base, issuer, options.adminToken));
    };
    await tick();
    if (options.tickMs) {
      running.timer = setInterval(() => tick().catch((e: Error) => log(`tick failed: ${e.message}`)), options.tickMs);
    }
    return { base, world, users, tick, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
