import { readFile, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import {
  checkDispute,
  type DisputeBundleJson,
  type DisputeCheck,
  disputeSummaryToJson,
  MAX_DISPUTE_BYTES,
} from "../../core/dispute.js";
import { SolventError } from "../../core/errors.js";
import { parseSignedReceipt } from "../../core/receipt.js";
import { EXIT_INVALID, EXIT_OK, EXIT_UNUSABLE, type Output, UsageError } from "./io.js";
import { publisherProblem, readJsonInput } from "./readInput.js";
import { keysFrom } from "./receipt.js";

export const disputeHelp = `solvent dispute make --receipt FILE (--publisher URL [--sequence N] | --proof FILE --attestation FILE --report FILE --keys FILE)
                     [--out FILE] [--submit] [--json]
solvent dispute verify --bundle FILE|URL (--keys FILE|URL | --publisher URL) [--json]

A dispute (SPEC §12) is your signed balance receipt plus the publisher's own
answer for your commitment in the ledger of the receipt's asOf: a proof that
you are not in it, or an inclusion proof with other balances than your
receipt. Anyone can check it offline; a publisher stores a valid one forever
and sets DISPUTED on the issuer's attestations until a newer ledger is attested.

make: with --publisher URL it finds the attestation of the ledger whose asOf is
the receipt's (or takes --sequence N), and fetches that attestation, its
report and the proof answer for the receipt's commitment. Offline, give the
files instead: --proof (the proof route's answer: an inclusion proof, or the
404 body carrying nonInclusion), --attestation (the attestation answer),
--report (the report's exact bytes) and --keys (the keys document). The bundle
is checked before it is written (--out FILE, else printed); --submit also
files it with the publisher (POST /v1/issuers/ID/disputes).

verify: checks a bundle, or one entry of GET /v1/issuers/ID/disputes, against
the publisher's keys document (--keys, or --publisher for its keys.json). No
network is needed with --keys FILE.
Exit status: 0 a valid dispute (made, filed or verified), 1 not a valid
dispute (each failed check is named), 2 unusable input.`;

const MAKE_OPTIONS = {
  receipt: { type: "string" },
  publisher: { type: "string" },
  sequence: { type: "string" },
  proof: { type: "string" },
  attestation: { type: "string" },
  report: { type: "string" },
  keys: { type: "string" },
  out: { type: "string" },
  submit: { type: "boolean" },
  json: { type: "boolean" },
} as const;

const VERIFY_OPTIONS = {
  bundle: { type: "string" },
  keys: { type: "string" },
  publisher: { type: "string" },
  json: { type: "boolean" },
} as const;

/** `solvent dispute <make|verify>`. */
export async function dispute(args: string[], io: Output): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "make") return make(rest, io);
  if (sub === "verify") return verify(rest, io);
  io.err(`solvent dispute: unknown subcommand "${sub ?? ""}"\n\n${disputeHelp}`);
  return EXIT_UNUSABLE;
}

async function get(url: string, what: string): Promise<Response> {
  try {
    return await fetch(url);
  } catch (e) {
    throw new UsageError(`${what}: cannot fetch ${url}: ${(e as Error).message}`);
  }
}

/** The proof route's answer: a §2 proof (200), or the §2.1 proof a 404 carries. */
function proofOf(answer: unknown, source: string): unknown {
  const body = answer as { nonInclusion?: unknown; error?: { message?: unknown } } | null;
  if (body !== null && typeof body === "object" && body.nonInclusion !== undefined) return body.nonInclusion;
  if (body !== null && typeof body === "object" && body.error !== undefined) {
    throw new UsageError(
      `proof: ${source} is an error without a proof (${String(body.error.message ?? "").slice(0, 300)}): the publisher proves neither your absence nor your balances, so there is nothing to dispute with`,
    );
  }
  return answer;
}

