import { parseArgs } from "node:util";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { EXIT_OK, type Output } from "./io.js";

export const keygenHelp = `solvent keygen

Prints a new secp256k1 signing key and its address. Keep the key secret: put it
in a Worker secret (wrangler secret put SIGNING_KEY), never in a file in git.`;

export function keygen(args: string[], io: Output): number {
  // Refuse unknown options rather than print a key for a mistyped command.
  parseArgs({ args, options: {}, strict: true });
  const privateKey = generatePrivateKey();
  const { address } = privateKeyToAccount(privateKey);
  io.out(`address:     ${address}`);
  io.out(`private key: ${privateKey}`);
  return EXIT_OK;
}
