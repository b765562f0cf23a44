import { SolventError } from "../../core/errors.js";
import { commit, commitHelp } from "./commit.js";
import { config, configHelp } from "./config.js";
import { dispute, disputeHelp } from "./dispute.js";
import { init, initHelp } from "./init.js";
import { consoleOutput, EXIT_UNUSABLE, type Output, UsageError } from "./io.js";
import { keygen, keygenHelp } from "./keygen.js";
import { keys, keysHelp } from "./keys.js";
import { ledger, ledgerHelp } from "./ledger.js";
import { ownership, ownershipHelp } from "./ownership.js";
import { receipt, receiptHelp } from "./receipt.js";
import { statement, statementHelp } from "./statement.js";
import { verify, verifyHelp } from "./verify.js";

type Command = (args: string[], io: Output) => number | Promise<number>;

const COMMANDS: Record<string, { run: Command; help: string }> = {
  init: { run: init, help: initHelp },
  commit: { run: commit, help: commitHelp },
  verify: { run: verify, help: verifyHelp },
  keygen: { run: keygen, help: keygenHelp },
  keys: { run: keys, help: keysHelp },
  ledger: { run: ledger, help: ledgerHelp },
  statement: { run: statement, help: statementHelp },
  ownership: { run: ownership, help: ownershipHelp },
  config: { run: config, help: configHelp },
  receipt: { run: receipt, help: receiptHelp },
  dispute: { run: dispute, help: disputeHelp },
};

const USAGE = `usage: solvent <command> [options]

commands:
${Object.values(COMMANDS)
  .map((c) => `  ${c.help.split("\n")[0]}`)
  .join("\n")}

solvent <command> --help explains one command.`;

/** Runs the CLI and returns its exit status. */
export async function main(argv: string[], io: Output = consoleOutput): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.out(USAGE);
    return name === undefined ? EXIT_UNUSABLE : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.err(`solvent: unknown command "${name}"\n\n${USAGE}`);
    return EXIT_UNUSABLE;
  }
  if (args.includes("--help") || args.includes("-h")) {
    io.out(command.help);
    return 0;
  }
  try {
    return await command.run(args, io);
  } catch (e) {
    if (
      e instanceof UsageError ||
      e instanceof SolventError ||
      (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")
    ) {
      io.err(`solvent ${name}: ${(e as Error).message}`);
      return EXIT_UNUSABLE;
    }
    throw e;
  }
}