/** Finds the last attestation naming the ledger whose asOf is the receipt's, from the issuer's ledger history. */
async function sequenceForAsOf(base: string, issuer: string, asOf: bigint): Promise<string> {
  let after: string | null = null;
  for (let page = 0; page < 100; page++) {
    const url = `${base}/v1/issuers/${encodeURIComponent(issuer)}/ledgers?limit=100${after ? `&after=${encodeURIComponent(after)}` : ""}`;
    const body = (await readJsonInput(url, "ledger history")) as {
      ledgers?: { asOf?: string; attested?: { to?: string } | null; id?: string }[];
      nextAfter?: string | null;
    };
    for (const ledger of body.ledgers ?? []) {
      if (ledger.asOf !== asOf.toString()) continue;
      if (!ledger.attested?.to)
        throw new UsageError(
          `ledger ${ledger.id} (asOf ${asOf}) has never been attested: there is no signed answer to dispute yet`,
        );
      return ledger.attested.to;
    }
    const oldest = body.ledgers?.[body.ledgers.length - 1]?.asOf;
    if (!body.nextAfter || (oldest !== undefined && BigInt(oldest) < asOf)) break;
    after = body.nextAfter;
  }
  throw new UsageError(
    `issuer "${issuer}" has no ledger with asOf ${asOf} (the receipt's) at ${base}; pass --sequence N if you know the attestation`,
  );
}

async function fromPublisher(
  values: { publisher?: string; sequence?: string },
  issuer: string,
  commitment: string,
  asOf: bigint,
) {
  if (!/^https?:\/\//.test(values.publisher!)) throw new UsageError("--publisher must be an http(s) URL");
  if (values.sequence !== undefined && !/^[1-9][0-9]*$/.test(values.sequence))
    throw new UsageError("--sequence must be a positive integer");
  const base = values.publisher!.replace(/\/+$/, "");
  const id = encodeURIComponent(issuer);
  const sequence = values.sequence ?? (await sequenceForAsOf(base, issuer, asOf));
  const signed = (await readJsonInput(`${base}/v1/issuers/${id}/attestations/${sequence}`, "attestation")) as {
    attestation?: unknown;
    signature?: unknown;
    reportUrl?: unknown;
  };
  const reportUrl =
    typeof signed.reportUrl === "string" ? signed.reportUrl : `${base}/v1/issuers/${id}/reports/${sequence}`;
  const reportAnswer = await get(reportUrl, "report");
  if (!reportAnswer.ok) throw new UsageError(`report: ${await publisherProblem(reportAnswer, reportUrl)}`);
  const report = await reportAnswer.text();
  const proofUrl = `${base}/v1/issuers/${id}/proofs/${sequence}/${commitment}`;
  const proofAnswer = await get(proofUrl, "proof");
  if (!proofAnswer.ok && proofAnswer.status !== 404)
    throw new UsageError(`proof: ${await publisherProblem(proofAnswer, proofUrl)}`);
  const proofJson: unknown = await proofAnswer.json().catch(() => {
    throw new UsageError(`proof: ${proofUrl} answered HTTP ${proofAnswer.status} without JSON`);
  });
  return {
    attestation: { attestation: signed.attestation, signature: signed.signature },
    report,
    proof: proofOf(proofJson, proofUrl),
    keys: await keysFrom({ publisher: base }),
    base,
  };
}

async function make(args: string[], io: Output): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: MAKE_OPTIONS, strict: true, allowPositionals: true });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (values.receipt === undefined)
    throw new UsageError("missing --receipt FILE (the signed receipt the issuer gave you)");
  const offline = [values.proof, values.attestation, values.report, values.keys];
  if (values.publisher !== undefined && offline.some((v) => v !== undefined)) {
    throw new UsageError(
      "--publisher fetches the proof, attestation, report and keys itself: do not also pass --proof, --attestation, --report or --keys",
    );
  }
  if (values.publisher === undefined && offline.some((v) => v === undefined)) {
    throw new UsageError("give --publisher URL, or all of --proof, --attestation, --report and --keys");
  }
  if (values.submit && values.publisher === undefined)
    throw new UsageError("--submit files the bundle with --publisher URL: give it");
  const receiptJson = await readJsonInput(values.receipt, "receipt");
  let issuer: string;
  let commitment: string;
  let asOf: bigint;
  try {
    ({
      receipt: { issuer, commitment, asOf },
    } = parseSignedReceipt(receiptJson));
  } catch (e) {
    if (e instanceof SolventError) throw new UsageError(`--receipt ${values.receipt}: ${e.message}`);
    throw e;
  }

  let parts: { attestation: unknown; report: string; proof: unknown; keys: unknown; base?: string };
  if (values.publisher !== undefined) {
    parts = await fromPublisher(values, issuer, commitment, asOf);
  } else {
    const signed = (await readJsonInput(values.attestation!, "attestation")) as {
      attestation?: unknown;
      signature?: unknown;
    };
    let report: string;
    try {
      report = await readFile(values.report!, "utf8");
    } catch (e) {
      throw new UsageError(
        `report: cannot read ${values.report}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
    parts = {
      attestation: { attestation: signed?.attestation, signature: signed?.signature },
      report,
      proof: proofOf(await readJsonInput(values.proof!, "proof"), values.proof!),
      keys: await readJsonInput(values.keys!, "keys"),
    };
  }
  const bundle = {
    version: 1,
    receipt: receiptJson,
    proof: parts.proof,
    attestation: parts.attestation,
    report: parts.report,
  } as DisputeBundleJson;
  const result = await checkDispute({ bundle, keys: parts.keys });
  if (!result.valid) {
    print(result, io, values.json === true);
    io.err("not written: a publisher refuses this bundle, and anyone who checks it finds it invalid");
    return EXIT_INVALID;
  }
  const text = JSON.stringify(bundle);
  if (new TextEncoder().encode(text).length > MAX_DISPUTE_BYTES) {
    io.err(
      `the bundle is ${text.length} bytes, over the ${MAX_DISPUTE_BYTES} a publisher accepts (its report is unusually large)`,
    );
  }
  if (values.out !== undefined) {
    try {
      await writeFile(values.out, `${text}\n`);
    } catch (e) {
      throw new UsageError(
        `--out: cannot write ${values.out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
  }
  let filed: { status: number; body: unknown } | null = null;
  if (values.submit) {
    const url = `${parts.base}/v1/issuers/${encodeURIComponent(issuer)}/disputes`;
    let res: Response;
    try {
      res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: text });
    } catch (e) {
      throw new UsageError(`submit: cannot reach ${url}: ${(e as Error).message}`);
    }
    if (!res.ok) {
      io.err(`submit: ${await publisherProblem(res, url)}`);
      return EXIT_INVALID;
    }
    filed = { status: res.status, body: await res.json() };
  }
  if (values.json) {
    io.out(
      JSON.stringify({
        valid: true,
        dispute: disputeSummaryToJson(result.dispute),
        ...(values.out === undefined ? { bundle } : { out: values.out }),
        ...(filed ? { filed } : {}),
      }),
    );
    return EXIT_OK;
  }
  print(result, io, false);
  if (values.out !== undefined) io.out(`wrote the bundle to ${values.out}`);
  else io.out(text);
  if (filed)
    io.out(
      filed.status === 201
        ? "filed: the publisher stored it and lists it in its dispute log"
        : "already filed: the publisher had stored this receipt's dispute before",
    );
  else
    io.out(
      `file it: solvent dispute make … --publisher URL --submit, or POST the bundle to /v1/issuers/${issuer}/disputes`,
    );
  return EXIT_OK;
}

