/**
 * `solvent verify` of private proofs (SPEC §11) through the real CLI process:
 * offline from files, and with --publisher against a local HTTP publisher that
 * serves the proof, the signed attestation, its report's exact bytes and the
 * keys document. Tampered proofs exit 1 naming the failed check.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bytesToHex, hexToBytes, utf8 } from "../../core/bytes.js";
import { createKeysDocument } from "../../core/keysDocument.js";
import { userCommitment } from "../../core/liabilities/commitment.js";
import {
  buildPrivateLedger,
  type PrivateInclusionProof,
  type PrivateLedger,
  pedersen,
  privateInclusionProof,
  privateLeafIndex,
  privateNonInclusionProof,
  scalarToHex,
} from "../../core/liabilities/private/index.js";
import { nodeRangeProofs } from "../../scripts/lib/rangeProofs.js";
import { attestLedger } from "../support/ledgerAttestation.js";
import { runCliProcess, verifyFileArgs } from "../support/runCli.js";

const solvent = runCliProcess;
const signer = privateKeyToAccount(`0x${"c4".repeat(32)}`);
const users = Array.from({ length: 6 }, (_, i) => ({
  salt: bytesToHex(new Uint8Array(16).fill(0x21 + i)),
  userId: `private-${i}`,
  balances: [BigInt(i + 1) * 2_500_000n, BigInt(i) * 1_000n],
}));

let dir: string;
let ledger: PrivateLedger;
let proofs: PrivateInclusionProof[];
let files: { attestation: string; keys: string; report: string };
let served: { signed: unknown; report: Uint8Array };
let server: Server;
let base = "";

async function file(name: string, content: string | Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

/** `solvent verify` of user i's proof (or a changed one) with the signed attestation, keys and report files. */
async function verifyOffline(i: number, proof: unknown = proofs[i], ...extra: string[]) {
  const path = await file(`proof-${Math.random().toString(36).slice(2)}.json`, JSON.stringify(proof));
  return solvent(...verifyFileArgs(path, users[i]!, files), ...extra);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "solvent-private-"));
  const engine = await nodeRangeProofs();
  ledger = buildPrivateLedger({
    ledgerId: "lg_cli_private",
    secret: new Uint8Array(32).fill(3),
    assets: [
      { symbol: "USDC", decimals: 6, unitDecimals: 2 },
      { symbol: "ETH", decimals: 18, unitDecimals: 9 },
    ],
    users: users.map((u) => ({
      commitment: userCommitment(hexToBytes(u.salt, "salt"), u.userId),
      balances: [u.balances[0]!, u.balances[1]! * 10n ** 9n],
    })),
  });
  proofs = users.map((u) =>
    privateInclusionProof(
      ledger,
      privateLeafIndex(ledger, userCommitment(hexToBytes(u.salt, "salt"), u.userId)),
      engine,
    ),
  );
  const root = bytesToHex(ledger.root.hash);
  const report = utf8(
    JSON.stringify({
      liabilities: {
        root,
        ledger: {
          id: "lg_cli_private",
          asOf: "1700000000",
          leafCount: String(ledger.levels[0]!.length),
          order: "commitment",
          scheme: "pedersen-ristretto255-v2",
          assets: ["USDC", "ETH"],
          unitDecimals: [2, 9],
          rootCommitments: ledger.root.encoded.map(bytesToHex),
          totals: ledger.totals.map(String),
          totalBlindings: ledger.totalBlindings.map(scalarToHex),
        },
      },
    }),
  );
  const signed = await attestLedger(signer, "acme", root, report);
  const keys = createKeysDocument({ address: signer.address, validFrom: 1_700_000_000 });
  served = { signed, report };
  files = {
    attestation: await file("attestation.json", JSON.stringify(signed)),
    keys: await file("keys.json", JSON.stringify(keys)),
    report: await file("report.json", report),
  };
  server = createServer((req, res) => {
    const url = req.url ?? "";
    const json = (status: number, value: unknown) =>
      res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(value));
    if (url === "/v1/issuers/acme/attestations/latest") return json(200, served.signed);
    if (url === "/.well-known/solvent/keys.json") return json(200, keys);
    if (url === "/v1/issuers/acme/reports/1") return res.writeHead(200).end(Buffer.from(served.report));
    const proof = proofs.find((p) => url.endsWith(`/${bytesToHex(ledger.commitments[p.leafIndex]!)}`));
    if (url.startsWith("/v1/issuers/acme/proofs/1/") && proof) return json(200, proof);
    if (url.startsWith("/v1/issuers/acme/proofs/1/"))
      return json(404, {
        error: {
          code: "NOT_FOUND",
          message: `${url.split("/").at(-1)} is not in the ledger of attestation 1; a private ledger proves absence only to the user it concerns, through the issuer (its neighbours' commitments would open their balances to anyone)`,
        },
      });
    return json(404, { error: { code: "NOT_FOUND", message: `nothing at ${url}` } });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 120_000);
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const lastLine = (stdout: string) => stdout.trim().split("\n").at(-1)!;

