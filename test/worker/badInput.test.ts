/**
 * The bad-input corpus (test/fixtures/bad-input/*.json) against the real
 * Worker (exports.default.fetch with the demo world's configuration): every
 * case is refused with its status, error code and named record, never a 5xx,
 * and leaves storage as it was — no attestation, signing key, statement or
 * usable ledger is added or changed, and no R2 object is left behind.
 */
import { env, exports } from "cloudflare:workers";
import { privateKeyToAccount } from "viem/accounts";
import { beforeAll, describe, expect, it } from "vitest";
import { ConfigError, parseConfig, parseConfigText } from "../../core/config/parseConfig.js";
import { parseCustodianStatement, signCustodianStatement } from "../../core/custodianStatement.js";
import { demoAccounts, demoCustodianStatement } from "../../scripts/demo/world.js";
import configCorpus from "../fixtures/bad-input/config.json" with { type: "json" };
import csvCorpus from "../fixtures/bad-input/ledger-csv.json" with { type: "json" };
import ndjsonCorpus from "../fixtures/bad-input/ledger-ndjson.json" with { type: "json" };
import routeCorpus from "../fixtures/bad-input/routes.json" with { type: "json" };
import statementCorpus from "../fixtures/bad-input/statements.json" with { type: "json" };
import { chunkedStream } from "../support/chunkedStream.js";
import { highSTwin } from "../support/highS.js";

const testEnv = env as unknown as { DB: D1Database; BUCKET: R2Bucket; ADMIN_TOKEN: string };
const ORIGIN = "http://solvent.test";
const TOKEN = testEnv.ADMIN_TOKEN;

// ---- bodies -------------------------------------------------------------------

type Part = string | { repeat: string; times: number };
type BodySpec = string | { parts: Part[] } | { base64: string };

function bodyBytes(spec: BodySpec): Uint8Array {
  if (typeof spec === "string") return new TextEncoder().encode(spec);
  if ("base64" in spec) return Uint8Array.from(atob(spec.base64), (ch) => ch.charCodeAt(0));
  return new TextEncoder().encode(
    spec.parts.map((p) => (typeof p === "string" ? p : p.repeat.repeat(p.times))).join(""),
  );
}

let client = 0;
/** Each request from its own address, so the corpus never trips the public rate limit. */
function fetchWorker(path: string, init: RequestInit = {}): Promise<Response> {
  client += 1;
  const headers = new Headers(init.headers);
  headers.set("CF-Connecting-IP", `10.77.${(client >> 8) & 255}.${client & 255}`);
  return exports.default.fetch(`${ORIGIN}${path}`, { ...init, headers });
}

// ---- storage snapshot ------------------------------------------------------

async function r2Objects(): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await testEnv.BUCKET.list({ cursor, limit: 1000 });
    out.push(...page.objects.map((o) => `${o.key} ${o.etag}`));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return out.sort();
}

/** What a refused request must not change. Failed ledger records are allowed: they are the refusal's receipt. */
async function snapshot() {
  const db = testEnv.DB;
  const rows = async (sql: string) => JSON.stringify((await db.prepare(sql).all()).results);
  return {
    attestations: await rows("SELECT * FROM attestations ORDER BY issuer_id, sequence"),
    signingKeys: await rows("SELECT * FROM signing_keys ORDER BY position"),
    statements: await rows("SELECT * FROM custodian_statements ORDER BY rowid"),
    usableLedgers: await rows(
      "SELECT ledger_id, status, root FROM ledgers WHERE status <> 'failed' ORDER BY ledger_id",
    ),
    disputes: await rows("SELECT * FROM disputes ORDER BY issuer_id, receipt_digest"),
    objects: await r2Objects(),
  };
}

interface ErrorBody {
  error?: { code?: unknown; message?: unknown; [key: string]: unknown };
}

/** The SPEC §10 error shape, a 4xx, and a bounded body (nothing echoed at length). */
async function expectRefusal(res: Response, status: number, code: string): Promise<NonNullable<ErrorBody["error"]>> {
  const text = await res.text();
  expect(res.status, text.slice(0, 500)).toBe(status);
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  expect(res.headers.get("content-type") ?? "").toContain("application/json");
  expect(text.length).toBeLessThan(16_384);
  const body = JSON.parse(text) as ErrorBody;
  expect(body.error?.code).toBe(code);
  expect(typeof body.error?.message).toBe("string");
  return body.error!;
}

