import { parseArgs } from "node:util";
import { attestationFromJson } from "../../core/attestation.js";
import { bytesToHex } from "../../core/bytes.js";
import {
  checkInclusion,
  checkNonInclusion,
  type InclusionCheckResult,
  isPrivateProof,
  type RangeProofEngine,
} from "../../core/inclusionCheck.js";
import { parseSalt, userCommitment } from "../../core/liabilities/commitment.js";
import { checkReport } from "../../core/reportCheck.js";
import { nodeRangeProofs } from "../lib/rangeProofs.js";
import { EXIT_INVALID, EXIT_OK, EXIT_UNUSABLE, type Output, UsageError } from "./io.js";
import { publisherProblem, readBytesInput, readJsonInput } from "./readInput.js";

export const verifyHelp = `solvent verify --proof FILE --user ID --salt HEX [--attestation FILE --keys FILE] [--report FILE] [--json]
solvent verify --publisher URL --issuer ID --user ID --salt HEX [--sequence N] [--json]

Checks an inclusion proof (SPEC §2) for your user id and salt, and when an
attestation and keys document are given, that the attestation is signed by a
key valid at its observedAt and that the proof root is its liabilitiesRoot.
FILE may also be an http(s) URL. The attestation file is the publisher's
{ attestation, signature, ... } answer. --report FILE (the snapshot's report)
shows your balances in the assets' units rather than base units.
A private proof (SPEC §11, scheme pedersen-ristretto255-v2) shows only your
own balances: it is checked for your leaf, its path to the root and root
commitments, the totals they open to, and the range proofs that every
sibling holds a value in [0, 2^64); with --report (the exact bytes the
attestation signs) its assets, units, root commitments, totals and total
blindings are also matched to the signed report. Each check is printed with
what it showed; a failed one is named, and the proof revealed no other
user's balance or partial sum.
With --publisher, the latest attestation (or --sequence N) of the issuer, its
keys document, its report and the proof of your commitment are fetched from
the publisher; your salt never leaves this machine (only the commitment is
sent). A publisher's refusal is printed in its own words. When your
commitment is absent from a ledger in commitment order, the publisher's proof
of that absence (SPEC §2.1) is checked against the signed attestation and its
report's exact bytes, and a valid one ends with "your commitment is provably
not in this snapshot" (exit 1: you are not included). A private ledger's
publisher answers an absence without a proof (its neighbours' commitments
would open their balances to anyone); the issuer hands you one, and
--proof FILE checks it like any other.
--json prints { valid, unusable, verdict, steps } for scripts; for a proof of
absence also included: false and absenceProven (whether that proof holds).
Exit status: 0 valid, 1 not valid (or not in the snapshot), 2 unusable input
(a malformed salt, proof, attestation or keys file; an unknown issuer; an
unreachable publisher).`;

const MARK = { pass: "PASS", fail: "FAIL", note: "NOTE" } as const;

interface VerifyValues {
  proof?: string;
  user?: string;
  salt?: string;
  attestation?: string;
  keys?: string;
  report?: string;
  publisher?: string;
  issuer?: string;
  sequence?: string;
  json?: boolean;
}

export async function verify(args: string[], io: Output): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      proof: { type: "string" },
      user: { type: "string" },
      salt: { type: "string" },
      attestation: { type: "string" },
      keys: { type: "string" },
      report: { type: "string" },
      publisher: { type: "string" },
      issuer: { type: "string" },
      sequence: { type: "string" },
      json: { type: "boolean" },
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
    attested = {
      attestation: signed.attestation,
      signature: signed.signature,
      keys: await readJsonInput(values.keys, "--keys"),
    };
  }
  const reportBytes = values.report === undefined ? undefined : await readBytesInput(values.report, "--report");
  if (isAbsenceProof(proof)) {
    // A proof of absence the issuer handed over (a private ledger's publisher serves none publicly).
    if (attested && reportBytes === undefined)
      throw new UsageError("--report is required with a proof of absence: its ledger is tied to the signed report");
    const result = await checkNonInclusion({
      proof,
      userId: values.user,
      salt: values.salt,
      ...(attested && reportBytes ? { attested: { ...attested, report: reportBytes } } : {}),
    });
    return reportAbsence(
      result,
      "the proof file says your commitment is not in the snapshot",
      io,
      values.json === true,
    );
  }
  // A private proof carries its own units; the report's bytes are checked against the signed reportHash instead.
  const assetDecimals =
    reportBytes === undefined || isPrivateProof(proof) ? undefined : reportDecimals(jsonOf(reportBytes), "--report");
  const result = await checkInclusion({
    proof,
    userId: values.user,
    salt: values.salt,
    ...(attested ? { attested: { ...attested, ...(reportBytes ? { report: reportBytes } : {}) } } : {}),
    ...(assetDecimals ? { assetDecimals } : {}),
    ...(await engineFor(proof)),
  });
  return report(result, io, values.json === true);
}

