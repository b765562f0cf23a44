/**
 * `npm start -- --config FILE`: the publisher with your own configuration on
 * this machine: the Worker under wrangler dev with its own local D1/R2/queue
 * state (one directory per configuration file, never the demo's), the cron
 * fired every minute, the page, against the RPC URLs of the file or, with
 * `--anvil`, a local chain seeded with sample contracts.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { ConfigError, parseConfigText } from "../../core/config/parseConfig.js";
import type { SolventConfig } from "../../core/config/schema.js";
import { secretsNamedBy } from "../../core/config/secretRules.js";
import { checkEnv } from "../../worker/config/secrets.js";
import type { Env } from "../../worker/env.js";
import { type DemoWorld, demoAccounts, deployDemoWorld, refreshDemoFeeds } from "../demo/world.js";
import { startAnvil } from "../lib/anvil.js";
import { describeIssuer, type LocalProcesses, startLocalWorker, stopLocal } from "../lib/localWorker.js";

/** A problem with what the user gave: printed as is, exit status 2. */
export class UnusableInput extends Error {}

export interface RunConfigOptions {
  /** The configuration file. */
  config: string;
  port: number;
  anvilPort: number;
  /** Start a local chain (anvil, chain id 31337) with the sample contracts. */
  anvil: boolean;
  /** `KEY=value` files of secrets, later files winning. */
  envFiles: string[];
  /** The state directory; default .wrangler/local/<file name>-<hash of its path>. */
  state?: string;
  /** Delete the state directory first. */
  fresh: boolean;
  tickMs: number;
  log: (line: string) => void;
  wranglerOutput?: "inherit" | "ignore";
}

export interface RunningConfig {
  base: string;
  config: SolventConfig;
  stateDir: string;
  adminToken: string | undefined;
  /** The sample contracts on the local chain (with --anvil). */
  sample?: DemoWorld["contracts"] & { rpcUrl: string; chainId: number };
  tick(): Promise<void>;
  stop(): Promise<void>;
}

/** The state directory of a configuration file: its name plus a hash of its absolute path, so two files never share one. */
export function defaultStateDir(configFile: string): string {
  const name =
    basename(configFile)
      .replace(/\.json$/i, "")
      .replace(/[^A-Za-z0-9._-]/g, "_") || "config";
  const hash = createHash("sha256").update(resolve(configFile)).digest("hex").slice(0, 8);
  return join(".wrangler", "local", `${name}-${hash}`);
}

/** `KEY=value` lines as wrangler's --env-file reads them: `#` comments, optional `export `, single or double quotes. */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(raw);
    if (!match || raw.trimStart().startsWith("#")) continue;
    let value = match[2]!;
    const quoted = /^(['"])([\s\S]*)\1$/.exec(value);
    if (quoted) value = quoted[1] === '"' ? quoted[2]!.replace(/\\n/g, "\n") : quoted[2]!;
    else value = value.replace(/\s+#.*$/, "");
    out[match[1]!] = value;
  }
  return out;
}

async function readConfig(file: string): Promise<{ text: string; config: SolventConfig }> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw new UnusableInput(
      `cannot read the configuration ${file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`,
    );
  }
  try {
    return { text, config: parseConfigText(text, file) };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    throw new UnusableInput(
      `${file} is not a usable configuration:\n${e.issues.map((i) => `  ${i.path}: ${i.message}`).join("\n")}\n(npx solvent config check ${file} prints the same)`,
    );
  }
}

