import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { extname } from "node:path";
import { Readable } from "node:stream";
import { parseArgs } from "node:util";
import type { AmountUnits } from "../../core/numbers.js";
import { EXIT_INVALID, EXIT_OK, EXIT_UNUSABLE, type Output, UsageError } from "./io.js";
import {
  askToConfirm,
  type CurrentLedger,
  checkLedgerFile,
  compareTotals,
  fetchCurrentLedger,
  fetchLedgerAssets,
  LARGE_CHANGE,
  totalsTable,
} from "./ledgerCheck.js";
import { fileRow, planParts, uploadInParts } from "./ledgerParts.js";

export const ledgerHelp = `solvent ledger upload FILE --issuer ID --url URL [--token T] [--format csv|ndjson]
                       [--units decimal|base] [--as-of UNIX_SECONDS] [--yes]
                       [--allow-large-change] [--part-size BYTES] [--parallel N]

Uploads a user ledger (SPEC §2 liabilities) to a Solvent publisher: CSV with
header userId,salt,<assets…> or commitment,<assets…>, or NDJSON lines
{"userId","salt","balances":{…}} / {"commitment","balances":{…}}.
Amounts are whole units of each asset's configured decimals (--units decimal,
the default: 1500.25 USD); --units base reads them in the asset's smallest
unit (1500250000 for a USD of 6 decimals). --as-of names the unix time the
balances were true (the publisher's default: the upload's time).
Before sending, the file is read as the publisher will read it (row errors
stop here, exit 1) and the per-asset totals are printed in whole units with
the change against the issuer's latest attestation. A total that moves more
than 100 times up or down (the classic unit slip) is refused unless
--allow-large-change. On a terminal the upload is confirmed first; from a
script (stdin not a terminal) pass --yes, or nothing is sent (exit 2).
The file is streamed; a large ledger is built in the background and its status is polled.
A file larger than --part-size (default 64M; suffixes K, M, G) goes up in parts
cut at line ends, --parallel at a time (default 3), each CSV part with the
header line: Workers accept request bodies up to 100 MB (Free/Pro plans).
The token may also come from SOLVENT_ADMIN_TOKEN. The format defaults from the
file extension (.csv, .ndjson, .jsonl).
Exit status: 0 stored and built, 1 rejected (row errors are printed), 2 unusable
input, a refused large change or an unconfirmed upload (nothing sent).`;

/** Default part size of a multi-part upload: well under Workers' 100 MB request body limit. */
export const DEFAULT_PART_BYTES = 64 * 1024 * 1024;

function parseSize(text: string): number {
  const m = /^([1-9][0-9]{0,12})([KMG]?)$/i.exec(text.trim());
  if (!m) throw new UsageError(`--part-size must be a size like 64M or 1048576, got "${text}"`);
  const bytes = Number(m[1]) * 1024 ** " KMG".indexOf((m[2] || " ").toUpperCase());
  if (bytes < 1024) throw new UsageError("--part-size must be at least 1K");
  return bytes;
}

export interface LedgerUploadDeps {
  env?: Record<string, string | undefined>;
  /** Where the progress bar goes when it is a TTY (default process.stderr). */
  progress?: { isTTY?: boolean; write(text: string): unknown };
  pollIntervalMs?: number;
  /** Give up polling after this long (default 6 hours). */
  pollTimeoutMs?: number;
  /** First wait before a part is sent again (default 1 s, doubling). */
  backoffMs?: number;
  /** Whether someone can answer a prompt (default: stdin is a TTY). */
  interactive?: boolean;
  /** Asks to go ahead (default: a y/N question on stderr, answered on stdin). */
  confirm?: (question: string) => Promise<boolean>;
}

interface ErrorBody {
  error?: {
    code?: string;
    message?: string;
    errors?: { row: number; reason: string }[];
    errorCount?: number;
    ledgerId?: string;
  };
}