let acceptedNonce = 0n;

beforeAll(async () => {
  // History to protect: one published attestation (and its report and key), one accepted statement.
  const published = await fetchWorker("/v1/admin/issuers/demo-stable/publish", {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  expect(published.status, await published.clone().text()).toBe(201);
  acceptedNonce = BigInt(Date.now());
  const accepted = await fetchWorker("/v1/admin/issuers/demo/statements", {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify(
      await demoCustodianStatement(BigInt(Math.floor(Date.now() / 1000)) - 30n, 900_000n, acceptedNonce),
    ),
  });
  expect(accepted.status, await accepted.clone().text()).toBe(201);
});

// ---- routes ------------------------------------------------------------------

interface RouteCase {
  name: string;
  target: string;
  request: { method: string; path: string; headers?: Record<string, string>; body?: BodySpec; stream?: boolean };
  expect: { status: number; code: string; names: string; message?: string };
}

/** `$REPEAT(c,n)` in a path: the character c, n times (inputs too long to write out in the corpus). */
function longInput(text: string): string {
  return text.replace(/\$REPEAT\((.),(\d+)\)/g, (_m, ch: string, n: string) => ch.repeat(Number(n)));
}

function fillToken(value: string): string {
  return value
    .replace("$ADMIN_TOKEN_UPPER", TOKEN.toUpperCase())
    .replace("$ADMIN_TOKEN_PREFIX", TOKEN.slice(0, -1))
    .replace("$ADMIN_TOKEN", TOKEN);
}

describe("bad-input corpus: routes", () => {
  const cases = routeCorpus.cases as RouteCase[];

  it("covers every route", () => {
    const targets = new Set(cases.map((c) => c.target));
    for (const route of [
      "GET /v1/issuers/{issuer}/attestations/latest",
      "GET /v1/issuers/{issuer}/attestations/{sequence}",
      "GET /v1/issuers/{issuer}/attestations",
      "GET /v1/issuers/{issuer}/reports/{sequence}",
      "GET /v1/issuers/{issuer}/proofs/{sequence}/{commitment}",
      "GET /v1/issuers/{issuer}/gate",
      "GET /v1/issuers/{issuer}/feed",
      "GET /v1/issuers/{issuer}/relayer",
      "GET /v1/issuers/{issuer}/alerts",
      "POST /v1/admin/issuers/{issuer}/statements",
      "PUT /v1/admin/issuers/{issuer}/ledger",
      "GET /v1/admin/issuers/{issuer}/ledger",
      "GET /v1/admin/issuers/{issuer}/ledgers/{ledgerId}",
      "POST /v1/admin/issuers/{issuer}/ledgers",
      "PUT /v1/admin/issuers/{issuer}/ledgers/{ledgerId}/parts/{part}",
      "POST /v1/admin/issuers/{issuer}/ledgers/{ledgerId}/complete",
      "DELETE /v1/admin/issuers/{issuer}/ledgers/{ledgerId}",
      "POST /v1/admin/issuers/{issuer}/publish",
      "GET /v1/admin/issuers/{issuer}/publisher",
      "POST /v1/issuers/{issuer}/disputes",
      "GET /v1/issuers/{issuer}/disputes",
    ]) {
      expect(targets, route).toContain(route);
    }
  });

  it.each(cases.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    const before = await snapshot();
    const { method, headers = {}, body, stream } = c.request;
    const path = longInput(c.request.path);
    const filled = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, fillToken(v)]));
    const init: RequestInit & { duplex?: string } = { method, headers: filled };
    if (body !== undefined) {
      const bytes = bodyBytes(body);
      init.body = stream ? chunkedStream(bytes, 4096) : (bytes as unknown as ArrayBuffer);
      if (stream) init.duplex = "half";
    }
    const res = await fetchWorker(path, init);
    // Admin answers are never stored by anyone, refusals included.
    if (path.startsWith("/v1/admin/")) expect(res.headers.get("Cache-Control")).toBe("no-store");
    const error = await expectRefusal(res, c.expect.status, c.expect.code);
    // Nothing a request carries is echoed at length, however long it was.
    expect(JSON.stringify(error).length).toBeLessThan(2048);
    expect(JSON.stringify(error)).toContain(c.expect.names);
    if (c.expect.message !== undefined) expect(error.message).toContain(c.expect.message);
    expect(await snapshot()).toEqual(before);
  });
});

