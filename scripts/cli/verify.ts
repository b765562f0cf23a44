import { parseArgs } from "node:util";
import { checkInclusion } from "../../core/inclusionCheck.js";
import { EXIT_INVALID, EXIT_OK, EXIT_UNUSABLE, UsageError, type Output } from "./io.js";
import { readJsonInput } from "./readInput.js";

export const verifyHelp = `solvent verify --proof FILE --user ID --salt HEX [--attestation FILE --keys FILE]

Checks an inclusion proof (SPEC §2) for your user id and salt, and when an
attestation and keys document are given, that the attestation is signed by a
key valid at its observedAt and that the proof root is its liabilitiesRoot.
FILE may also be an http(s) URL of a Solvent publisher.
The attestation file is the publisher's { attestation, signature, ... } answer.
Exit status: 0 valid, 1 not valid, 2 unusable input.`;

const MARK = { pass: "PASS", fail: "FAIL", note: "NOTE" } as const;

export async function verify(args: string[], io: Output): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      proof: { type: "string" },
      user: { type: "string" },
      salt: { type: "string" },
      attestation: { type: "string" },
      keys: { type: "string" },
    },
    strict: true,
  });
  if (values.proof === undefined) throw new UsageError("--proof is required");
  if (values.user === undefined) throw new UsageError("--user is required");
  if (values.salt === undefined) throw new UsageError("--salt is required");
  if ((values.attestation === undefined) !== (values.keys === undefined)) {
    throw new UsageError("--attestation and --keys go together: the signature is checked against the keys document");
  }

  const proof = await readJsonInput(values.proof, "--proof");
  let attested: { attestation: unknown; signature: unknown; keys: unknown } | undefined;
  if (values.attestation !== undefined && values.keys !== undefined) {
    const signed = await readJsonInput(values.attestation, "--attestation");
    if (typeof signed !== "object" || signed === null || !("attestation" in signed) || !("signature" in signed)) {
      throw new UsageError("--attestation: expected an object with `attestation` and `signature`");
    }
    attested = { attestation: signed.attestation, signature: signed.signature, keys: await readJsonInput(values.keys, "--keys") };
  }

  const result = await checkInclusion({ proof, userId: values.user, salt: values.salt, ...(attested ? { attested } : {}) });
  for (const step of result.steps) io.out(`[${MARK[step.status]}] ${step.title}: ${step.detail}`);
  io.out(result.verdict);
  if (result.valid) return EXIT_OK;
  // A salt that is not hex is unusable input, not an invalid proof.
  return result.steps[0]?.status === "fail" ? EXIT_UNUSABLE : EXIT_INVALID;
}