const MB = 1024 * 1024;
const formatBytes = (n: number) =>
  n >= MB ? `${(n / MB).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;

/** `solvent ledger upload …`; returns the exit status. */
export async function ledgerUpload(args: string[], io: Output, deps: LedgerUploadDeps = {}): Promise<number> {
  try {
    return await run(args[0] === "upload" ? args.slice(1) : args, io, deps);
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      io.err(`solvent ledger upload: ${(e as Error).message}`);
      return EXIT_UNUSABLE;
    }
    throw e;
  }
}

async function run(args: string[], io: Output, deps: LedgerUploadDeps): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      issuer: { type: "string" },
      url: { type: "string" },
      token: { type: "string" },
      format: { type: "string" },
      "part-size": { type: "string" },
      parallel: { type: "string" },
      units: { type: "string" },
      "as-of": { type: "string" },
      yes: { type: "boolean" },
      "allow-large-change": { type: "boolean" },
    },
  });
  const units = values.units ?? "decimal";
  if (units !== "decimal" && units !== "base") {
    throw new UsageError(
      `--units must be decimal (amounts like 1500.25, the default) or base (the asset's smallest unit), got "${values.units}"`,
    );
  }
  const asOf = values["as-of"] === undefined ? undefined : parseAsOf(values["as-of"]);
  const partBytes = values["part-size"] === undefined ? DEFAULT_PART_BYTES : parseSize(values["part-size"]);
  const parallel = values.parallel === undefined ? 3 : Number(values.parallel);
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > 16)
    throw new UsageError(`--parallel must be a whole number 1..16, got "${values.parallel}"`);
  const env = deps.env ?? process.env;
  if (positionals.length !== 1) throw new UsageError("give exactly one FILE to upload");
  const file = positionals[0]!;
  if (values.issuer === undefined) throw new UsageError("--issuer is required");
  if (values.url === undefined) throw new UsageError("--url is required (the publisher, e.g. https://solvent.example)");
  const token = values.token ?? env.SOLVENT_ADMIN_TOKEN;
  if (token === undefined || token === "") throw new UsageError("--token or SOLVENT_ADMIN_TOKEN is required");
  const ext = extname(file).toLowerCase();
  const format =
    values.format ?? (ext === ".csv" ? "csv" : ext === ".ndjson" || ext === ".jsonl" ? "ndjson" : undefined);
  if (format !== "csv" && format !== "ndjson")
    throw new UsageError("--format must be csv or ndjson (or name the file .csv / .ndjson)");
  let base: URL;
  try {
    base = new URL(values.url);
  } catch {
    throw new UsageError(`--url "${values.url}" is not a URL`);
  }
  let size: number;
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new Error("not a file");
    size = info.size;
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
  }

  const auth = { Authorization: `Bearer ${token}` };
  const go = await preflight(
    {
      file,
      format,
      units,
      issuer: values.issuer,
      base,
      auth,
      yes: values.yes === true,
      allowLarge: values["allow-large-change"] === true,
    },
    io,
    deps,
  );
  if (go !== null) return go;
  const query: Record<string, string> = { units, ...(asOf === undefined ? {} : { asOf }) };
  if (size > partBytes) {
    const plan = await planParts(file, size, partBytes, format);
    const total = size + (plan.header?.length ?? 0) * (plan.parts.length - 1);
    io.err(`${plan.parts.length} parts of about ${formatBytes(partBytes)}, ${parallel} at a time`);
    const progress = progressReporter(total, io, deps.progress ?? process.stderr);
    let result;
    try {
      result = await uploadInParts({
        base,
        issuer: values.issuer,
        token,
        file,
        format,
        plan,
        parallel,
        query,
        onBytes: (n) => progress.sent(n),
        ...(deps.backoffMs === undefined ? {} : { backoffMs: deps.backoffMs }),
      });
    } catch (e) {
      progress.done();
      throw new UsageError(`could not upload to ${base.origin}: ${(e as Error).cause ?? (e as Error).message}`);
    }
    progress.done();
    if (!result.ok) {
      const e = result.error;
      if (result.httpStatus === 422 && result.part !== null) {
        // Rows of the part, told as rows of the file.
        const part = result.part;
        io.err(
          `part ${part} (file bytes ${plan.parts[part]!.start}..${plan.parts[part]!.end}) rejected: ${e.message ?? "invalid"}`,
        );
        io.err(`ledger ${result.ledgerId} was abandoned: fix the rows and upload the file again`);
        for (const r of e.errors ?? [])
          io.err(`  row ${fileRow(plan, part, r.row, format)} (part ${part} row ${r.row}): ${r.reason}`);
        const shown = e.errors?.length ?? 0;
        if (e.errorCount !== undefined && e.errorCount > shown)
          io.err(`  … and ${e.errorCount - shown} more in this part (${e.errorCount} in all)`);
        return EXIT_INVALID;
      }
      io.err(
        `upload refused (${result.httpStatus} ${e.code ?? ""})${result.part === null ? "" : ` at part ${result.part}`}: ${e.message ?? "no answer"}`,
      );
      return EXIT_UNUSABLE;
    }
    io.out(
      `ledger ${result.ledgerId}: ${String(result.answer.users ?? "?")} rows accepted in ${plan.parts.length} parts, building`,
    );
    return pollBuild(result.answer, base, auth, io, deps);
  }

  const target = new URL(`/v1/admin/issuers/${encodeURIComponent(values.issuer)}/ledger?format=${format}`, base);
  for (const [k, v] of Object.entries(query)) target.searchParams.set(k, v);
  const progress = progressReporter(size, io, deps.progress ?? process.stderr);
  const counting = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, ctl) {
      progress.sent(chunk.byteLength);
      ctl.enqueue(chunk);
    },
  });
  const body = (Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>).pipeThrough(counting);
  let res: Response;
  try {
    res = await fetch(target, {
      method: "PUT",
      headers: { ...auth, "Content-Type": format === "csv" ? "text/csv" : "application/x-ndjson" },
      body,
      duplex: "half",
    } as RequestInit);
  } catch (e) {
    progress.done();
    throw new UsageError(`could not upload to ${target.origin}: ${(e as Error).cause ?? (e as Error).message}`);
  }
  progress.done();
  const answer = (await res.json().catch(() => ({}))) as Record<string, unknown> & ErrorBody;

  if (res.status === 201)
    return answer.status === "superseded" ? printSuperseded(answer, io) : printComplete(answer, io);
  if (res.status === 422) return printRejected(answer, io);
  if (res.status !== 202) {
    io.err(`upload refused (${res.status} ${answer.error?.code ?? ""}): ${answer.error?.message ?? res.statusText}`);
    return EXIT_UNUSABLE;
  }

  io.out(`ledger ${String(answer.ledgerId)}: ${String(answer.users ?? "?")} rows accepted, building`);
  return pollBuild(answer, base, auth, io, deps);
}

