import { EXIT_UNUSABLE, type Output } from "./io.js";
import { ledgerHelp, ledgerUpload } from "./ledgerUpload.js";

export { ledgerHelp };

/** `solvent ledger <subcommand>`: only `upload` so far. */
export function ledger(args: string[], io: Output): Promise<number> | number {
  const [sub, ...rest] = args;
  if (sub === "upload") return ledgerUpload(rest, io);
  io.err(`solvent ledger: unknown subcommand "${sub ?? ""}"\n\n${ledgerHelp}`);
  return EXIT_UNUSABLE;
}
