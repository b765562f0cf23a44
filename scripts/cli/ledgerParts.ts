/**
 * Multi-part ledger upload from a file (worker/api/adminLedgerUpload.ts):
 * the file is cut at line ends into parts of about `partBytes`, every CSV part
 * after the first gets the header line, parts go up `parallel` at a time with
 * retries, then the upload is completed. Used by `solvent ledger upload` and
 * the end-to-end benchmark.
 */
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";

export interface FilePart {
  /** Byte range [start, end) of the file. */
  start: number;
  end: number;
  /** Lines of the file before this part (0-based line index of its first line). */
  firstLine: number;
}

export interface PartPlan {
  /** The CSV header line (with its line break) repeated at the head of parts 1…; null for NDJSON. */
  header: Uint8Array | null;
  parts: FilePart[];
}

const NL = 0x0a;
const isBlank = (bytes: Uint8Array) => bytes.every((b) => b === 0x20 || b === 0x09 || b === 0x0d || b === NL);

/** Cuts `file` (of `size` bytes) after the first line end at or past every `partBytes`. */
export async function planParts(
  file: string,
  size: number,
  partBytes: number,
  format: "csv" | "ndjson",
): Promise<PartPlan> {
  if (!(partBytes >= 1024)) throw new Error("parts are at least 1 KiB");
  const handle = await open(file, "r");
  const chunk = new Uint8Array(1 << 20);
  const parts: FilePart[] = [];
  let header: Uint8Array | null = null;
  let headerDone = format !== "csv";
  let lineStart = 0;
  let lines = 0;
  let partStart = 0;
  let partFirstLine = 0;
  try {
    for (let offset = 0; offset < size; ) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, offset);
      if (bytesRead === 0) break;
      for (let i = chunk.indexOf(NL, 0); i >= 0 && i < bytesRead; i = chunk.indexOf(NL, i + 1)) {
        const pos = offset + i;
        if (!headerDone) {
          // The header is the first line that is not blank (the publisher skips blank lines before it).
          const line = await readRange(handle, lineStart, pos + 1);
          if (!isBlank(line)) {
            header = line;
            headerDone = true;
          }
        }
        lines += 1;
        lineStart = pos + 1;
        if (pos + 1 - partStart >= partBytes && pos + 1 < size) {
          parts.push({ start: partStart, end: pos + 1, firstLine: partFirstLine });
          partStart = pos + 1;
          partFirstLine = lines;
        }
      }
      offset += bytesRead;
    }
    if (partStart < size) {
      const tail = await readRange(handle, partStart, size);
      // A tail of blank lines is no part of its own: it stays with the part before.
      if (isBlank(tail) && parts.length > 0) parts[parts.length - 1]!.end = size;
      else parts.push({ start: partStart, end: size, firstLine: partFirstLine });
    }
  } finally {
    await handle.close();
  }
  if (parts.length === 0) parts.push({ start: 0, end: size, firstLine: 0 });
  return { header, parts };
}

async function readRange(handle: Awaited<ReturnType<typeof open>>, start: number, end: number): Promise<Uint8Array> {
  const out = new Uint8Array(end - start);
  let at = 0;
  while (at < out.length) {
    const { bytesRead } = await handle.read(out, at, out.length - at, start + at);
    if (bytesRead === 0) break;
    at += bytesRead;
  }
  return out.subarray(0, at);
}

/**
 * The row of the whole file that row `row` of part `part` is, in the
 * publisher's numbering (CSV: header 0, data from 1; NDJSON: line number).
 */
export function fileRow(plan: PartPlan, part: number, row: number, format: "csv" | "ndjson"): number {
  if (part === 0) return row;
  return format === "csv" ? plan.parts[part]!.firstLine + row - 1 : plan.parts[part]!.firstLine + row;
}

export interface PartUploadOptions {
  base: URL;
  issuer: string;
  token: string;
  file: string;
  format: "csv" | "ndjson";
  plan: PartPlan;
  /** Query parameters of the create, e.g. `units` (base | decimal) and `asOf`; parts are read as the create said. */
  query?: Record<string, string>;
  /** Parts in flight at once (default 3). */
  parallel?: number;
  /** Attempts per part on network errors and 5xx (default 4). */
  attempts?: number;
  /** Called with every chunk's size as it is sent. */
  onBytes?: (n: number) => void;
  /** Called once per received part. */
  onPart?: (part: number, answer: { rows: number }) => void;
  /** Waits between attempts (default 1 s, doubling). */
  backoffMs?: number;
}

export type PartUploadResult =
  | { ok: true; ledgerId: string; status: number; answer: Record<string, unknown> }
  | {
      ok: false;
      ledgerId: string | null;
      httpStatus: number;
      part: number | null;
      error: { code?: string; message?: string; errors?: { row: number; reason: string }[]; errorCount?: number };
    };

type ErrorBody = {
  error?: { code?: string; message?: string; errors?: { row: number; reason: string }[]; errorCount?: number };
};

