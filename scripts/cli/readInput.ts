import { readFile } from "node:fs/promises";
import { UsageError } from "./io.js";

/**
 * Reads a JSON document from a file path or, when it is an http(s) URL, from
 * the network (the only time the CLI touches one; everything else is offline).
 */
export async function readJsonInput(source: string, what: string): Promise<unknown> {
  const text = new TextDecoder().decode(await readBytesInput(source, what));
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new UsageError(`${what}: ${source} is not JSON: ${(e as Error).message}`);
  }
}

/** The exact bytes of a file or http(s) URL (a report is checked against the hash an attestation signs). */
export async function readBytesInput(source: string, what: string): Promise<Uint8Array> {
  if (/^https?:\/\//.test(source)) {
    let res: Response;
    try {
      res = await fetch(source);
    } catch (e) {
      throw new UsageError(`${what}: cannot fetch ${source}: ${(e as Error).message}`);
    }
    if (!res.ok) throw new UsageError(`${what}: ${await publisherProblem(res, source)}`);
    return new Uint8Array(await res.arrayBuffer());
  }
  try {
    return new Uint8Array(await readFile(source));
  } catch (e) {
    throw new UsageError(
      `${what}: cannot read ${source}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
}

/**
 * What a publisher said when it refused: its own `{ error: { code, message } }`
 * passed through (e.g. `issuer "x" is not published here (UNKNOWN_ISSUER, HTTP 404)`),
 * or the bare status when the answer is not one of those.
 */
export async function publisherProblem(res: Response, url: string): Promise<string> {
  const text = await res.text().catch(() => "");
  let error: { code?: unknown; message?: unknown } | undefined;
  try {
    error = (JSON.parse(text) as { error?: { code?: unknown; message?: unknown } }).error;
  } catch {
    error = undefined;
  }
  if (typeof error?.message === "string") {
    const code = typeof error.code === "string" ? `${error.code.slice(0, 40)}, ` : "";
    return `the publisher says: ${error.message.slice(0, 500)} (${code}HTTP ${res.status})`;
  }
  return `${url} answered HTTP ${res.status}`;
}