// ---- ledgers -----------------------------------------------------------------

interface LedgerCase {
  name: string;
  target: "ledger-csv" | "ledger-ndjson";
  /** The upload's query, e.g. `units=base` for a body written in base units. */
  query?: string;
  /** The body, or `generate` bytes of `repeat` made while they are sent (bodies too large to keep in the corpus). */
  body?: BodySpec;
  generate?: { repeat: string; bytes: number };
  /** `errorCount`: exactly this many errors (one clear error per fault). */
  expect: { status: number; code: string; row: number; reason: string; errorCount?: number };
}

/** `bytes` bytes of `repeat`, produced 1 MiB at a time as the request reads them. */
function generatedStream({ repeat, bytes }: { repeat: string; bytes: number }): ReadableStream<Uint8Array> {
  const chunk = new TextEncoder().encode(repeat.repeat(Math.ceil((1 << 20) / repeat.length)).slice(0, 1 << 20));
  let sent = 0;
  return new ReadableStream({
    pull(ctl) {
      if (sent >= bytes) return ctl.close();
      const n = Math.min(chunk.length, bytes - sent);
      ctl.enqueue(n === chunk.length ? chunk : chunk.slice(0, n));
      sent += n;
    },
  });
}

describe.each([
  ["CSV", csvCorpus.cases as LedgerCase[], "text/csv"],
  ["NDJSON", ndjsonCorpus.cases as LedgerCase[], "application/x-ndjson"],
] as const)("bad-input corpus: %s ledgers", (_format, cases, contentType) => {
  it.each(cases.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    const before = await snapshot();
    const res = await fetchWorker(`/v1/admin/issuers/demo/ledger${c.query === undefined ? "" : `?${c.query}`}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": contentType },
      body: c.generate ? generatedStream(c.generate) : chunkedStream(bodyBytes(c.body!), 4096),
      duplex: "half",
    } as RequestInit);
    const error = await expectRefusal(res, c.expect.status, c.expect.code);
    const errors = error.errors as { row: number; reason: string }[];
    expect(errors.length).toBeGreaterThan(0);
    const named = errors.find((e) => e.row === c.expect.row && e.reason.includes(c.expect.reason));
    expect(named, JSON.stringify(errors).slice(0, 500)).toBeDefined();
    if (c.expect.errorCount !== undefined)
      expect(error.errorCount, JSON.stringify(errors).slice(0, 500)).toBe(c.expect.errorCount);
    // The upload's record says failed, with the same errors; nothing usable was stored.
    const status = await fetchWorker(`/v1/admin/issuers/demo/ledgers/${error.ledgerId as string}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(((await status.json()) as { status: string }).status).toBe("failed");
    expect(await snapshot()).toEqual(before);
  });
});

// ---- custodian statements ------------------------------------------------------

interface StatementCase {
  name: string;
  issuer?: string;
  set?: Record<string, unknown>;
  signedSet?: Record<string, unknown>;
  omit?: string[];
  /** JSON text put first inside the statement object (keys a JSON module import cannot carry, e.g. __proto__). */
  injectRaw?: string;
  statement?: unknown;
  noStatement?: boolean;
  signer?: "custodian" | "stranger";
  signature?: string;
  /** Send the high-s twin of the signature (SPEC §9 low-s). */
  highS?: boolean;
  expect: { status: number; code: string; names: string; reason?: string; message?: string };
}

const stranger = privateKeyToAccount(`0x${"66".repeat(32)}`);

/** `$now±s`, `$acceptedNonce±n` filled in; everything else as written. */
function fillValue(value: unknown): unknown {
  if (typeof value !== "string") return value;
  const now = BigInt(Math.floor(Date.now() / 1000));
  const m = /^\$(now|acceptedNonce)([+-]\d+)?$/.exec(value);
  if (!m) return value;
  return ((m[1] === "now" ? now : acceptedNonce) + BigInt(m[2] ?? "0")).toString();
}