/** --as-of: unix seconds, refusing milliseconds (the usual slip) and anything not a whole number. */
function parseAsOf(text: string): string {
  if (!/^(0|[1-9][0-9]{0,15})$/.test(text))
    throw new UsageError(`--as-of must be unix seconds, a whole number like 1767225600, got "${text.slice(0, 40)}"`);
  if (Number(text) >= 100_000_000_000)
    throw new UsageError(
      `--as-of ${text} is past the year 5000 in seconds: is it milliseconds? Give unix seconds (e.g. ${Math.floor(Number(text) / 1000)})`,
    );
  return text;
}

interface PreflightOptions {
  file: string;
  format: "csv" | "ndjson";
  units: AmountUnits;
  issuer: string;
  base: URL;
  auth: Record<string, string>;
  yes: boolean;
  allowLarge: boolean;
}

/**
 * Reads the file as the publisher will, prints its totals against the current
 * ledger, refuses a change beyond LARGE_CHANGE times unless allowed, and asks
 * to go ahead. Returns the exit status when the upload must not happen, null to go on.
 */
async function preflight(o: PreflightOptions, io: Output, deps: LedgerUploadDeps): Promise<number | null> {
  const assets = await fetchLedgerAssets(o.base, o.issuer, o.auth);
  io.err(
    `reading ${o.file}: ${o.format}, amounts in ${o.units === "decimal" ? "whole units (1500.25)" : "base units (the smallest unit of each asset)"}`,
  );
  const local = await checkLedgerFile(o.file, o.format, assets, o.units);
  if (local.errorCount > 0) {
    return printRejected(
      {
        error: {
          message: `${local.errorCount} invalid row(s) in ${o.file}; nothing was sent`,
          errors: local.errors,
          errorCount: local.errorCount,
        },
      },
      io,
    );
  }
  let current: CurrentLedger | null;
  try {
    current = await fetchCurrentLedger(o.base, o.issuer);
  } catch (e) {
    const why = (e as Error).cause ?? (e as Error).message;
    if (!o.allowLarge)
      throw new UsageError(
        `could not read the issuer's latest attestation to compare totals (${String(why)}); nothing was sent. Pass --allow-large-change to upload without the comparison`,
      );
    io.err(
      `could not read the latest attestation (${String(why)}): uploading without a comparison (--allow-large-change)`,
    );
    current = null;
  }
  const changes = compareTotals(assets, local.totals, current);
  io.err(
    `${local.rows} users; totals in whole units${current === null ? " (no attestation yet: nothing to compare with)" : `, against attestation #${current.sequence}${current.ledgerId ? ` (ledger ${current.ledgerId})` : ""}`}:`,
  );
  for (const line of totalsTable(changes, current)) io.err(line);
  const large = changes.filter((c) => c.large);
  if (large.length > 0) {
    const names = large.map((c) => `${c.asset} (${c.change})`).join(", ");
    if (!o.allowLarge) {
      io.err(
        `refused: ${names} would move more than ${LARGE_CHANGE}x against the current ledger; nothing was sent. ` +
          `That is what a unit slip looks like: base units read as whole units multiply a total by 10^decimals, whole units read as base units divide it. ` +
          `Check --units (now ${o.units}); if the change is real, run again with --allow-large-change.`,
      );
      return EXIT_UNUSABLE;
    }
    io.err(`--allow-large-change: uploading although ${names} moves more than ${LARGE_CHANGE}x`);
  }
  if (o.yes) return null;
  const interactive = deps.interactive ?? process.stdin.isTTY === true;
  if (!interactive) {
    io.err(
      "stdin is not a terminal, so nobody can confirm these totals: nothing was sent. Pass --yes to upload from a script.",
    );
    return EXIT_UNUSABLE;
  }
  const confirm = deps.confirm ?? ((q: string) => askToConfirm(q, process.stdin, process.stderr));
  if (!(await confirm(`upload ${local.rows} users to ${o.base.origin} for issuer "${o.issuer}"? [y/N] `))) {
    io.err("not confirmed: nothing was sent");
    return EXIT_UNUSABLE;
  }
  return null;
}