describe("solvent verify, private proofs from files", () => {
  it("accepts a genuine proof, printing each fact it checked and that no other balance was revealed", async () => {
    const { code, stdout, stderr } = await verifyOffline(1);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /\[PASS\] Open your leaf and re-compute its path to the root: your balances \(5 USDC, 0\.000001 ETH\)/,
    );
    expect(stdout).toMatch(/\[PASS\] Open each root commitment to its published total: .*52\.5 USDC/);
    expect(stdout).toMatch(/\[PASS\] Check the range proofs of every sibling: .*each of the 6 sibling commitments/);
    expect(stdout).toMatch(/\[PASS\] Match the proof root to the attested liabilitiesRoot/);
    expect(stdout).toMatch(
      /\[PASS\] Match the proof to the attested report: .*root commitments, totals and total blindings/,
    );
    expect(stdout).toMatch(/\[NOTE\] What this proof revealed: .*no other user's balance and no partial sum/);
    expect(lastLine(stdout)).toMatch(/^VALID: your balances \(5 USDC, 0\.000001 ETH\) are included in attestation #1/);
  });

  it("refuses a changed sibling commitment (exit 1), naming the path check", async () => {
    const changed = structuredClone(proofs[0]!);
    changed.path[0]!.commitments[1] = bytesToHex(pedersen(7n, 7n).toBytes());
    const { code, stdout } = await verifyOffline(0, changed);
    expect(code).toBe(1);
    expect(stdout).toMatch(
      /\[FAIL\] Open your leaf and re-compute its path to the root: root: .*sibling commitment was changed/,
    );
    expect(lastLine(stdout)).toMatch(/^INVALID/);
  });

  it("refuses a range proof taken from another leaf's proof (exit 1), naming the range check", async () => {
    const own = proofs[0]!;
    const other = proofs.find((p) => (p.leafIndex ^ own.leafIndex) > 1)!;
    const foreign = { ...own, rangeProofs: [other.rangeProofs[0]!, ...own.rangeProofs.slice(1)] };
    const { code, stdout } = await verifyOffline(0, foreign);
    expect(code).toBe(1);
    expect(stdout).toMatch(/\[PASS\] Open your leaf and re-compute its path to the root/);
    expect(stdout).toMatch(/\[FAIL\] Check the range proofs of every sibling: rangeProofs\[0\]: does not prove/);
    expect(lastLine(stdout)).toMatch(/^INVALID: a range proof does not hold/);
  });

  it("refuses a wrong blinding of the user's own leaf (exit 1), naming the path check", async () => {
    const blinded = structuredClone(proofs[2]!);
    blinded.blindings[0] = scalarToHex(12345n);
    const { code, stdout } = await verifyOffline(2, blinded);
    expect(code).toBe(1);
    expect(stdout).toMatch(/\[FAIL\] Open your leaf and re-compute its path to the root/);
  });

  it("prints the result as JSON with --json, and exits 2 for a private proof it cannot read", async () => {
    const ok = await verifyOffline(3, proofs[3], "--json");
    const parsed = JSON.parse(ok.stdout);
    expect(parsed).toMatchObject({ valid: true, unusable: false, balances: ["10 USDC", "0.000003 ETH"] });
    expect(parsed.steps.map((s: { id: string }) => s.id)).toContain("range");
    const unreadable = await verifyOffline(3, { ...proofs[3]!, blindings: ["0x12"] });
    expect(unreadable.code).toBe(2);
    expect(unreadable.stdout).toMatch(/\[FAIL\] Read the private inclusion proof: blindings: must be an array of 2/);
  });
});

describe("solvent verify, a private proof of absence the issuer handed over", () => {
  const outsider = { salt: bytesToHex(new Uint8Array(16).fill(0x7e)), userId: "left-out" };
  const absence = async () =>
    file(
      `absent-${Math.random().toString(36).slice(2)}.json`,
      JSON.stringify(
        privateNonInclusionProof(ledger, userCommitment(hexToBytes(outsider.salt, "salt"), outsider.userId)),
      ),
    );

  it("checks it offline against the signed attestation and report: provably absent (exit 1)", async () => {
    const { code, stdout } = await solvent(...verifyFileArgs(await absence(), outsider, files));
    expect(code).toBe(1);
    expect(stdout).toMatch(/the proof file says your commitment is not in the snapshot/);
    expect(lastLine(stdout)).toMatch(/provably not in this snapshot/);
  });

  it("says a member's absence proof does not hold (the commitment is a leaf)", async () => {
    const member = users[2]!;
    const { code, stdout } = await solvent(...verifyFileArgs(await absence(), member, files));
    expect(code).toBe(1);
    expect(stdout).toMatch(/\[FAIL\]/);
    expect(lastLine(stdout)).not.toMatch(/provably not in this snapshot/);
  });

  it("with --publisher, a private ledger's bare 404 says to ask the issuer for the proof", async () => {
    const { code, stdout } = await solvent(
      "verify",
      "--publisher",
      base,
      "--issuer",
      "acme",
      "--user",
      outsider.userId,
      "--salt",
      outsider.salt,
    );
    expect(code).toBe(1);
    expect(lastLine(stdout)).toMatch(
      /the ledger is private, so its publisher proves an absence only to the user it concerns: ask the issuer/,
    );
  });
});

describe("solvent verify --publisher, private proofs", () => {
  const verifyLive = (i: number) =>
    solvent("verify", "--publisher", base, "--issuer", "acme", "--user", users[i]!.userId, "--salt", users[i]!.salt);

  it("fetches the proof, attestation, report and keys, and accepts a user's proof", async () => {
    const { code, stdout } = await verifyLive(4);
    expect(code).toBe(0);
    expect(stdout).toMatch(/\[PASS\] Match the proof to the attested report/);
    expect(lastLine(stdout)).toMatch(/^VALID: your balances \(12\.5 USDC, 0\.000004 ETH\)/);
  });

  it("refuses when the publisher's report disagrees with the proof's totals (exit 1)", async () => {
    const honest = served;
    const doc = JSON.parse(new TextDecoder().decode(honest.report));
    doc.liabilities.ledger.totals[0] = String(ledger.totals[0]! + 1n);
    const report = utf8(JSON.stringify(doc));
    served = { report, signed: await attestLedger(signer, "acme", bytesToHex(ledger.root.hash), report) };
    try {
      const { code, stdout } = await verifyLive(4);
      expect(code).toBe(1);
      expect(stdout).toMatch(/\[FAIL\] Match the proof to the attested report: the USDC total is \d+ in the proof/);
    } finally {
      served = honest;
    }
  });
});
