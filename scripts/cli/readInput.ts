import { readFile } from "node:fs/promises";
import { UsageError } from "./io.js";

/**
 * Reads a JSON document from a file path or, when it is an http(s) URL, from
 * the network (the only time the CLI touches one; everything else is offline).
 */
export async function readJsonInput(source: string, what: string): Promise<unknown> {
  let text: string;
  if (/^https?:\/\//.test(source)) {
    let res: Response;
    try {
      res = await fetch(source);
    } catch (e) {
      throw new UsageError(`${what}: cannot fetch ${source}: ${(e as Error).message}`);
    }
    if (!res.ok) throw new UsageError(`${what}: ${source} answered HTTP ${res.status}`);
    text = await res.text();
  } else {
    try {
      text = await readFile(source, "utf8");
    } catch (e) {
      throw new UsageError(`${what}: cannot read ${source}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new UsageError(`${what}: ${source} is not JSON: ${(e as Error).message}`);
  }
}
