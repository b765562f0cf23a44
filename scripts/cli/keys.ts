import { parseArgs } from "node:util";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import {
  type Attestation,
  attestationDigest,
  attestationFromJson,
  checkChainLink,
  issuerKey,
  verifySignedAttestation,
} from "../../core/attestation.js";
import type { Hex } from "../../core/bytes.js";
import { SolventError } from "../../core/errors.js";
import { type KeysDocument, parseKeysDocument } from "../../core/keysDocument.js";
import { EXIT_INVALID, EXIT_OK, EXIT_UNUSABLE, type Output, UsageError } from "./io.js";
import { publisherProblem } from "./readInput.js";

export const keysHelp = `solvent keys check --publisher URL [--issuer ID …] [--json]
solvent keys rotate [--publisher URL]

check: fetches the publisher's keys document (SPEC §7) and every issuer's whole
attestation history (or only --issuer ID, repeatable), and verifies that each
attestation's signature recovers to a key the document lists as valid at that
attestation's observedAt, that it matches the signer and digest the publisher
names, and that the hash chain is unbroken. After a key rotation this proves
that every old attestation still verifies. --json prints { valid, verdict,
failures, lines } for scripts. Exit status: 0 all verify, 1 some
do not, 2 unusable input (unreachable publisher, malformed answers).

rotate: prints a new signing key and its address, and the steps to put it in
service. The Worker rotates by itself on its next publish: it closes the old
key's window at that attestation's observedAt and opens the new key there.`;

const PAGE = 100;
const TIMEOUT_MS = 15_000;

/** `solvent keys <check|rotate>`. */
export async function keys(args: string[], io: Output): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "check") return check(rest, io);
  if (sub === "rotate") return rotate(rest, io);
  io.err(`solvent keys: unknown subcommand "${sub ?? ""}"\n\n${keysHelp}`);
  return EXIT_UNUSABLE;
}

function publisherBase(value: string | undefined): string {
  if (value === undefined)
    throw new UsageError("--publisher is required (the publisher's base URL, e.g. https://solvent.example)");
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--publisher "${value.slice(0, 200)}" is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError("--publisher must be an http(s) URL");
  return url.toString().replace(/\/+$/, "");
}

async function fetchJson(url: string, what: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS), headers: { accept: "application/json" } });
  } catch (e) {
    throw new UsageError(`${what}: cannot fetch ${url}: ${(e as Error).message}`);
  }
  if (!res.ok) throw new UsageError(`${what}: ${await publisherProblem(res, url)}`);
  const text = await res.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UsageError(`${what}: ${url} did not answer JSON`);
  }
}

/** Runs a core parser over a publisher answer; a malformed answer is unusable input naming the record. */
async function parsed<T>(what: string, parse: () => T | Promise<T>): Promise<T> {
  try {
    return await parse();
  } catch (e) {
    if (e instanceof SolventError) throw new UsageError(`${what}: ${e.message}`);
    throw e;
  }
}

/** Who a key signs for: attestations (one scope for the whole publisher) or one issuer's receipts (SPEC §7). */
const scopeOf = (k: KeysDocument["keys"][number]) =>
  k.role === "receipts" ? `receipts of ${k.issuer}` : "attestations";

/**
 * Every pair of key windows that overlap within one scope: at any instant at
 * most one key signs attestations, and at most one signs a given issuer's
 * receipts. An attestations key and a receipts key may both be valid.
 */
function overlappingWindows(doc: KeysDocument): string[] {
  const out: string[] = [];
  const end = (u: number | null) => (u === null ? Number.POSITIVE_INFINITY : u);
  doc.keys.forEach((a, i) => {
    doc.keys.forEach((b, j) => {
      if (j <= i || scopeOf(a) !== scopeOf(b)) return;
      if (a.validFrom < end(b.validUntil) && b.validFrom < end(a.validUntil)) {
        out.push(
          `keys[${i}] (${a.address}) and keys[${j}] (${b.address}) both sign ${scopeOf(a)} from ${Math.max(a.validFrom, b.validFrom)}`,
        );
      }
    });
  });
  return out;
}

