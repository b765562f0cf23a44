/**
 * `npm start`: a local Solvent publisher, offline.
 *
 * - `npm start` runs the embedded demo (its own configuration, generated on
 *   a fresh anvil; config/solvent.config.json is not used): anvil on
 *   127.0.0.1:8545 (ANVIL_PORT), the Worker on 127.0.0.1:8787 (PORT), local
 *   D1/R2 under .wrangler/state, secrets in .dev.vars (made on first start),
 *   a tick at once and then every minute.
 * - `npm start -- --config FILE [--anvil] [--env-file F…] [--state DIR] [--fresh]`
 *   runs your configuration instead (scripts/local/runConfig.ts).
 *
 * Ctrl-C stops everything.
 */
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { bytesToHex } from "../core/bytes.js";
import { startDemo } from "./demo/runDemo.js";
import { runConfig, SAMPLE_ACCOUNTS, UnusableInput } from "./local/runConfig.js";

const log = (line: string) => console.log(`[solvent] ${line}`);

const HELP = `usage: npm start [-- --config FILE [options]]

Without --config: the embedded demo (two demo issuers on a fresh local chain;
config/solvent.config.json is not used).

  --config FILE     run the publisher with this configuration instead
  --anvil           start a local chain (anvil, chain id 31337, on ANVIL_PORT, default 8545)
                    with sample tokens, feeds and a pool; FILE must name it as a chain
                    { "chainId": 31337, "rpcUrls": ["http://127.0.0.1:8545"] }.
                    Without it, the RPC URLs in FILE are used as they are.
  --env-file FILE   secrets as KEY=value lines (repeatable; later files win); default .dev.vars,
                    made on first use with a new SIGNING_KEY and ADMIN_TOKEN. A secret FILE
                    names (\${NAME} in a URL, a relayer key, a webhook secret) that no file
                    sets is taken from the environment.
  --state DIR       local D1/R2/queue state; default .wrangler/local/<file name>-<hash>
  --fresh           delete the state directory first
  PORT=n            the Worker's port (default 8787)

Exit status: 0 after Ctrl-C, 1 when the publisher could not start, 2 when the
configuration, the secrets or the options cannot be used.`;

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!/^[0-9]{1,5}$/.test(raw) || n < 1 || n > 65535) {
    console.error(`${name} must be a TCP port number, got "${raw}"`);
    process.exit(2);
  }
  return n;
}

/** .dev.vars holds the local secrets; made once and kept, so the signing key survives restarts. */
async function ensureDevVars(): Promise<string> {
  if (!existsSync(".dev.vars")) {
    const key = bytesToHex(crypto.getRandomValues(new Uint8Array(32)));
    const token = bytesToHex(crypto.getRandomValues(new Uint8Array(24))).slice(2);
    const blinding = bytesToHex(crypto.getRandomValues(new Uint8Array(32)));
    await writeFile(
      ".dev.vars",
      `# Local secrets for wrangler dev (made by npm start; never commit)\nSIGNING_KEY=${key}\nADMIN_TOKEN=${token}\nLEDGER_BLINDING_SECRET=${blinding}\n`,
      { mode: 0o600 },
    );
    log("created .dev.vars with a new signing key, admin token and ledger blinding secret");
  }
  let vars = await readFile(".dev.vars", "utf8");
  if (!/^LEDGER_BLINDING_SECRET=\S/m.test(vars)) {
    // Private ledgers (SPEC §11) need it; a .dev.vars made before them gets it appended, the rest untouched.
    const secret = bytesToHex(crypto.getRandomValues(new Uint8Array(32)));
    const line = `LEDGER_BLINDING_SECRET=${secret}\n`;
    vars = `${vars}${vars === "" || vars.endsWith("\n") ? "" : "\n"}${line}`;
    await writeFile(".dev.vars", vars, { mode: 0o600 });
    log("added a new LEDGER_BLINDING_SECRET to .dev.vars (private ledgers derive their blindings from it)");
  }
  const token = /^ADMIN_TOKEN=(.+)$/m.exec(vars)?.[1]?.trim();
  if (!token) throw new Error(".dev.vars has no ADMIN_TOKEN line; delete the file to have a new one made");
  return token;
}

let stopRunning: (() => Promise<void>) | undefined;
let stopping = false;
async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    log("stopping");
    await stopRunning?.();
  }
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

