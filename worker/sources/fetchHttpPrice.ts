import type { PriceSourceConfig } from "../../core/config/schema.js";
import type { PriceObservation, Reading } from "../../core/valuation/readings.js";

type HttpSource = Extract<PriceSourceConfig, { kind: "http" }>;
type FixedSource = Extract<PriceSourceConfig, { kind: "fixed" }>;

export type FetchFn = (input: string, init?: RequestInit) => Promise<Response>;

export interface FetchHttpPriceOptions {
  /** The asset this source prices. */
  asset: string;
  /** Unix seconds of the tick. */
  now: bigint;
  /** The policy's default when the source sets no maxAgeSeconds. */
  maxSourceAgeSeconds: number;
  /** Default 10 s. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_BODY_CHARS = 1_000_000;
/** A source timestamp may run this far ahead of our clock before it is refused. */
const FUTURE_SKEW_SECONDS = 300n;

export const httpLabel = (url: string): string => `http:${url}`;

/**
 * GETs a JSON price: the value at `source.path`, a JSON string or number
 * read from its decimal text (never through a float), as usd18. More than 18
 * fractional digits are floored. Negative, zero, exponent form, NaN and
 * non-numeric values are refused. With `timestampPath`, the unix-seconds
 * timestamp there must be within maxAgeSeconds of `now`. Every failure is a
 * failed observation with the reason.
 *
 * @example
 * const obs = await fetchHttpPrice(fetch, source, { asset: "ETH", now, maxSourceAgeSeconds: 3600 });
 */
export async function fetchHttpPrice(
  fetchFn: FetchFn,
  source: HttpSource,
  options: FetchHttpPriceOptions,
): Promise<PriceObservation> {
  return { asset: options.asset, source: httpLabel(source.url), result: await readHttpPrice(fetchFn, source, options) };
}

async function readHttpPrice(
  fetchFn: FetchFn,
  source: HttpSource,
  options: FetchHttpPriceOptions,
): Promise<PriceObservation["result"]> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let text: string;
  try {
    const response = await fetchFn(source.url, {
      headers: { accept: "application/json" },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) {
      await response.body?.cancel();
      return { ok: false, reason: `HTTP ${response.status} from ${source.url}` };
    }
    text = await response.text();
  } catch (error) {
    const name = (error as { name?: unknown } | null)?.name;
    if (name === "TimeoutError" || name === "AbortError")
      return { ok: false, reason: `no answer from ${source.url} within ${timeoutMs} ms` };
    return {
      ok: false,
      reason: `request to ${source.url} failed: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  if (text.length > MAX_BODY_CHARS)
    return { ok: false, reason: `answer from ${source.url} is over ${MAX_BODY_CHARS} characters` };

  let body: JsonValue;
  try {
    body = parseJsonKeepingNumbers(text);
  } catch (error) {
    return { ok: false, reason: `answer from ${source.url} is not valid JSON: ${(error as Error).message}` };
  }

  const price = parsePriceUsd18(valueAt(body, source.path), source.path);
  if (!price.ok) return price;

  if (source.timestampPath === undefined) return { ok: true, value: { priceUsd: price.value } };
  const updatedAt = parseTimestamp(valueAt(body, source.timestampPath), source.timestampPath);
  if (!updatedAt.ok) return updatedAt;
  const maxAge = BigInt(source.maxAgeSeconds ?? options.maxSourceAgeSeconds);
  if (updatedAt.value > options.now + FUTURE_SKEW_SECONDS) {
    return { ok: false, reason: `${source.timestampPath} ${updatedAt.value} is in the future (now ${options.now})` };
  }
  const age = options.now - updatedAt.value;
  if (age > maxAge)
    return {
      ok: false,
      reason: `stale: ${source.timestampPath} ${updatedAt.value} is ${age}s old, over the ${maxAge}s limit`,
    };
  return { ok: true, value: { priceUsd: price.value, updatedAt: updatedAt.value } };
}

/** A `fixed` source (the peg currency itself): its configured usd18 price. */
export function fixedPrice(asset: string, source: FixedSource): PriceObservation {
  return { asset, source: "fixed", result: { ok: true, value: { priceUsd: BigInt(source.priceUsd) } } };
}

// ---- decimal text → usd18 ----

const DECIMAL = /^(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;

/**
 * A non-negative decimal as usd18, exactly; digits past the 18th fractional
 * one are dropped (floor). Zero is refused: no source quotes an asset at 0.
 */
export function decimalToUsd18(text: string): Reading<bigint> {
  if (text === "") return { ok: false, reason: "is empty" };
  if (text.startsWith("-")) return { ok: false, reason: `${text} is negative` };
  if (/^[0-9.]*[eE][+-]?[0-9]+$/.test(text) || /^[0-9]+(\.[0-9]+)?[eE]/.test(text))
    return { ok: false, reason: `${text} is in exponent form` };
  const match = DECIMAL.exec(text);
  if (!match) return { ok: false, reason: `${JSON.stringify(text.slice(0, 40))} is not a plain decimal number` };
  const fraction = (match[2] ?? "").slice(0, 18).padEnd(18, "0");
  const value = BigInt(match[1]!) * 10n ** 18n + BigInt(fraction);
  if (value === 0n) return { ok: false, reason: `${text} is not a positive price` };
  return { ok: true, value };
}

function parsePriceUsd18(value: JsonValue | undefined, path: string): Reading<bigint> {
  if (value === undefined) return { ok: false, reason: `no value at ${path}` };
  const text = value instanceof JsonNumber ? value.text : typeof value === "string" ? value : undefined;
  if (text === undefined) return { ok: false, reason: `${path} is ${describe(value)}, not a number or numeric string` };
  const parsed = decimalToUsd18(text);
  return parsed.ok ? parsed : { ok: false, reason: `${path}: ${parsed.reason}` };
}

function parseTimestamp(value: JsonValue | undefined, path: string): Reading<bigint> {
  if (value === undefined) return { ok: false, reason: `no value at ${path}` };
  const text = value instanceof JsonNumber ? value.text : typeof value === "string" ? value : undefined;
  // Fractional seconds are floored; anything else is refused.
  const match = text === undefined ? null : /^(0|[1-9][0-9]*)(?:\.[0-9]+)?$/.exec(text);
  if (!match) return { ok: false, reason: `${path} is not a unix-seconds timestamp` };
  return { ok: true, value: BigInt(match[1]!) };
}

// ---- JSON with numbers kept as their source text ----

/** A JSON number as written: JSON.parse would round it through a float. */
class JsonNumber {
  constructor(readonly text: string) {}
}

type JsonValue = string | boolean | null | JsonNumber | JsonValue[] | Map<string, JsonValue>;

function describe(value: JsonValue): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (value instanceof Map) return "an object";
  return `a ${typeof value}`;
}

/** Follows a dot path through objects (and arrays, by index). */
function valueAt(root: JsonValue, path: string): JsonValue | undefined {
  let node: JsonValue | undefined = root;
  for (const key of path.split(".")) {
    if (node instanceof Map) node = node.get(key);
    else if (Array.isArray(node) && /^(0|[1-9][0-9]*)$/.test(key)) node = node[Number(key)];
    else return undefined;
  }
  return node;
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
// biome-ignore lint/suspicious/noControlCharactersInRegex: JSON forbids raw control characters in strings; the class names them to refuse them
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const MAX_DEPTH = 64;

/** A strict JSON parser (RFC 8259) returning JsonNumber for numbers and Map for objects. */
export function parseJsonKeepingNumbers(text: string): JsonValue {
  let i = 0;
  const skip = (): void => {
    while (i < text.length && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r")) i++;
  };
  const error = (what: string): never => {
    throw new Error(`${what} at position ${i}`);
  };
  const match = (re: RegExp): string | undefined => {
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) return undefined;
    i += m[0].length;
    return m[0];
  };
  const value = (depth: number): JsonValue => {
    if (depth > MAX_DEPTH) error("nesting too deep");
    skip();
    const c = text[i];
    if (c === "{") {
      i++;
      const out = new Map<string, JsonValue>();
      skip();
      if (text[i] === "}") {
        i++;
        return out;
      }
      for (;;) {
        skip();
        const key = match(STRING) ?? error("expected a string key");
        skip();
        if (text[i++] !== ":") error("expected ':'");
        out.set(JSON.parse(key) as string, value(depth + 1));
        skip();
        const next = text[i++];
        if (next === "}") return out;
        if (next !== ",") error("expected ',' or '}'");
      }
    }
    if (c === "[") {
      i++;
      const out: JsonValue[] = [];
      skip();
      if (text[i] === "]") {
        i++;
        return out;
      }
      for (;;) {
        out.push(value(depth + 1));
        skip();
        const next = text[i++];
        if (next === "]") return out;
        if (next !== ",") error("expected ',' or ']'");
      }
    }
    if (c === '"') return JSON.parse(match(STRING) ?? error("bad string")) as string;
    if (text.startsWith("true", i)) {
      i += 4;
      return true;
    }
    if (text.startsWith("false", i)) {
      i += 5;
      return false;
    }
    if (text.startsWith("null", i)) {
      i += 4;
      return null;
    }
    const n = match(NUMBER);
    if (n !== undefined) return new JsonNumber(n);
    return error(i >= text.length ? "unexpected end" : `unexpected ${JSON.stringify(text[i])}`);
  };
  const result = value(0);
  skip();
  if (i !== text.length) error("trailing characters");
  return result;
}