/** A SPEC §2.1 / §11 non-inclusion proof (neighbours `left`/`right`, no leaf of its own) rather than an inclusion proof. */
function isAbsenceProof(proof: unknown): boolean {
  if (typeof proof !== "object" || proof === null) return false;
  return ("left" in proof || "right" in proof) && !("leafIndex" in proof) && !("path" in proof);
}

function jsonOf(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as unknown;
  } catch (e) {
    throw new UsageError(`--report: is not JSON: ${(e as Error).message}`);
  }
}

/** The range-proof verifier, loaded only for a private proof (SPEC §11) that needs it. */
async function engineFor(proof: unknown): Promise<{ rangeProofs?: RangeProofEngine }> {
  if (!isPrivateProof(proof)) return {};
  try {
    return { rangeProofs: await nodeRangeProofs() };
  } catch (e) {
    throw new UsageError(
      `this is a private proof and its range proofs cannot be checked here: ${(e as Error).message}`,
    );
  }
}

/** Asset decimals from a SPEC §4 report (only for display: the proof's numbers are checked in base units). */
function reportDecimals(report: unknown, what: string): Map<string, number> {
  const assets = (report as { assets?: unknown })?.assets;
  if (!Array.isArray(assets)) throw new UsageError(`${what}: not a SPEC §4 report (no assets list)`);
  const out = new Map<string, number>();
  for (const a of assets as { id?: unknown; decimals?: unknown }[]) {
    if (typeof a?.id !== "string" || typeof a.decimals !== "string" || !/^[0-9]{1,2}$/.test(a.decimals))
      throw new UsageError(`${what}: an asset without an id and decimals`);
    out.set(a.id, Number(a.decimals));
  }
  return out;
}

function report(result: InclusionCheckResult, io: Output, json: boolean): number {
  const code = result.valid ? EXIT_OK : result.unusable ? EXIT_UNUSABLE : EXIT_INVALID;
  if (json) {
    io.out(
      JSON.stringify({
        valid: result.valid,
        unusable: result.unusable,
        verdict: result.verdict,
        ...(result.valid && result.balances ? { balances: result.balances } : {}),
        steps: result.steps,
      }),
    );
    return code;
  }
  for (const step of result.steps) io.out(`[${MARK[step.status]}] ${step.title}: ${step.detail}`);
  io.out(result.verdict);
  return code;
}

/** A verdict without a proof to check (the publisher says the commitment is not there): printed like the others. */
function notThere(io: Output, json: boolean, detail: string, verdict: string): number {
  if (json)
    io.out(
      JSON.stringify({
        valid: false,
        unusable: false,
        verdict,
        steps: [{ id: "proof", status: "fail", title: "Find your commitment in the snapshot", detail }],
      }),
    );
  else io.out(`[FAIL] Find your commitment in the snapshot: ${detail}\n${verdict}`);
  return EXIT_INVALID;
}

/**
 * The publisher's 404 with a SPEC §2.1 proof of absence, after its own words:
 * exit 1 either way (you are not included), 2 when the proof or attestation
 * cannot be read at all.
 */
function reportAbsence(result: InclusionCheckResult, said: string, io: Output, json: boolean): number {
  const answer = {
    id: "publisher",
    status: "note",
    title: "Ask the publisher for your proof",
    detail: `${said}, with a proof of that absence; if you expected to be included, check the user id and the salt you were given for this snapshot`,
  } as const;
  const steps = [answer, ...result.steps];
  const code = result.unusable ? EXIT_UNUSABLE : EXIT_INVALID;
  if (json) {
    io.out(
      JSON.stringify({
        valid: false,
        unusable: result.unusable,
        included: false,
        absenceProven: result.valid,
        verdict: result.verdict,
        steps,
      }),
    );
    return code;
  }
  for (const step of steps) io.out(`[${MARK[step.status]}] ${step.title}: ${step.detail}`);
  if (!result.valid)
    io.out("(the publisher answered that your commitment is absent, but its proof of that does not hold)");
  io.out(result.verdict);
  return code;
}

/** Where the report of the fetched attestation is: the answer's reportUrl, else the issuer's report route for that sequence. */
function attestedReportUrl(signed: unknown, base: string, issuer: string, sequence: string): string {
  const reportUrl = (signed as { reportUrl?: unknown }).reportUrl;
  return typeof reportUrl === "string" ? reportUrl : `${base}/v1/issuers/${issuer}/reports/${sequence}`;
}

