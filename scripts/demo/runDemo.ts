/**
 * The local demo publisher as a function: anvil with the demo world, the
 * Worker under `wrangler dev` with local D1/R2, a custodian statement, a user
 * ledger, and a tick every `tickMs`. `npm start` runs it on fixed ports; the
 * browser tests run their own on free ports with throwaway state.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { privateKeyToAccount } from "viem/accounts";
import { bytesToHex } from "../../core/bytes.js";
import { startAnvil } from "../lib/anvil.js";
import { describeIssuer, type LocalProcesses, startLocalWorker, stopLocal } from "../lib/localWorker.js";
import { type DemoUser, demoLedgerCsv, demoUsers } from "./ledger.js";
import {
  DEMO_PRIVATE_ISSUER,
  type DemoWorld,
  demoCustodianStatement,
  demoRelayerKey,
  deployDemoWorld,
  refreshDemoFeeds,
} from "./world.js";

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
  /** Also run `demo-private`, whose user ledger is private (SPEC §11); `npm start` does. */
  privateIssuer?: boolean;
  tickMs?: number;
  log?: (line: string) => void;
  /** Where wrangler's own output goes. */
  wranglerOutput?: "inherit" | "ignore";
}

export interface RunningDemo {
  base: string;
  world: DemoWorld;
  users: DemoUser[];
  /** demo-private's users (empty without `privateIssuer`). */
  privateUsers: DemoUser[];
  /** Runs one tick now: fresh feeds and statement, then the cron path. */
  tick(): Promise<void>;
  stop(): Promise<void>;
}

/** Whether a secret file sets LEDGER_BLINDING_SECRET (else the demo makes a throwaway one). */
async function hasBlindingSecret(files: string[]): Promise<boolean> {
  for (const file of files) if (/^LEDGER_BLINDING_SECRET=\S/m.test(await readFile(file, "utf8"))) return true;
  return false;
}

/** Uploads demo-private's ledger (always built by the queue) and waits until it is complete. */
async function uploadPrivateLedger(
  base: string,
  adminToken: string,
  users: DemoUser[],
  log: (line: string) => void,
): Promise<void> {
  const auth = { authorization: `Bearer ${adminToken}` };
  const res = await fetch(`${base}/v1/admin/issuers/${DEMO_PRIVATE_ISSUER}/ledger`, {
    method: "PUT",
    headers: { ...auth, "content-type": "text/csv" },
    body: demoLedgerCsv(users),
  });
  const text = await res.text();
  if (res.status !== 202)
    throw new Error(`uploading the ${DEMO_PRIVATE_ISSUER} ledger failed (${res.status}): ${text}`);
  const { statusUrl } = JSON.parse(text) as { statusUrl: string };
  const deadline = Date.now() + 180_000;
  for (;;) {
    const s = (await (await fetch(statusUrl, { headers: auth })).json()) as {
      status: string;
      reason: string | null;
      root: string | null;
      private?: { leafCount: number };
    };
    if (s.status === "complete") {
      log(
        `${DEMO_PRIVATE_ISSUER}: private ledger of ${users.length} users built through the queue (${s.private?.leafCount} leaves with padding), root ${s.root}`,
      );
      return;
    }
    if (s.status !== "building") throw new Error(`the ${DEMO_PRIVATE_ISSUER} ledger is ${s.status}: ${s.reason}`);
    if (Date.now() > deadline)
      throw new Error(`the ${DEMO_PRIVATE_ISSUER} ledger is still building after 3 minutes; see ${statusUrl}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
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
      privateIssuer: options.privateIssuer === true,
    });
    log(`demo contracts deployed (DUSD ${world.contracts.dusd}, vault ${world.contracts.vault})`);

    const users = demoUsers(options.users ?? 1000);
    await mkdir(options.workDir, { recursive: true });
    await writeFile(join(options.workDir, "users.json"), `${JSON.stringify(users, null, 2)}\n`);
    // demo-private's users hold ETH in whole gwei: its committed unit keeps 9 decimals.
    const privateUsers = options.privateIssuer ? demoUsers(200, "private.demo.example", 10n ** 9n) : [];
    if (options.privateIssuer)
      await writeFile(join(options.workDir, "users-private.json"), `${JSON.stringify(privateUsers, null, 2)}\n`);
    const shown = [
      ...users.slice(0, 3).map(({ userId, salt }) => ({ issuer: "demo", userId, salt })),
      ...privateUsers.slice(0, 3).map(({ userId, salt }) => ({ issuer: DEMO_PRIVATE_ISSUER, userId, salt })),
    ];
    const envFile = join(options.workDir, "demo.env");
    const throwawaySecret =
      options.privateIssuer && !(await hasBlindingSecret(options.secretFiles))
        ? [`LEDGER_BLINDING_SECRET=${bytesToHex(crypto.getRandomValues(new Uint8Array(32)))}`]
        : [];
    await writeFile(
      envFile,
      `${[
        `SOLVENT_CONFIG='${JSON.stringify(world.config)}'`,
        "DEMO_MODE=1",
        `RELAYER_KEY=${demoRelayerKey()}`,
        `DEMO_USERS='${JSON.stringify(shown)}'`,
        `DEMO_CONTRACTS='${JSON.stringify({ chainId: world.chainId, rpcUrl: world.rpcUrl, ...world.contracts })}'`,
        ...throwawaySecret,
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
    if (options.privateIssuer) await uploadPrivateLedger(base, options.adminToken, privateUsers, log);
    const issuers = ["demo-stable", "demo", ...(options.privateIssuer ? [DEMO_PRIVATE_ISSUER] : [])];

    let step = 0;
    const tick = async () => {
      await refreshDemoFeeds(world, BigInt(Math.floor(Date.now() / 1000)), step++);
      await statementNow();
      // The same path a deployed cron takes: scheduled() fans out to every issuer's publisher.
      await worker.scheduled().catch((e: Error) => log(e.message));
      for (const issuer of issuers) log(await describeIssuer(base, issuer, options.adminToken));
    };
    await tick();
    if (options.tickMs) {
      running.timer = setInterval(() => tick().catch((e: Error) => log(`tick failed: ${e.message}`)), options.tickMs);
    }
    return { base, world, users, privateUsers, tick, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
