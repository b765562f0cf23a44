import { parseArgs } from "node:util";
import { bytesToHex, hexToBytes } from "../../core/bytes.js";
import { userCommitment } from "../../core/liabilities/commitment.js";
import { EXIT_OK, type Output, UsageError } from "./io.js";

export const commitHelp = `solvent commit --user ID [--salt HEX] [--json]

Prints your SPEC §2 commitment SHA-256(0x02 || salt || utf8(userId)): the key
under which the publisher serves your inclusion proof. Without --salt, a fresh
random 16-byte salt is made and printed (an issuer does this per user per snapshot).
--json prints { userId, salt, commitment }.`;

export function commit(args: string[], io: Output): number {
  const { values } = parseArgs({
    args,
    options: { user: { type: "string" }, salt: { type: "string" }, json: { type: "boolean" } },
    strict: true,
  });
  if (values.user === undefined) throw new UsageError("--user is required");
  // A ledger refuses an empty userId (worker/ledger/parseLedger.ts), so no commitment of one is ever served.
  if (values.user === "") throw new UsageError("--user is empty");
  const salt =
    values.salt === undefined ? crypto.getRandomValues(new Uint8Array(16)) : hexToBytes(values.salt, "--salt");
  // Computed before anything is printed: a bad salt prints only the reason.
  const commitment = bytesToHex(userCommitment(salt, values.user));
  if (values.json) {
    io.out(JSON.stringify({ userId: values.user, salt: bytesToHex(salt), commitment }));
    return EXIT_OK;
  }
  io.out(`userId:     ${values.user}`);
  io.out(`salt:       ${bytesToHex(salt)}`);
  io.out(`commitment: ${commitment}`);
  return EXIT_OK;
}
