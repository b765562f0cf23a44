import { main } from "../../scripts/cli/main.js";

/** Runs the `solvent` CLI in this process with its output captured: exit status, stdout and stderr as text. */
export async function runCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, stdout: out.join("\n"), stderr: err.join("\n") };
}