/** The scopes with more than one key still open (validUntil null). */
function openTwice(doc: KeysDocument): string[] {
  const open = new Map<string, number>();
  for (const k of doc.keys) if (k.validUntil === null) open.set(scopeOf(k), (open.get(scopeOf(k)) ?? 0) + 1);
  return [...open].filter(([, n]) => n > 1).map(([scope]) => scope);
}

interface SignedAnswer {
  attestation: Attestation;
  signature: Hex;
  digest: string;
  signer: string;
}

function signedAnswer(json: unknown, record: string): SignedAnswer {
  if (typeof json !== "object" || json === null) throw new UsageError(`${record}: not an object`);
  const { attestation, signature, digest, signer } = json as Record<string, unknown>;
  if (typeof signature !== "string" || !/^0x[0-9a-fA-F]{130}$/.test(signature))
    throw new UsageError(`${record}.signature: not a 65-byte 0x signature`);
  if (typeof digest !== "string" || typeof signer !== "string")
    throw new UsageError(`${record}: digest and signer must be strings`);
  try {
    return { attestation: attestationFromJson(attestation), signature: signature as Hex, digest, signer };
  } catch (e) {
    if (e instanceof SolventError) throw new UsageError(`${record}: ${e.message}`);
    throw e;
  }
}

/** The issuer's whole history, oldest first, following `nextBefore`. */
async function history(base: string, issuerId: string): Promise<SignedAnswer[]> {
  const out: SignedAnswer[] = [];
  let before: string | null = null;
  for (;;) {
    const url = `${base}/v1/issuers/${encodeURIComponent(issuerId)}/attestations?limit=${PAGE}${before === null ? "" : `&before=${before}`}`;
    const page = (await fetchJson(url, `history of ${issuerId}`)) as { attestations?: unknown; nextBefore?: unknown };
    if (!Array.isArray(page?.attestations))
      throw new UsageError(`history of ${issuerId}: ${url} has no attestations array`);
    const start = out.length;
    page.attestations.forEach((a, i) => {
      out.push(signedAnswer(a, `${issuerId} history item ${start + i}`));
    });
    if (page.nextBefore === null || page.nextBefore === undefined) break;
    if (typeof page.nextBefore !== "string" || !/^[1-9][0-9]*$/.test(page.nextBefore) || page.nextBefore === before) {
      throw new UsageError(
        `history of ${issuerId}: nextBefore ${JSON.stringify(page.nextBefore)} is not a smaller sequence`,
      );
    }
    before = page.nextBefore;
  }
  return out.reverse();
}

async function check(args: string[], io: Output): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: { publisher: { type: "string" }, issuer: { type: "string", multiple: true }, json: { type: "boolean" } },
  });
  if (!values.json) return checkKeys(values, io);
  // --json: the same run, its lines gathered into one object for scripts.
  const lines: string[] = [];
  const code = await checkKeys(values, { out: (l) => lines.push(l), err: io.err });
  const failures = lines.filter((l) => l.startsWith("[FAIL] ")).map((l) => l.slice("[FAIL] ".length));
  io.out(JSON.stringify({ valid: code === EXIT_OK, verdict: lines.at(-1) ?? "", failures, lines }));
  return code;
}

