/** Exit codes shared by every command. */
export const EXIT_OK = 0;
export const EXIT_INVALID = 1;
export const EXIT_UNUSABLE = 2;

/** Input that cannot be used at all (missing flag, unreadable file): exit 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

export interface Output {
  out(line: string): void;
  err(line: string): void;
}

export const consoleOutput: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};