/** Polls a building ledger's status URL until it is complete, superseded or failed. */
async function pollBuild(
  answer: Record<string, unknown>,
  base: URL,
  auth: Record<string, string>,
  io: Output,
  deps: LedgerUploadDeps,
): Promise<number> {
  const statusUrl = typeof answer.statusUrl === "string" ? new URL(answer.statusUrl, base) : null;
  if (statusUrl === null) throw new UsageError("the publisher answered 202 without a statusUrl");
  const deadline = Date.now() + (deps.pollTimeoutMs ?? 6 * 3600 * 1000);
  let lastLine = "";
  for (;;) {
    await new Promise((r) => setTimeout(r, deps.pollIntervalMs ?? 2000));
    const poll = await fetch(statusUrl, { headers: auth }).catch(() => null);
    if (poll === null || poll.status >= 500) continue; // transient: keep polling
    const status = (await poll.json().catch(() => ({}))) as Record<string, unknown> & ErrorBody;
    if (!poll.ok) {
      io.err(`status check refused (${poll.status}): ${status.error?.message ?? poll.statusText}`);
      return EXIT_UNUSABLE;
    }
    if (status.status === "complete") return printComplete(status, io);
    if (status.status === "superseded") return printSuperseded(status, io);
    if (status.status === "failed")
      return printRejected(
        {
          error: {
            message: String(status.reason),
            errors: status.errors as never,
            errorCount: status.errorCount as number,
          },
        },
        io,
      );
    const p = status.progress as { phase?: string; done?: number; total?: number } | null;
    const line = p?.total
      ? `building (${p.phase ?? "build"}): ${p.done}/${p.total}`
      : `status: ${String(status.status)}`;
    if (line !== lastLine) io.err(line);
    lastLine = line;
    if (Date.now() > deadline) {
      io.err(`still ${String(status.status)} after polling; check ${statusUrl.href}`);
      return EXIT_UNUSABLE;
    }
  }
}

