/**
 * `npm start`: a local Solvent publisher with an embedded demo, offline.
 * anvil on 127.0.0.1:8545 (ANVIL_PORT), the Worker on 127.0.0.1:8787 (PORT),
 * local D1/R2 under .wrangler/state, secrets in .dev.vars (made on first
 * start), a tick at once and then every minute. Ctrl-C stops everything.
 */
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { bytesToHex } from "../core/bytes.js";
import { startDemo, type RunningDemo } from "./demo/runDemo.js";

const log = (line: string) => console.log(`[solvent] ${line}`);

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
    await writeFile(".dev.vars", `# Local secrets for wrangler dev (made by npm start; never commit)\nSIGNING_KEY=${key}\nADMIN_TOKEN=${token}\n`, { mode: 0o600 });
    log("created .dev.vars with a new signing key and admin token");
  }
  const token = /^ADMIN_TOKEN=(.+)$/m.exec(await readFile(".dev.vars", "utf8"))?.[1]?.trim();
  if (!token) throw new Error(".dev.vars has no ADMIN_TOKEN line; delete the file to have a new one made");
  return token;
}

let demo: RunningDemo | undefined;
let stopping = false;
async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    log("stopping");
    await demo?.stop();
  }
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

try {
  const adminToken = await ensureDevVars();
  demo = await startDemo({
    port: port("PORT", 8787),
    anvilPort: port("ANVIL_PORT", 8545),
    persistTo: ".wrangler/state",
    workDir: ".wrangler/demo",
    secretFiles: [".dev.vars"],
    adminToken,
    tickMs: 60_000,
    log,
  });
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

  A new attestation of each issuer every minute. Ctrl-C stops everything.
`);
} catch (e) {
  console.error(`[solvent] ${(e as Error).message}`);
  await shutdown(1);
}