function statementJson(edits: Record<string, unknown> | undefined, omit: string[] = []): Record<string, unknown> {
  const statement: Record<string, unknown> = {
    issuer: "demo",
    custodian: "acme-trust",
    account: "omnibus-1",
    asset: "USD",
    amount: "1000000000",
    asOf: fillValue("$now-60"),
    nonce: (acceptedNonce + 1_000_000n).toString(),
  };
  for (const [k, v] of Object.entries(edits ?? {})) statement[k] = fillValue(v);
  for (const k of omit) delete statement[k];
  return statement;
}

async function signatureFor(c: StatementCase, sent: Record<string, unknown>): Promise<string> {
  if (c.signature !== undefined) return c.signature;
  const signed = c.signedSet ? statementJson({ ...c.set, ...c.signedSet }, c.omit) : sent;
  let parsed: ReturnType<typeof parseCustodianStatement>;
  try {
    parsed = parseCustodianStatement(signed);
  } catch {
    return `0x${"11".repeat(64)}1b`; // the body is refused before its signature matters
  }
  const signature = await signCustodianStatement(
    parsed,
    c.signer === "stranger" ? stranger : demoAccounts.custodianSigner,
  );
  return c.highS ? highSTwin(signature) : signature;
}

describe("bad-input corpus: custodian statements", () => {
  const cases = statementCorpus.cases as StatementCase[];

  it.each(cases.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    const before = await snapshot();
    const statement = statementJson(c.set, c.omit);
    const payload: Record<string, unknown> = { signature: await signatureFor(c, statement) };
    if (!c.noStatement) payload.statement = "statement" in c ? c.statement : statement;
    const res = await fetchWorker(`/v1/admin/issuers/${c.issuer ?? "demo"}/statements`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body:
        c.injectRaw === undefined
          ? JSON.stringify(payload)
          : JSON.stringify(payload).replace('"statement":{', `"statement":{${c.injectRaw}`),
    });
    const error = await expectRefusal(res, c.expect.status, c.expect.code);
    expect(JSON.stringify(error)).toContain(c.expect.names);
    if (c.expect.reason !== undefined) expect(error.reason).toBe(c.expect.reason);
    if (c.expect.message !== undefined) expect(error.message).toContain(c.expect.message);
    expect(await snapshot()).toEqual(before);
  });
});

// ---- configuration -------------------------------------------------------------

interface ConfigCase {
  name: string;
  set?: Record<string, unknown>;
  unset?: string[];
  replace?: unknown;
  text?: string;
  expect: { code: string; path: string };
}

function pathParts(path: string): (string | number)[] {
  return (path.match(/[^.[\]]+/g) ?? []).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

function edit(
  doc: unknown,
  path: string,
  apply: (parent: Record<string | number, unknown>, key: string | number) => void,
): void {
  const parts = pathParts(path);
  let node = doc as Record<string | number, unknown>;
  for (const p of parts.slice(0, -1)) node = node[p] as Record<string | number, unknown>;
  apply(node, parts.at(-1)!);
}

describe("bad-input corpus: configuration", () => {
  const base = configCorpus.base as unknown;
  const cases = configCorpus.cases as ConfigCase[];

  it("the base configuration is valid", () => {
    expect(parseConfig(structuredClone(base)).issuers.map((i) => i.id)).toEqual(["alpha", "beta"]);
  });

  it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    let doc: unknown = structuredClone(base);
    if ("replace" in c) doc = c.replace;
    for (const [path, value] of Object.entries(c.set ?? {}))
      edit(doc, path, (parent, key) => {
        parent[key] = value;
      });
    for (const path of c.unset ?? []) edit(doc, path, (parent, key) => void delete parent[key]);
    let error: unknown;
    try {
      if (c.text !== undefined) parseConfigText(c.text, "SOLVENT_CONFIG");
      else parseConfig(doc);
    } catch (e) {
      error = e;
    }
    expect(error, "the configuration was accepted").toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues;
    expect((error as ConfigError).code).toBe(c.expect.code);
    expect(
      issues.map((i) => i.path),
      issues.map((i) => `${i.path}: ${i.message}`).join("\n"),
    ).toContain(c.expect.path);
    expect((error as ConfigError).message).toContain(c.expect.path);
  });
});

describe("bad-input corpus: size", () => {
  it("holds at least 200 cases across every target", () => {
    const total =
      routeCorpus.cases.length +
      csvCorpus.cases.length +
      ndjsonCorpus.cases.length +
      statementCorpus.cases.length +
      configCorpus.cases.length;
    expect(total).toBeGreaterThanOrEqual(200);
  });
});
