/**
 * `solvent verify --publisher` against a local HTTP publisher whose proof route
 * answers 404 with a SPEC §2.1 non-inclusion proof (docs/spec.md): the CLI
 * checks it against the signed attestation and the report's exact bytes.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hexToBytes, utf8 } from "../../core/bytes.js";
import { createKeysDocument } from "../../core/keysDocument.js";
import {
  buildLiabilityTree,
  buildNonInclusionProof,
  compareCommitments,
  userCommitment,
} from "../../core/liabilities/index.js";
import { main } from "../../scripts/cli/main.js";
import { attestLedger } from "../support/ledgerAttestation.js";

const signer = privateKeyToAccount(`0x${"c3".repeat(32)}`);
const salt = `0x${"5a".repeat(16)}`;
const saltOf = (i: number) => new Uint8Array(16).fill(i + 1);
let served: { report: Uint8Array; body: unknown; signed: unknown };
let base = "";
let server: Server;

async function publisher(order: "commitment" | undefined, leafCount = 6) {
  const rows = Array.from({ length: 6 }, (_, i) => ({
    commitment: userCommitment(saltOf(i), `u${i}`),
    balances: [BigInt(i + 1)],
  })).sort((a, b) => compareCommitments(a.commitment, b.commitment));
  const tree = buildLiabilityTree({ assets: ["USD"], rows });
  const report = utf8(
    JSON.stringify({
      liabilities: {
        root: tree.root,
        ledger: { id: "L", asOf: "1700000000", leafCount: String(leafCount), order, scheme: "sum-sha256-v1" },
      },
    }),
  );
  const proof = buildNonInclusionProof(tree, userCommitment(hexToBytes(salt, "salt"), "mallory"));
  served = {
    report,
    signed: await attestLedger(signer, "acme", tree.root, report),
    body: { error: { code: "NOT_FOUND", message: "absent" }, nonInclusion: proof },
  };
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = req.url ?? "";
    const json = (status: number, value: unknown) =>
      res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(value));
    if (url === "/v1/issuers/acme/attestations/latest") return json(200, served.signed);
    if (url === "/.well-known/solvent/keys.json")
      return json(200, createKeysDocument({ address: signer.address, validFrom: 1_700_000_000 }));
    if (url === "/v1/issuers/acme/reports/1") return res.writeHead(200).end(Buffer.from(served.report));
    if (url.startsWith("/v1/issuers/acme/proofs/1/")) return json(404, served.body);
    return json(404, { error: { code: "NOT_FOUND", message: url } });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

async function verify(userId = "mallory", ...extra: string[]) {
  const out: string[] = [];
  const exit = await main(
    ["verify", "--publisher", base, "--issuer", "acme", "--user", userId, "--salt", salt, ...extra],
    { out: (l) => out.push(l), err: (l) => out.push(l) },
  );
  return { exit, stdout: out.join("\n") };
}

describe("solvent verify --publisher, commitment absent", () => {
  it("checks the publisher's non-inclusion proof and says the commitment is provably not in the snapshot (exit 1)", async () => {
    await publisher("commitment");
    const { exit, stdout } = await verify();
    expect(exit).toBe(1);
    expect(stdout).toMatch(/\[PASS\] Check the non-inclusion proof/);
    expect(stdout).toMatch(/\[PASS\] Match the proof to the attested report: ledger L .*6 leaves in commitment order/);
    expect(stdout.split("\n").at(-1)).toMatch(
      /^NOT INCLUDED, PROVEN: your commitment is provably not in this snapshot \(attestation #1/,
    );
  });

  it("passes the publisher's words through and gives scripts one object with --json (exit 1)", async () => {
    await publisher("commitment");
    expect((await verify()).stdout).toMatch(
      /\[NOTE\] Ask the publisher for your proof: the publisher says: absent \(NOT_FOUND, HTTP 404\), with a proof of that absence; .*check the user id and the salt/,
    );
    const { exit, stdout } = await verify("mallory", "--json");
    expect(exit).toBe(1);
    const json = JSON.parse(stdout) as {
      valid: boolean;
      unusable: boolean;
      included: boolean;
      absenceProven: boolean;
      verdict: string;
      steps: { id: string; status: string }[];
    };
    expect(json).toMatchObject({ valid: false, unusable: false, included: false, absenceProven: true });
    expect(json.verdict).toMatch(/^NOT INCLUDED, PROVEN: /);
    expect(json.steps.map((s) => `${s.id}:${s.status}`)).toEqual([
      "publisher:note",
      "commitment:pass",
      "proof:pass",
      "attestation:pass",
      "signature:pass",
      "root:pass",
      "report:pass",
      "freshness:note",
    ]);
    await publisher("commitment", 7);
    expect(JSON.parse((await verify("mallory", "--json")).stdout)).toMatchObject({
      valid: false,
      unusable: false,
      included: false,
      absenceProven: false,
    });
  });

  it("refuses the absence when the report is not in commitment order, states another leaf count, or the proof is someone else's", async () => {
    await publisher(undefined);
    expect((await verify()).stdout).toMatch(/\[FAIL\] Match the proof to the attested report: .*random order/);
    await publisher("commitment", 7);
    expect((await verify()).stdout).toMatch(/report says 7 leaves, the proof 6/);
    await publisher("commitment");
    const other = await verify("oscar");
    expect(other.exit).toBe(1);
    expect(other.stdout).toMatch(/\[FAIL\] Check the non-inclusion proof: commitment: the proof is about/);
    expect(other.stdout.split("\n").at(-1)).toMatch(/does not hold/);
  });

  it("says a bare 404 cannot prove absence (ledgers from before commitment order)", async () => {
    await publisher("commitment");
    served.body = { error: { code: "NOT_FOUND", message: "absent" } };
    const { exit, stdout } = await verify();
    expect(exit).toBe(1);
    expect(stdout).toMatch(/cannot prove the absence/);
  });
});
