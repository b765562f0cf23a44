import { readFile, stat } from "node:fs/promises";
import { type PrivateKeyAccount, privateKeyToAccount } from "viem/accounts";
import { type Output, UsageError } from "./io.js";

/** The options every signing command shares: a key file or an environment variable, never the key itself. */
export const SIGNER_KEY_OPTIONS = {
  "key-file": { type: "string" },
  "key-env": { type: "string" },
  key: { type: "string" },
} as const;

export interface SignerKeyValues {
  "key-file"?: string;
  "key-env"?: string;
  key?: string;
}

const KEY = /^(0x)?[0-9a-fA-F]{64}$/;

/** True when one of the key options was given. */
export function hasSignerKey(values: SignerKeyValues): boolean {
  return values["key-file"] !== undefined || values["key-env"] !== undefined;
}

/**
 * The signing account from `--key-file FILE` (the 0x-hex key on its own line)
 * or `--key-env NAME` (an environment variable holding it). A key on the
 * command line would sit in the shell history and the process list, so
 * `--key` is refused with the way to do it. Errors never quote the key.
 */
export async function readSignerKey(
  values: SignerKeyValues,
  io: Output,
  env: Record<string, string | undefined> = process.env,
): Promise<PrivateKeyAccount> {
  if (values.key !== undefined) {
    throw new UsageError(
      "a key on the command line ends up in the shell history: put it in a file (--key-file FILE) or an environment variable (--key-env NAME)",
    );
  }
  if (values["key-file"] !== undefined && values["key-env"] !== undefined)
    throw new UsageError("give --key-file or --key-env, not both");
  let text: string;
  let from: string;
  if (values["key-file"] !== undefined) {
    const file = values["key-file"];
    from = `--key-file ${file}`;
    try {
      text = await readFile(file, "utf8");
    } catch (e) {
      throw new UsageError(`${from}: cannot read it: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const mode = (await stat(file)).mode;
    if (process.platform !== "win32" && (mode & 0o077) !== 0) {
      io.err(`warning: ${file} can be read by other users of this machine (chmod 600 ${file})`);
    }
  } else if (values["key-env"] !== undefined) {
    const name = values["key-env"];
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      throw new UsageError(`--key-env must name an environment variable, got "${name.slice(0, 80)}"`);
    from = `--key-env ${name}`;
    const value = env[name];
    if (value === undefined || value === "")
      throw new UsageError(`${from}: the environment variable ${name} is not set`);
    text = value;
  } else {
    throw new UsageError("no signing key: give --key-file FILE or --key-env NAME");
  }
  const key = text.trim();
  if (!KEY.test(key)) throw new UsageError(`${from}: expected a 32-byte hex private key (64 hex digits, 0x optional)`);
  try {
    return privateKeyToAccount((key.startsWith("0x") ? key : `0x${key}`) as `0x${string}`);
  } catch {
    throw new UsageError(`${from}: not a valid secp256k1 private key (it must be between 1 and the curve order)`);
  }
}

/** A 65-byte 0x signature from `--signature`, for keys that live in a hardware wallet or a Safe. */
export function parseSignatureOption(value: string): `0x${string}` {
  const text = value.trim();
  if (!/^0x[0-9a-fA-F]{130}$/.test(text))
    throw new UsageError("--signature must be a 65-byte 0x hex signature (130 hex digits)");
  return text.toLowerCase() as `0x${string}`;
}