function printComplete(answer: Record<string, unknown>, io: Output): number {
  io.out(`ledger ${String(answer.ledgerId)}: complete`);
  io.out(`root:     ${String(answer.root)}`);
  io.out(`users:    ${String(answer.users)}`);
  if (Array.isArray(answer.rootSums)) io.out(`rootSums: ${answer.rootSums.join(", ")}`);
  return EXIT_OK;
}

/**
 * Built, but a ledger of the issuer with an asOf at least as new completed first:
 * this one is kept in the history and never attested (SPEC §4).
 */
function printSuperseded(answer: Record<string, unknown>, io: Output): number {
  const asOf =
    typeof answer.asOf === "number" ? ` (asOf ${answer.asOf}, ${new Date(answer.asOf * 1000).toISOString()})` : "";
  io.err(
    `ledger ${String(answer.ledgerId)}${asOf}: built but superseded — the issuer already has a complete ledger with an asOf at least as new, so this one will never be attested.`,
  );
  io.err("If these balances are the ones to publish, upload them again with a newer --as-of.");
  return EXIT_INVALID;
}

function printRejected(answer: ErrorBody, io: Output): number {
  const e = answer.error ?? {};
  io.err(`ledger rejected: ${e.message ?? "invalid"}`);
  for (const r of e.errors ?? []) io.err(`  row ${r.row}: ${r.reason}`);
  const shown = e.errors?.length ?? 0;
  if (e.errorCount !== undefined && e.errorCount > shown)
    io.err(`  … and ${e.errorCount - shown} more (${e.errorCount} in all)`);
  return EXIT_INVALID;
}

/** A bar redrawn in place on a TTY, otherwise a plain line every 10%. */
function progressReporter(total: number, io: Output, tty: { isTTY?: boolean; write(text: string): unknown }) {
  let sent = 0;
  let lastDraw = 0;
  let lastDecile = -1;
  const draw = () => {
    const ratio = total === 0 ? 1 : Math.min(1, sent / total);
    const width = 30;
    const filled = Math.round(ratio * width);
    tty.write(
      `\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${(ratio * 100).toFixed(0).padStart(3)}% ${formatBytes(sent)} / ${formatBytes(total)}`,
    );
  };
  return {
    sent(bytes: number) {
      sent += bytes;
      if (tty.isTTY) {
        if (Date.now() - lastDraw > 100) {
          lastDraw = Date.now();
          draw();
        }
        return;
      }
      const decile = total === 0 ? 10 : Math.floor((sent / total) * 10);
      if (decile > lastDecile) {
        lastDecile = decile;
        io.err(`sent ${sent} / ${total} bytes (${Math.min(100, decile * 10)}%)`);
      }
    },
    done() {
      if (tty.isTTY) {
        draw();
        tty.write("\n");
      }
    },
  };
}
