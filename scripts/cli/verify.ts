import { parseArgs } from "node:util";
import { bytesToHex } from "../../core/bytes.js";
import { checkInclusion, checkNonInclusion, type InclusionCheckResult } from "../../core/inclusionCheck.js";
import { parseSalt, userCommitment } from "../../core/liabilities/commitment.js";
import { EXIT_INVALID, EXIT_OK, EXIT_UNUSABLE, UsageError, type Output } from "./io.js";
import { readJsonInput } from "./readInput.js";

export const verifyHelp = `solvent verify --proof FILE --user ID --salt HEX [--attestation FILE --keys FILE]
solvent verify --publisher URL --issuer ID --user ID --salt HEX [--sequence N]

Checks an inclusion proof (SPEC §2) for your user id and salt, and when an
attestation and keys document are given, that the attestation is signed by a
key valid at its observedAt and that the proof root is its liabilitiesRoot.
FILE may also be an http(s) URL. The attestation file is the publisher's
{ attestation, signature, ... } answer.
With --publisher, the latest attestation (or --sequence N) of the issuer, its
keys document and the proof of your commitment are fetched from the publisher;
your salt never leaves this machine (only the commitment is sent). When your
commitment is absent from a ledger in commitment order, the publisher's proof
of that absence (SPEC §2.1) is checked against the signed attestation and its
report, and a valid one ends with "your commitment is provably not in this
snapshot" (exit 1: you are not included).
Exit status: 0 valid, 1 not valid or not included, 2 unusable input.`;

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
      publisher: { type: "string" },
      issuer: { type: "string" },
      sequence: { type: "string" },
    },
    strict: true,
  });
  if (values.publisher !== undefined) return verifyAgainstPublisher(values, io);
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

  return report(await checkInclusion({ proof, userId: values.user, salt: values.salt, ...(attested ? { attested } : {}) }), io);
}

function report(result: InclusionCheckResult, io: Output): number {
  for (const step of result.steps) io.out(`[${MARK[step.status]}] ${step.title}: ${step.detail}`);
  io.out(result.verdict);
  if (result.valid) return EXIT_OK;
  // A salt that is not hex is unusable input, not an invalid proof.
  return result.steps[0]?.status === "fail" ? EXIT_UNUSABLE : EXIT_INVALID;
}

/** Fetches attestation, keys and proof from a live publisher; the proof is pinned to the fetched attestation's sequence. */
async function verifyAgainstPublisher(
  values: { publisher?: string; issuer?: string; user?: string; salt?: string; sequence?: string; proof?: string; attestation?: string; keys?: string },
  io: Output,
): Promise<number> {
  if (values.proof !== undefined || values.attestation !== undefined || values.keys !== undefined) {
    throw new UsageError("--publisher fetches the proof, attestation and keys itself: do not pass --proof, --attestation or --keys");
  }
  if (values.issuer === undefined) throw new UsageError("--issuer is required with --publisher");
  if (values.user === undefined) throw new UsageError("--user is required");
  if (values.salt === undefined) throw new UsageError("--salt is required");
  if (values.sequence !== undefined && !/^[1-9][0-9]*$/.test(values.sequence)) throw new UsageError("--sequence must be a positive integer");
  if (!/^https?:\/\//.test(values.publisher ?? "")) throw new UsageError("--publisher must be an http(s) URL");
  const base = values.publisher!.replace(/\/+$/, "");
  const issuer = encodeURIComponent(values.issuer);
  const commitment = bytesToHex(userCommitment(parseSalt(values.salt, "--salt"), values.user));
  const signed = await readJsonInput(`${base}/v1/issuers/${issuer}/attestations/${values.sequence ?? "latest"}`, "attestation");
  const sequence = (signed as { attestation?: { sequence?: unknown } })?.attestation?.sequence;
  if (typeof sequence !== "string") throw new UsageError("the publisher's attestation answer has no attestation.sequence");
  io.out(`publisher ${base}, issuer ${values.issuer}, attestation #${sequence}`);
  const proofUrl = `${base}/v1/issuers/${issuer}/proofs/${sequence}/${commitment}`;
  const proofAnswer = await fetch(proofUrl).catch((e: Error) => {
    throw new UsageError(`proof: cannot fetch ${proofUrl}: ${e.message}`);
  });
  const keysUrl = `${base}/.well-known/solvent/keys.json`;
  const { attestation, signature } = signed as { attestation: unknown; signature: unknown };
  if (proofAnswer.status === 404) {
    const body = (await proofAnswer.json().catch(() => null)) as { nonInclusion?: unknown } | null;
    if (body?.nonInclusion !== undefined) {
      // SPEC §2.1: the publisher proves the absence; check it against the signed attestation and its report's bytes.
      const reportUrl = `${base}/v1/issuers/${issuer}/reports/${sequence}`;
      const reportAnswer = await fetch(reportUrl).catch((e: Error) => {
        throw new UsageError(`report: cannot fetch ${reportUrl}: ${e.message}`);
      });
      if (!reportAnswer.ok) throw new UsageError(`report: ${reportUrl} answered HTTP ${reportAnswer.status}`);
      const report = new Uint8Array(await reportAnswer.arrayBuffer());
      const keys = await readJsonInput(keysUrl, "keys");
      const result = await checkNonInclusion({ proof: body.nonInclusion, userId: values.user, salt: values.salt, attested: { attestation, signature, keys, report } });
      for (const step of result.steps) io.out(`[${MARK[step.status]}] ${step.title}: ${step.detail}`);
      io.out(result.verdict);
      if (!result.valid) io.out("(the publisher answered that your commitment is absent, but its proof of that does not hold)");
      return EXIT_INVALID;
    }
    io.out(`[FAIL] Find your commitment in the snapshot: the publisher has no leaf ${commitment} in attestation #${sequence}`);
    io.out("INVALID: your balances are not in this snapshot (check the user id and the salt for this snapshot); this ledger predates commitment order, so the publisher cannot prove the absence");
    return EXIT_INVALID;
  }
  if (!proofAnswer.ok) throw new UsageError(`proof: ${proofUrl} answered HTTP ${proofAnswer.status}`);
  const proof: unknown = await proofAnswer.json().catch(() => {
    throw new UsageError(`proof: ${proofUrl} is not JSON`);
  });
  const keys = await readJsonInput(keysUrl, "keys");
  return report(await checkInclusion({ proof, userId: values.user, salt: values.salt, attested: { attestation, signature, keys } }), io);
}