const OPTIONS = {
  config: { type: "string" },
  anvil: { type: "boolean", default: false },
  "env-file": { type: "string", multiple: true },
  state: { type: "string" },
  fresh: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

function parseOptions() {
  try {
    return parseArgs({ options: OPTIONS, strict: true }).values;
  } catch (e) {
    console.error(`npm start: ${(e as Error).message}\n\n${HELP}`);
    process.exit(2);
  }
}
const args = parseOptions();
if (args.help) {
  console.log(HELP);
  process.exit(0);
}
if (args.config === undefined && (args.anvil || args["env-file"] || args.state || args.fresh)) {
  console.error(`npm start: --anvil, --env-file, --state and --fresh go with --config FILE\n\n${HELP}`);
  process.exit(2);
}

try {
  if (args.config !== undefined) await startOwn(args.config);
  else await startEmbeddedDemo();
} catch (e) {
  if (e instanceof UnusableInput) {
    console.error(`[solvent] ${e.message}`);
    await shutdown(2);
  }
  console.error(`[solvent] ${(e as Error).message}`);
  await shutdown(1);
}

async function startOwn(configFile: string): Promise<void> {
  const envFiles = args["env-file"] ?? [".dev.vars"];
  if (args["env-file"] === undefined) await ensureDevVars();
  const running = await runConfig({
    config: configFile,
    port: port("PORT", 8787),
    anvilPort: port("ANVIL_PORT", 8545),
    anvil: args.anvil,
    envFiles,
    ...(args.state !== undefined ? { state: args.state } : {}),
    fresh: args.fresh,
    tickMs: 60_000,
    log,
  });
  stopRunning = running.stop;
  const { base, sample } = running;
  const sampleLines = sample
    ? `
  local chain   ${sample.rpcUrl} (chain id ${sample.chainId}); sample contracts, also in ${running.stateDir}/anvil.json:
    USDC ${sample.usdc}   WETH ${sample.weth}   USDC/USD feed ${sample.usdcFeed}
    ETH/USD feed ${sample.ethFeed}   WETH/USDC pool ${sample.pool}   svUSDC vault ${sample.vault}
  funded anvil test accounts (their keys are anvil's published ones):
${SAMPLE_ACCOUNTS.map((a) => `    #${a.index} ${a.address}  ${a.holds}`).join("\n")}
`
    : "";
  console.log(`
  Solvent is publishing ${configFile} locally.

  issuers       ${running.config.issuers.map((i) => i.id).join(", ")}
  api           ${base}/v1/issuers
  page          ${base}/
  health        ${base}/health
  state         ${running.stateDir}   (--fresh or deleting it starts over)
  secrets       ${envFiles.join(", ")}${sampleLines}
  Edits to ${configFile} take effect at the next start. The cron fires every minute. Ctrl-C stops everything.
`);
}

async function startEmbeddedDemo(): Promise<void> {
  const adminToken = await ensureDevVars();
  log(
    "running the embedded demo (its own configuration; `npm start -- --config config/solvent.config.json` runs yours)",
  );
  const demo = await startDemo({
    port: port("PORT", 8787),
    anvilPort: port("ANVIL_PORT", 8545),
    persistTo: ".wrangler/state",
    workDir: ".wrangler/demo",
    secretFiles: [".dev.vars"],
    adminToken,
    privateIssuer: true,
    tickMs: 60_000,
    log,
  });
  stopRunning = demo.stop;
  const { base } = demo;
  const shown = demo.users.slice(0, 3);
  console.log(`
  Solvent is publishing locally.

  issuers       ${base}/v1/issuers
  latest        ${base}/v1/issuers/demo/attestations/latest
  keys          ${base}/.well-known/solvent/keys.json
  demo users    ${base}/demo/users.json   (all ${demo.users.length} with salts: .wrangler/demo/users.json)
  admin token   ${adminToken}   (in .dev.vars)
  anvil         ${demo.world.rpcUrl}

  Three demo users you can verify:
${shown.map((u) => `    ${u.userId}  salt ${u.salt}`).join("\n")}

  Verify the first one against the live publisher (only the commitment leaves your machine):
    npx solvent verify --publisher ${base} --issuer demo --user ${shown[0]!.userId} --salt ${shown[0]!.salt}

  demo-private publishes a private ledger (SPEC §11): its proofs show no other user's balance.
  Its users (all ${demo.privateUsers.length} with salts: .wrangler/demo/users-private.json), e.g.
    npx solvent verify --publisher ${base} --issuer demo-private --user ${demo.privateUsers[0]!.userId} --salt ${demo.privateUsers[0]!.salt}

  A new attestation of each issuer every minute. Ctrl-C stops everything.
`);
}