async function verify(args: string[], io: Output): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: VERIFY_OPTIONS, strict: true, allowPositionals: true });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (values.bundle === undefined) throw new UsageError("missing --bundle FILE|URL");
  const read = (await readJsonInput(values.bundle, "bundle")) as { bundle?: unknown; summary?: unknown } | null;
  // One entry of the publisher's dispute log carries the bundle beside its summary.
  const bundle =
    read !== null && typeof read === "object" && read.summary !== undefined && read.bundle !== undefined
      ? read.bundle
      : read;
  const result = await checkDispute({ bundle, keys: await keysFrom(values) });
  print(result, io, values.json === true);
  if (!result.valid && result.failed.step === "bundle") return EXIT_UNUSABLE;
  return result.valid ? EXIT_OK : EXIT_INVALID;
}

function print(result: DisputeCheck, io: Output, json: boolean): void {
  if (json) {
    io.out(
      JSON.stringify(
        result.valid
          ? { valid: true, verdict: result.verdict, dispute: disputeSummaryToJson(result.dispute), steps: result.steps }
          : { valid: false, verdict: result.verdict, failed: result.failed, steps: result.steps },
      ),
    );
    return;
  }
  for (const step of result.steps) io.out(`${step.status === "pass" ? "✓" : "✗"} ${step.title}: ${step.detail}`);
  io.out(result.verdict);
}