export async function runConfig(options: RunConfigOptions): Promise<RunningConfig> {
  const { log } = options;
  const { config } = await readConfig(options.config);

  // Secrets: the env files, then the process environment for any secret the configuration names and no file sets.
  const secrets: Record<string, string> = {};
  for (const file of options.envFiles) {
    if (!existsSync(file)) throw new UnusableInput(`the secrets file ${file} does not exist`);
    Object.assign(secrets, parseEnvFile(await readFile(file, "utf8")));
  }
  const fromProcess = secretsNamedBy(config)
    .map((s) => s.name)
    .filter((name) => secrets[name] === undefined && typeof process.env[name] === "string");
  for (const name of fromProcess) secrets[name] = process.env[name]!;
  const check = checkEnv(secrets as unknown as Env, config);
  if (!check.ok) {
    throw new UnusableInput(
      `the secrets for ${options.config} are not usable (from ${options.envFiles.join(", ")} and the environment):\n${check.problems.map((p) => `  ${p.problem}`).join("\n")}`,
    );
  }

  let sampleChain: { rpcUrl: string; chainId: number } | undefined;
  if (options.anvil) {
    const rpcUrl = `http://127.0.0.1:${options.anvilPort}`;
    const local = new Set([rpcUrl, `http://localhost:${options.anvilPort}`]);
    const chain = config.chains.find((c) => c.rpcUrls.some((u) => local.has(u.replace(/\/$/, ""))));
    if (chain?.chainId !== 31337) {
      throw new UnusableInput(
        `--anvil starts a local chain at ${rpcUrl} (chain id 31337), but ${options.config} has no chain ${chain ? `with chain id 31337 at that URL (it says ${chain.chainId})` : "with that RPC URL"}: ` +
          `add { "chainId": 31337, "rpcUrls": ["${rpcUrl}"] } to "chains", or set ANVIL_PORT to the port your configuration names`,
      );
    }
    sampleChain = { rpcUrl, chainId: 31337 };
  }

  const stateDir = options.state ?? defaultStateDir(options.config);
  if (options.fresh) await rm(stateDir, { recursive: true, force: true });
  await mkdir(stateDir, { recursive: true });
  // The configuration goes in as SOLVENT_CONFIG, JSON in single quotes. wrangler expands $NAME in env files
  // (even quoted), which would empty "$comment" and fill ${NAME} placeholders early: every ' and $ is
  // written as a JSON \u escape instead, which parses to the same JSON.
  const runEnv = join(stateDir, "run.env");
  const json = JSON.stringify(JSON.parse(await readFile(options.config, "utf8")));
  const lines = [`SOLVENT_CONFIG='${json.replace(/'/g, "\\u0027").replace(/\$/g, "\\u0024")}'`];
  for (const name of fromProcess) {
    if (/['$]/.test(secrets[name]!))
      throw new UnusableInput(
        `${name} from the environment holds ' or $, which cannot be passed on as it is: put it in a file given with --env-file`,
      );
    lines.push(`${name}='${secrets[name]}'`);
  }
  await writeFile(
    runEnv,
    `# Made by npm start -- --config ${options.config}; rewritten at every start\n${lines.join("\n")}\n`,
    { mode: 0o600 },
  );

  const running: LocalProcesses = {};
  const stop = () => stopLocal(running);
  try {
    let world: DemoWorld | undefined;
    if (sampleChain) {
      const anvil = await startAnvil({ port: options.anvilPort });
      running.anvil = anvil;
      world = await deployDemoWorld(anvil.rpcUrl);
      await writeFile(
        join(stateDir, "anvil.json"),
        `${JSON.stringify({ ...sampleChain, ...world.contracts }, null, 2)}\n`,
      );
      log(`anvil on ${anvil.rpcUrl} (chain id 31337) with the sample contracts (${join(stateDir, "anvil.json")})`);
    }
    const worker = await startLocalWorker({
      port: options.port,
      persistTo: join(stateDir, "state"),
      envFiles: [...options.envFiles, runEnv],
      output: options.wranglerOutput,
    });
    running.worker = worker;
    const { base } = worker;
    const health = await fetch(`${base}/health`);
    if (!health.ok) log(`GET /health answers ${health.status}: ${await health.text()}`);
    else await health.arrayBuffer();

    let step = 0;
    const tick = async () => {
      if (world) await refreshDemoFeeds(world, BigInt(Math.floor(Date.now() / 1000)), step++);
      await worker.scheduled().catch((e: Error) => log(e.message));
      for (const { id } of config.issuers) log(await describeIssuer(base, id, secrets.ADMIN_TOKEN ?? ""));
    };
    await tick();
    if (options.tickMs > 0)
      running.timer = setInterval(() => tick().catch((e: Error) => log(`tick failed: ${e.message}`)), options.tickMs);
    return {
      base,
      config,
      stateDir,
      adminToken: secrets.ADMIN_TOKEN,
      ...(world && sampleChain ? { sample: { ...sampleChain, ...world.contracts } } : {}),
      tick,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** What `--anvil` funds, for the printed summary and the README: anvil's published test accounts. */
export const SAMPLE_ACCOUNTS = [
  {
    index: 1,
    address: demoAccounts.stableTreasury.address,
    holds: "600,000 USDC and 300,000 USDC in the vault (svUSDC)",
  },
  { index: 3, address: demoAccounts.hotWallet.address, holds: "1,200,000 USDC and 250 ETH" },
  { index: 4, address: demoAccounts.coldWallet.address, holds: "100 WETH" },
] as const;