/** Creates the upload, sends every part, completes it. A refused part abandons the upload (DELETE). */
export async function uploadInParts(o: PartUploadOptions): Promise<PartUploadResult> {
  const auth = { Authorization: `Bearer ${o.token}` };
  const issuerPath = `/v1/admin/issuers/${encodeURIComponent(o.issuer)}`;
  const createUrl = new URL(`${issuerPath}/ledgers`, o.base);
  for (const [k, v] of Object.entries(o.query ?? {})) createUrl.searchParams.set(k, v);
  const created = await fetch(createUrl, {
    method: "POST",
    headers: { ...auth, "Content-Type": "application/json" },
    body: JSON.stringify({ format: o.format }),
  });
  const createdBody = (await created.json().catch(() => ({}))) as Record<string, unknown> & ErrorBody;
  if (created.status !== 201)
    return { ok: false, ledgerId: null, httpStatus: created.status, part: null, error: createdBody.error ?? {} };
  const ledgerId = String(createdBody.ledgerId);
  const ledgerPath = `${issuerPath}/ledgers/${ledgerId}`;
  const maxPartBytes = Number(createdBody.maxPartBytes ?? Infinity);
  const maxParts = Number(createdBody.maxParts ?? Infinity);
  const headerBytes = o.plan.header?.length ?? 0;
  const tooBig = o.plan.parts.findIndex((p, i) => p.end - p.start + (i > 0 ? headerBytes : 0) > maxPartBytes);
  const abandon = async () =>
    void (await fetch(new URL(ledgerPath, o.base), { method: "DELETE", headers: auth }).catch(() => null));
  if (o.plan.parts.length > maxParts || tooBig >= 0) {
    await abandon();
    const message =
      tooBig >= 0
        ? `part ${tooBig} is larger than the publisher's ${maxPartBytes} bytes a part`
        : `${o.plan.parts.length} parts are more than the publisher's ${maxParts}`;
    return {
      ok: false,
      ledgerId,
      httpStatus: 413,
      part: tooBig >= 0 ? tooBig : null,
      error: { code: "PAYLOAD_TOO_LARGE", message },
    };
  }

  const contentType = o.format === "csv" ? "text/csv" : "application/x-ndjson";
  let refused: PartUploadResult | null = null;
  let next = 0;
  const sendPart = async (index: number): Promise<void> => {
    const part = o.plan.parts[index]!;
    const attempts = o.attempts ?? 4;
    for (let attempt = 1; ; attempt++) {
      let sent = 0;
      const header = index > 0 ? o.plan.header : null;
      const body = partStream(o.file, part, header, (n) => {
        sent += n;
        o.onBytes?.(n);
      });
      let res: Response | null = null;
      try {
        res = await fetch(new URL(`${ledgerPath}/parts/${index}`, o.base), {
          method: "PUT",
          headers: {
            ...auth,
            "Content-Type": contentType,
            "Content-Length": String(part.end - part.start + (header?.length ?? 0)),
          },
          body,
          duplex: "half",
        } as RequestInit);
      } catch {
        res = null;
      }
      const answer = res ? ((await res.json().catch(() => ({}))) as Record<string, unknown> & ErrorBody) : {};
      if (res?.status === 201) {
        o.onPart?.(index, { rows: Number(answer.rows) });
        return;
      }
      // A retry may find its part already received: an earlier attempt landed without its answer.
      if (res?.status === 409 && attempt > 1 && /already received/.test(answer.error?.message ?? "")) return;
      const transient = res === null || res.status >= 500 || res.status === 429;
      if (!transient || attempt >= attempts) {
        refused ??= {
          ok: false,
          ledgerId,
          httpStatus: res?.status ?? 0,
          part: index,
          error: answer.error ?? { message: res ? res.statusText : "the publisher could not be reached" },
        };
        return;
      }
      o.onBytes?.(-sent); // the bytes go again
      await new Promise((r) => setTimeout(r, (o.backoffMs ?? 1000) * 2 ** (attempt - 1)));
    }
  };
  const worker = async () => {
    while (refused === null && next < o.plan.parts.length) await sendPart(next++);
  };
  await Promise.all(Array.from({ length: Math.min(o.parallel ?? 3, o.plan.parts.length) }, worker));
  if (refused !== null) {
    await abandon();
    return refused;
  }

  const done = await fetch(new URL(`${ledgerPath}/complete`, o.base), {
    method: "POST",
    headers: { ...auth, "Content-Type": "application/json" },
    body: JSON.stringify({ parts: o.plan.parts.length }),
  });
  const answer = (await done.json().catch(() => ({}))) as Record<string, unknown> & ErrorBody;
  if (done.status !== 202 && done.status !== 200) {
    // A refused complete (a 4xx) leaves nothing to finish; after a 5xx the ledger may be building (the publisher's sweep starts it).
    if (done.status < 500) await abandon();
    return { ok: false, ledgerId, httpStatus: done.status, part: null, error: answer.error ?? {} };
  }
  return { ok: true, ledgerId, status: done.status, answer };
}

/** Part `part` of the file as a request body, after `header` (CSV parts 1…). */
function partStream(
  file: string,
  part: FilePart,
  header: Uint8Array | null,
  onBytes: (n: number) => void,
): ReadableStream<Uint8Array> {
  const source =
    part.end > part.start
      ? createReadStream(file, { start: part.start, end: part.end - 1, highWaterMark: 1 << 20 })
      : null;
  const iterator = source?.[Symbol.asyncIterator]();
  let headerSent = header === null;
  return new ReadableStream<Uint8Array>({
    async pull(ctl) {
      if (!headerSent) {
        headerSent = true;
        onBytes(header!.length);
        ctl.enqueue(header!);
        return;
      }
      const next = iterator ? await iterator.next() : { done: true as const, value: undefined };
      if (next.done) return ctl.close();
      const bytes = new Uint8Array(next.value as Buffer);
      onBytes(bytes.length);
      ctl.enqueue(bytes);
    },
    cancel() {
      source?.destroy();
    },
  });
}