async function checkKeys(values: { publisher?: string; issuer?: string[] }, io: Output): Promise<number> {
  const base = publisherBase(values.publisher);
  const keysDoc = await parsed("keys document", async () =>
    parseKeysDocument(await fetchJson(`${base}/.well-known/solvent/keys.json`, "keys document")),
  );
  io.out(`publisher ${base}: ${keysDoc.keys.length} key(s)`);
  for (const k of keysDoc.keys)
    io.out(
      `  ${k.address} signs ${scopeOf(k)}, valid from ${k.validFrom} ${k.validUntil === null ? "(current)" : `until ${k.validUntil}`}`,
    );
  let failures = 0;
  const fault = (line: string) => {
    failures += 1;
    io.out(`[FAIL] ${line}`);
  };
  for (const overlap of overlappingWindows(keysDoc)) fault(`keys document: ${overlap}`);
  for (const scope of openTwice(keysDoc)) fault(`keys document: more than one key that signs ${scope} is open`);

  let issuerIds = values.issuer ?? [];
  if (issuerIds.length === 0) {
    const list = (await fetchJson(`${base}/v1/issuers`, "issuer list")) as { issuers?: { id?: unknown }[] };
    if (!Array.isArray(list?.issuers) || list.issuers.some((i) => typeof i?.id !== "string"))
      throw new UsageError(`issuer list: ${base}/v1/issuers has no issuers array of { id }`);
    issuerIds = list.issuers.map((i) => i.id as string);
  }
  let total = 0;
  for (const issuerId of issuerIds) {
    const items = await history(base, issuerId);
    total += items.length;
    const signers = new Set<string>();
    let previous: Attestation | null = null;
    for (const item of items) {
      const a = item.attestation;
      const at = `${issuerId} #${a.sequence}`;
      if (a.issuer.toLowerCase() !== issuerKey(issuerId))
        fault(`${at}: attestation.issuer is not keccak256("${issuerId}")`);
      const digest = attestationDigest(a);
      if (item.digest.toLowerCase() !== digest)
        fault(`${at}: the publisher names digest ${item.digest}, the attestation hashes to ${digest}`);
      const verdict = await verifySignedAttestation({ attestation: a, signature: item.signature, keys: keysDoc });
      if (!verdict.ok) fault(`${at}: ${verdict.reasons.join("; ")}`);
      if (verdict.signer) {
        signers.add(verdict.signer.toLowerCase());
        if (verdict.signer.toLowerCase() !== item.signer.toLowerCase())
          fault(`${at}: signed by ${verdict.signer}, but the publisher names ${item.signer}`);
      }
      for (const reason of checkChainLink(previous, a)) fault(`${at}: ${reason}`);
      previous = a;
    }
    io.out(
      `${issuerId}: ${items.length} attestation(s), signed by ${signers.size} key(s)${items.length > 0 ? `, sequences 1..${previous?.sequence}` : ""}`,
    );
  }
  if (failures > 0) {
    io.out(`INVALID: ${failures} problem(s) in ${total} attestation(s) of ${issuerIds.length} issuer(s)`);
    return EXIT_INVALID;
  }
  io.out(
    `VALID: all ${total} attestation(s) of ${issuerIds.length} issuer(s) are signed by a key valid at their observedAt, and every hash chain is intact`,
  );
  return EXIT_OK;
}

async function rotate(args: string[], io: Output): Promise<number> {
  const { values } = parseArgs({ args, strict: true, options: { publisher: { type: "string" } } });
  let current: string | null = null;
  let base: string | undefined;
  if (values.publisher !== undefined) {
    base = publisherBase(values.publisher);
    const doc = await parsed("keys document", async () =>
      parseKeysDocument(await fetchJson(`${base}/.well-known/solvent/keys.json`, "keys document")),
    );
    current = doc.keys.find((k) => k.validUntil === null)?.address ?? null;
  }
  const privateKey = generatePrivateKey();
  const { address } = privateKeyToAccount(privateKey);
  const check = `npx solvent keys check --publisher ${base ?? "https://<your publisher>"}`;
  io.out(`new address:     ${address}`);
  io.out(`new private key: ${privateKey}`);
  if (current !== null)
    io.out(`current key:     ${current} (it will be closed at the first attestation the new key signs)`);
  io.out(`
To rotate:
  1. Keep the new private key offline as well; it is shown only this once.
  2. npx wrangler secret put SIGNING_KEY        (paste the new private key)
  3. Publish (wait for the cron, or POST /v1/admin/issuers/<issuer>/publish). On that
     publish the Worker closes the old key's window at the attestation's observedAt
     and opens ${address} there; keys are never deleted from the keys document.
  4. ${check}
     proves every old attestation still verifies against the key valid at its observedAt.
  5. Retire the old key: never put it back (the Worker refuses a retired key).
If the old key was compromised, also tell relying parties the time from which its
signatures are void: keys.json lists when each key stopped signing.`);
  return EXIT_OK;
}
