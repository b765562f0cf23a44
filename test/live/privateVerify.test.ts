/**
 * Private liabilities end to end (SPEC §11): `demo-private` publishes a
 * private ledger from the real Worker (wrangler dev, the build through its
 * queue, range proofs made on demand by the proof route), and
 * `solvent verify --publisher` accepts a demo user's proof; the same proof,
 * fetched and tampered (a changed sibling commitment, a range proof of another
 * node, a wrong blinding), is refused offline naming the failed check.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bytesToHex } from "../../core/bytes.js";
import { userCommitmentHex } from "../../core/liabilities/commitment.js";
import { pedersen } from "../../core/liabilities/private/index.js";
import type { DemoUser } from "../../scripts/demo/ledger.js";
import type { RunningDemo } from "../../scripts/demo/runDemo.js";
import { type LiveDemo, startLiveDemo } from "../support/liveDemo.js";
import { runCli, verifyFileArgs } from "../support/runCli.js";

const ISSUER = "demo-private";
let live: LiveDemo;
let demo: RunningDemo;
let files: { attestation: string; keys: string; report: string };

beforeAll(async () => {
  live = await startLiveDemo("live-private", { users: 6, privateIssuer: true });
  demo = live.demo;
  const get = async (path: string) => {
    const res = await fetch(`${demo.base}${path}`);
    expect(res.status, `${path}: ${await res.clone().text()}`).toBe(200);
    return new Uint8Array(await res.arrayBuffer());
  };
  const signed = JSON.parse(new TextDecoder().decode(await get(`/v1/issuers/${ISSUER}/attestations/latest`)));
  const write = async (name: string, bytes: Uint8Array) => {
    const path = join(live.dir, name);
    await writeFile(path, bytes);
    return path;
  };
  files = {
    attestation: await write("attestation.json", new TextEncoder().encode(JSON.stringify(signed))),
    keys: await write("keys.json", await get("/.well-known/solvent/keys.json")),
    report: await write("report.json", await get(`/v1/issuers/${ISSUER}/reports/${signed.attestation.sequence}`)),
  };
});

afterAll(async () => {
  await live?.stop();
});

/** The proof route's answer for `user` in the latest attestation. */
async function proofOf(user: DemoUser): Promise<any> {
  const latest = (await (await fetch(`${demo.base}/v1/issuers/${ISSUER}/attestations/latest`)).json()) as {
    attestation: { sequence: string };
  };
  const url = `${demo.base}/v1/issuers/${ISSUER}/proofs/${latest.attestation.sequence}/${userCommitmentHex(user.salt, user.userId)}`;
  const res = await fetch(url);
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
}

/** `solvent verify` of a (tampered) proof of `user` against the fetched attestation, keys and report. */
async function verifyFile(user: DemoUser, proof: unknown, name: string) {
  const path = join(live.dir, `${name}.proof.json`);
  await writeFile(path, JSON.stringify(proof));
  return runCli(...verifyFileArgs(path, user, files));
}

describe("demo-private: solvent verify against the live publisher", () => {
  it("accepts a demo user's private proof, saying which facts it checked and that no other balance was revealed", async () => {
    const user = demo.privateUsers[0]!;
    const { code, stdout } = await runCli(
      "verify",
      "--publisher",
      demo.base,
      "--issuer",
      ISSUER,
      "--user",
      user.userId,
      "--salt",
      user.salt,
    );
    expect(code, stdout).toBe(0);
    for (const line of [
      "[PASS] Open your leaf and re-compute its path to the root",
      "[PASS] Open each root commitment to its published total",
      "[PASS] Check the range proofs of every sibling",
      "[PASS] Match the proof root to the attested liabilitiesRoot",
      "[PASS] Match the proof to the attested report",
    ])
      expect(stdout).toContain(line);
    expect(stdout).toMatch(/\[NOTE\] What this proof revealed: .*no other user's balance and no partial sum/);
    expect(stdout.trim().split("\n").at(-1)).toMatch(/^VALID: your balances \(.* USD, .* ETH\) are included/);
    // The proof holds this user's values and, for every other node, a hash and commitments only.
    const proof = await proofOf(user);
    expect(proof.scheme).toBe("pedersen-ristretto255-v2");
    for (const node of proof.path) expect(Object.keys(node).sort()).toEqual(["commitments", "hash"]);
  });

  it("refuses the live proof with a changed sibling commitment, a range proof of another node, or a wrong blinding", async () => {
    const user = demo.privateUsers[0]!;
    const proof = await proofOf(user);

    const changed = structuredClone(proof);
    changed.path[0].commitments[0] = bytesToHex(pedersen(1n, 1n).toBytes());
    const c = await verifyFile(user, changed, "changed-sibling");
    expect(c.code, c.stdout).toBe(1);
    expect(c.stdout).toMatch(/\[FAIL\] Open your leaf and re-compute its path to the root: root: /);

    // Another leaf's proof whose first range proof covers other commitments (siblings differ below their meeting level).
    let foreignProof: any = null;
    for (const candidate of demo.privateUsers.slice(1)) {
      const p = await proofOf(candidate);
      if ((p.leafIndex ^ proof.leafIndex) > 1) {
        foreignProof = p;
        break;
      }
    }
    expect(foreignProof, "a demo-private user two or more leaves away").not.toBeNull();
    const foreign = {
      ...structuredClone(proof),
      rangeProofs: [foreignProof.rangeProofs[0], ...proof.rangeProofs.slice(1)],
    };
    const f = await verifyFile(user, foreign, "foreign-range-proof");
    expect(f.code, f.stdout).toBe(1);
    expect(f.stdout).toMatch(/\[FAIL\] Check the range proofs of every sibling: rangeProofs\[0\]: does not prove/);

    const blinded = structuredClone(proof);
    blinded.blindings[0] = bytesToHex(new Uint8Array(32).fill(1));
    const b = await verifyFile(user, blinded, "wrong-blinding");
    expect(b.code, b.stdout).toBe(1);
    expect(b.stdout).toMatch(/\[FAIL\] Open your leaf and re-compute its path to the root/);

    // The untouched proof passes the same offline check, so each refusal is the tamper's.
    const ok = await verifyFile(user, proof, "untouched");
    expect(ok.code, ok.stdout).toBe(0);
  });
});
