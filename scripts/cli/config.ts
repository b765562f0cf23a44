import { parseArgs } from "node:util";
import { checkConfig } from "../../core/config/parseConfig.js";
import type { SolventConfig } from "../../core/config/schema.js";
import { secretsNamedBy } from "../../core/config/secretRules.js";
import { type DryRunIssuer, dryRun, ratioText, type StatementInput, usdText } from "./dryRun.js";
import { EXIT_INVALID, EXIT_OK, EXIT_UNUSABLE, type Output, UsageError } from "./io.js";
import { readJsonInput } from "./readInput.js";

export const configHelp = `solvent config check FILE [--rpc] [--issuer ID] [--statement FILE …] [--json]

Checks a configuration file against the schema and the references between
its parts, and lists every problem at once, each with its JSON path
(e.g. issuers[0].reserves.holders[1].holdings[0].asset).
--rpc also runs a tick without signing or storing anything: every chain
answers with its configured chain id, every holding, supply and price source
is read at a pinned block, ownership proofs are verified (ERC-1271 wallets
asked), token symbols and decimals are compared with the assets they are
configured as, and the would-be report is summarised: reserves, liabilities,
ratio and the flags it would raise, with their reasons. \${NAME} placeholders
in RPC URLs are filled from environment variables of the same name. A user
ledger is not read (upload it with solvent ledger upload): an issuer with one
shows its reserves without a ratio. --statement FILE (repeatable) adds a
custodian statement body (as solvent statement sign writes it) to the tick.
--issuer ID limits the dry run to one issuer. --json prints one JSON object.
Exit status: 0 valid (and, with --rpc, every check passed; warnings and
notes do not fail), 1 invalid or a check failed, 2 unusable input (no such
file, not JSON, a secret an RPC URL needs is not set, no chain answered).`;

/** `solvent config <check>`. */
export async function config(args: string[], io: Output): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "check") return check(rest, io);
  io.err(`solvent config: unknown subcommand "${sub ?? ""}"\n\n${configHelp}`);
  return EXIT_UNUSABLE;
}

const MARK = { pass: "PASS", fail: "FAIL", warn: "WARN", note: "NOTE" } as const;

async function check(args: string[], io: Output): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      rpc: { type: "boolean" },
      issuer: { type: "string" },
      statement: { type: "string", multiple: true },
      json: { type: "boolean" },
    },
  });
  if (positionals.length !== 1) throw new UsageError("give exactly one configuration FILE");
  if (!values.rpc && (values.issuer !== undefined || values.statement !== undefined))
    throw new UsageError("--issuer and --statement belong to the --rpc dry run");
  const file = positionals[0]!;
  return checkFile(
    file,
    {
      rpc: values.rpc === true,
      issuerId: values.issuer,
      statementFiles: values.statement ?? [],
      json: values.json === true,
    },
    io,
  );
}

export interface CheckFileOptions {
  rpc: boolean;
  issuerId?: string;
  statementFiles?: string[];
  json: boolean;
  /** Where `${NAME}` RPC placeholders come from; default the environment. */
  secrets?: Record<string, unknown>;
}

/** Checks one file and prints the result; returns the exit status. `solvent init` runs it on what it wrote. */
export async function checkFile(file: string, options: CheckFileOptions, io: Output): Promise<number> {
  const json = await readJsonInput(file, "configuration");
  const statements: StatementInput[] = [];
  for (const s of options.statementFiles ?? [])
    statements.push({ file: s, body: await readJsonInput(s, "--statement") });
  const { config, issues } = checkConfig(json);
  if (config === null) {
    if (options.json) io.out(JSON.stringify({ file, valid: false, issues }));
    else {
      io.out(`${file}: ${issues.length} problem${issues.length === 1 ? "" : "s"}`);
      for (const i of issues) io.out(`  ${i.path}: ${i.message}`);
    }
    return EXIT_INVALID;
  }
  if (!options.rpc) {
    if (options.json) io.out(JSON.stringify({ file, valid: true, issues: [], secrets: secretNames(config) }));
    else io.out(`${file}: valid; ${describe(config)}`);
    return EXIT_OK;
  }
  const results = await dryRun(config, {
    issuerId: options.issuerId,
    secrets: options.secrets ?? process.env,
    statements,
  });
  const failed = results.some((r) => r.checks.some((c) => c.level === "fail"));
  const unreachable = results.every((r) => r.unreachable);
  if (options.json)
    io.out(
      JSON.stringify({ file, valid: true, issues: [], secrets: secretNames(config), dryRun: results, passed: !failed }),
    );
  else {
    io.out(`${file}: valid; ${describe(config)}`);
    for (const r of results) printIssuer(r, io);
  }
  if (unreachable) {
    io.err("no chain answered: check the RPC URLs and the network, then run the check again");
    return EXIT_UNUSABLE;
  }
  return failed ? EXIT_INVALID : EXIT_OK;
}

function printIssuer(r: DryRunIssuer, io: Output): void {
  io.out(`\nissuer ${r.issuer}: dry run (nothing signed or stored)`);
  for (const c of r.checks) io.out(`[${MARK[c.level]}] ${c.subject}: ${c.detail}`);
  if (!r.summary) {
    io.out("would publish nothing (see the failed valuation above)");
    return;
  }
  const s = r.summary;
  io.out(
    `would publish: reserves ${usdText(s.reservesUsd)} (on-chain ${usdText(s.onchainReservesUsd)}, off-chain ${usdText(s.offchainReservesUsd)})`,
  );
  if (s.liabilitiesUsd === null)
    io.out("  liabilities: from the user ledger, not read by a dry run; the ratio follows once it is uploaded");
  else io.out(`  liabilities ${usdText(s.liabilitiesUsd)}, ratio ${ratioText(s.ratioBps!)}`);
  if (s.flags.length === 0) io.out("  flags: none (healthy)");
  for (const f of s.flags) io.out(`  flag ${f.name}: ${f.reason}`);
  const counts = (["fail", "warn"] as const).map(
    (l) => `${r.checks.filter((c) => c.level === l).length} ${l === "fail" ? "failed" : "warnings"}`,
  );
  io.out(`  ${counts.join(", ")}`);
}

/** Secrets the RPC URLs name: the deployment must have them (the Worker's list, core/config/secretRules.ts). */
function secretNames(config: SolventConfig): string[] {
  return secretsNamedBy(config, { rpcOnly: true }).map((s) => s.name);
}

function describe(config: SolventConfig): string {
  const issuers = config.issuers.map((i) => {
    const liabilities = [
      i.liabilities.supply ? `supply of ${i.liabilities.supply.asset}` : null,
      i.liabilities.ledger ? `a ledger of ${i.liabilities.ledger.assets.join(", ")}` : null,
    ]
      .filter(Boolean)
      .join(" and ");
    return `${i.id} (${i.assets.length} asset${i.assets.length === 1 ? "" : "s"}, ${i.reserves.holders.length} holder${i.reserves.holders.length === 1 ? "" : "s"}, ${i.reserves.custodians.length} custodian${i.reserves.custodians.length === 1 ? "" : "s"}, liabilities: ${liabilities})`;
  });
  const secrets = secretNames(config);
  return `${config.chains.length} chain${config.chains.length === 1 ? "" : "s"}, issuers ${issuers.join(", ")}${secrets.length > 0 ? `; secrets the RPC URLs need: ${secrets.join(", ")}` : ""}`;
}