/** Fetches attestation, keys, report and proof from a live publisher; the proof is pinned to the fetched attestation's sequence. */
async function verifyAgainstPublisher(values: VerifyValues, io: Output): Promise<number> {
  if (
    values.proof !== undefined ||
    values.attestation !== undefined ||
    values.keys !== undefined ||
    values.report !== undefined
  ) {
    throw new UsageError(
      "--publisher fetches the proof, attestation, keys and report itself: do not pass --proof, --attestation, --keys or --report",
    );
  }
  if (values.issuer === undefined) throw new UsageError("--issuer is required with --publisher");
  if (values.user === undefined) throw new UsageError("--user is required");
  if (values.salt === undefined) throw new UsageError("--salt is required");
  if (values.sequence !== undefined && !/^[1-9][0-9]*$/.test(values.sequence))
    throw new UsageError("--sequence must be a positive integer");
  if (!/^https?:\/\//.test(values.publisher ?? "")) throw new UsageError("--publisher must be an http(s) URL");
  const json = values.json === true;
  const base = values.publisher!.replace(/\/+$/, "");
  const issuer = encodeURIComponent(values.issuer);
  const commitment = bytesToHex(userCommitment(parseSalt(values.salt, "--salt"), values.user));
  const signed = await readJsonInput(
    `${base}/v1/issuers/${issuer}/attestations/${values.sequence ?? "latest"}`,
    "attestation",
  );
  const sequence = (signed as { attestation?: { sequence?: unknown } })?.attestation?.sequence;
  if (typeof sequence !== "string")
    throw new UsageError("the publisher's attestation answer has no attestation.sequence");
  if (!json) io.out(`publisher ${base}, issuer ${values.issuer}, attestation #${sequence}`);
  const proofUrl = `${base}/v1/issuers/${issuer}/proofs/${sequence}/${commitment}`;
  const proofAnswer = await fetch(proofUrl).catch((e: Error) => {
    throw new UsageError(`proof: cannot fetch ${proofUrl}: ${e.message}`);
  });
  const keysUrl = `${base}/.well-known/solvent/keys.json`;
  const { attestation, signature } = signed as { attestation: unknown; signature: unknown };
  if (proofAnswer.status === 404) {
    const body = (await proofAnswer
      .clone()
      .json()
      .catch(() => null)) as { nonInclusion?: unknown } | null;
    const said = await publisherProblem(proofAnswer, proofUrl);
    if (/UNKNOWN_ISSUER/.test(said)) throw new UsageError(`proof: ${said}`);
    if (/has no user ledger/.test(said))
      return notThere(
        io,
        json,
        said,
        `INVALID: issuer ${values.issuer} publishes no user balances (its liabilities are not a user ledger): there is nothing to be included in`,
      );
    if (body?.nonInclusion !== undefined) {
      // SPEC §2.1: the publisher proves the absence; check it against the signed attestation and its report's exact bytes.
      const reportUrl = attestedReportUrl(signed, base, issuer, sequence);
      const reportAnswer = await fetch(reportUrl).catch((e: Error) => {
        throw new UsageError(`report: cannot fetch ${reportUrl}: ${e.message}`);
      });
      if (!reportAnswer.ok) throw new UsageError(`report: ${await publisherProblem(reportAnswer, reportUrl)}`);
      const reportBytes = new Uint8Array(await reportAnswer.arrayBuffer());
      const keys = await readJsonInput(keysUrl, "keys");
      const result = await checkNonInclusion({
        proof: body.nonInclusion,
        userId: values.user,
        salt: values.salt,
        attested: { attestation, signature, keys, report: reportBytes },
      });
      return reportAbsence(result, said, io, json);
    }
    return notThere(
      io,
      json,
      said,
      /private ledger proves absence only to the user/.test(said)
        ? "INVALID: your balances are not in this snapshot (check the user id and the salt you were given for this snapshot); the ledger is private, so its publisher proves an absence only to the user it concerns: ask the issuer for your non-inclusion proof and check it with solvent verify --proof FILE --user … --salt … --attestation … --keys … --report …"
        : "INVALID: your balances are not in this snapshot (check the user id and the salt you were given for this snapshot); this ledger predates commitment order, so the publisher cannot prove the absence",
    );
  }
  if (!proofAnswer.ok) throw new UsageError(`proof: ${await publisherProblem(proofAnswer, proofUrl)}`);
  const proof: unknown = await proofAnswer.json().catch(() => {
    throw new UsageError(`proof: ${proofUrl} is not JSON`);
  });
  const keys = await readJsonInput(keysUrl, "keys");
  const reportUrl = attestedReportUrl(signed, base, issuer, sequence);
  // A private proof's root commitments, totals and units are matched to the report, so it must be there;
  // a plain proof only takes its decimals from it, when it can be read.
  const privateProof = isPrivateProof(proof);
  const reportBytes = privateProof ? await readBytesInput(reportUrl, "report") : undefined;
  const assetDecimals = privateProof ? undefined : await attestedDecimals(reportUrl, attestation);
  return report(
    await checkInclusion({
      proof,
      userId: values.user,
      salt: values.salt,
      attested: { attestation, signature, keys, ...(reportBytes ? { report: reportBytes } : {}) },
      ...(assetDecimals ? { assetDecimals } : {}),
      ...(await engineFor(proof)),
    }),
    io,
    json,
  );
}

/** The snapshot report's decimals, only when the report is the one the attestation commits to; else none (base units are shown). */
async function attestedDecimals(url: string, attestation: unknown): Promise<Map<string, number> | undefined> {
  try {
    const res = await fetch(url);
    if (!res.ok) return undefined;
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (checkReport(bytes, attestationFromJson(attestation)).length > 0) return undefined;
    return reportDecimals(JSON.parse(new TextDecoder().decode(bytes)), "report");
  } catch {
    return undefined; // the balances are checked either way; only their display needs the report
  }
}
