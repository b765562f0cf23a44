import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { main } from "../../scripts/cli/main.js";

/** Runs the `solvent` CLI in this process with its output captured: exit status, stdout and stderr as text. */
export async function runCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, stdout: out.join("\n"), stderr: err.join("\n") };
}

const execute = promisify(execFile);
const CLI = join(process.cwd(), "scripts/solvent.mjs");

/** Runs the `solvent` command as its own process (scripts/solvent.mjs under this Node): exit status, stdout and stderr. */
export async function runCliProcess(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execute(process.execPath, [CLI, ...args]);
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** The arguments of `solvent verify` for a proof file, tied to attestation, keys and report files. */
export function verifyFileArgs(
  proof: string,
  user: { userId: string; salt: string },
  files: { attestation: string; keys: string; report: string },
): string[] {
  return ["verify", "--proof", proof, "--user", user.userId, "--salt", user.salt].concat([
    "--attestation",
    files.attestation,
    "--keys",
    files.keys,
    "--report",
    files.report,
  ]);
}
