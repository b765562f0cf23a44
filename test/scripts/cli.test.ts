import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256 } from "@noble/hashes/sha2.js";
import { beforeAll, describe, expect, it } from "vitest";
import { runCliProcess } from "../support/runCli.js";

const V = "docs/test-vectors/cli";
const solvent = runCliProcess;

let user: { userId: string; salt: string };
let tmp: string;
beforeAll(async () => {
  user = JSON.parse(await readFile(join(V, "user.json"), "utf8"));
  tmp = await mkdtemp(join(tmpdir(), "solvent-cli-"));
});

async function tampered(file: string, edit: (doc: any) => void): Promise<string> {
  const doc = JSON.parse(await readFile(join(V, file), "utf8"));
  edit(doc);
  const path = join(tmp, `${Math.random().toString(36).slice(2)}-${file}`);
  await writeFile(path, JSON.stringify(doc));
  return path;
}

const full = (
  proof = join(V, "proof.json"),
  attestation = join(V, "attestation.json"),
  keys = join(V, "keys.json"),
) => [
  "verify",
  "--proof",
  proof,
  "--user",
  user.userId,
  "--salt",
  user.salt,
  "--attestation",
  attestation,
  "--keys",
  keys,
];

describe("solvent commit", () => {
  it("prints the SPEC §2 commitment of the given salt", async () => {
    const { code, stdout } = await solvent("commit", "--user", "alice", "--salt", "0x000102030405060708090a0b0c0d0e0f");
    expect(code).toBe(0);
    const salt = Uint8Array.from({ length: 16 }, (_, i) => i);
    const expected = sha256(new Uint8Array([2, ...salt, ...new TextEncoder().encode("alice")]));
    expect(stdout).toContain(`commitment: 0x${Buffer.from(expected).toString("hex")}`);
  });

  it("prints one JSON object with --json", async () => {
    const { code, stdout } = await solvent(
      "commit",
      "--user",
      "alice",
      "--salt",
      "0x000102030405060708090a0b0c0d0e0f",
      "--json",
    );
    expect(code).toBe(0);
    const salt = Uint8Array.from({ length: 16 }, (_, i) => i);
    const expected = sha256(new Uint8Array([2, ...salt, ...new TextEncoder().encode("alice")]));
    expect(JSON.parse(stdout)).toEqual({
      userId: "alice",
      salt: "0x000102030405060708090a0b0c0d0e0f",
      commitment: `0x${Buffer.from(expected).toString("hex")}`,
    });
  });

  it("makes a fresh 16-byte salt when none is given", async () => {
    const a = await solvent("commit", "--user", "alice");
    const b = await solvent("commit", "--user", "alice");
    expect(a.stdout).toMatch(/salt: +0x[0-9a-f]{32}\n/);
    expect(a.stdout).not.toBe(b.stdout);
  });

  it("refuses a salt of the wrong size with exit 2", async () => {
    const { code, stderr } = await solvent("commit", "--user", "alice", "--salt", "0x0102");
    expect(code).toBe(2);
    expect(stderr).toMatch(/salt/);
  });
});

describe("solvent verify", () => {
  it("accepts the vector proof tied to its signed attestation", async () => {
    const { code, stdout } = await solvent(...full());
    expect(code).toBe(0);
    expect(stdout).toMatch(/\[PASS\] Check the inclusion proof/);
    expect(stdout).toMatch(/\[PASS\] Check the publisher's signature/);
    expect(stdout).toMatch(/\[PASS\] Match the proof root/);
    expect(stdout.trim().split("\n").at(-1)).toMatch(/^VALID: your balances are included in attestation #3/);
  });

  it("accepts the proof alone, saying it is not tied to an attestation", async () => {
    const { code, stdout } = await solvent(
      "verify",
      "--proof",
      join(V, "proof.json"),
      "--user",
      user.userId,
      "--salt",
      user.salt,
    );
    expect(code).toBe(0);
    expect(stdout).toMatch(/VALID PROOF \(not tied to a signed attestation/);
  });

  it("rejects a tampered balance with the reason, exit 1", async () => {
    const proof = await tampered("proof.json", (p) => (p.balances[0] = (BigInt(p.balances[0]) + 1n).toString()));
    const { code, stdout } = await solvent(...full(proof));
    expect(code).toBe(1);
    expect(stdout).toMatch(/\[FAIL\] Check the inclusion proof: .*root/i);
    expect(stdout.trim().split("\n").at(-1)).toMatch(/^INVALID/);
  });

  it("rejects another user's id (wrong commitment), exit 1", async () => {
    const { code, stdout } = await solvent(
      "verify",
      "--proof",
      join(V, "proof.json"),
      "--user",
      "mallory",
      "--salt",
      user.salt,
    );
    expect(code).toBe(1);
    expect(stdout).toMatch(/\[FAIL\] Check the inclusion proof/);
  });

  it("rejects an attestation whose signed fields were altered", async () => {
    const att = await tampered("attestation.json", (a) => (a.attestation.liabilitiesUsd = "1"));
    const { code, stdout } = await solvent(...full(undefined, att));
    expect(code).toBe(1);
    expect(stdout).toMatch(/\[FAIL\] Check the publisher's signature/);
  });

  it("rejects a signer that the keys document does not list at observedAt", async () => {
    const keys = await tampered("keys.json", (k) => (k.keys[0].validFrom = 2_000_000_000));
    const { code, stdout } = await solvent(...full(undefined, undefined, keys));
    expect(code).toBe(1);
    expect(stdout).toMatch(/\[FAIL\] Check the publisher's signature/);
  });

  it("rejects a proof whose root is not the attested liabilitiesRoot", async () => {
    const att = await tampered("attestation.json", (a) => (a.attestation.liabilitiesRoot = `0x${"ab".repeat(32)}`));
    const { stdout } = await solvent(...full(undefined, att));
    // the signature no longer matches either; the root check must still say why it failed
    expect(stdout).toMatch(/\[FAIL\] Match the proof root to the attested liabilitiesRoot/);
  });

  it("answers unusable input with exit 2 and the reason", async () => {
    const missing = await solvent("verify", "--proof", join(tmp, "nope.json"), "--user", "u", "--salt", user.salt);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--proof: cannot read .*ENOENT/);
    const notHex = await solvent("verify", "--proof", join(V, "proof.json"), "--user", "u", "--salt", "zz");
    expect(notHex.code).toBe(2);
    expect(notHex.stdout).toMatch(/salt/);
    const noUser = await solvent("verify", "--proof", join(V, "proof.json"), "--salt", user.salt);
    expect(noUser.code).toBe(2);
    expect(noUser.stderr).toMatch(/--user is required/);
    const junk = await tampered("keys.json", () => undefined);
    await writeFile(junk, "{not json");
    const badJson = await solvent(...full(undefined, undefined, junk));
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toMatch(/--keys: .* is not JSON/);
  });
});

describe("solvent keygen", () => {
  it("prints a key and the address it controls", async () => {
    const { code, stdout } = await solvent("keygen");
    expect(code).toBe(0);
    const key = /private key: (0x[0-9a-f]{64})/.exec(stdout)?.[1];
    const address = /address: +(0x[0-9a-fA-F]{40})/.exec(stdout)?.[1];
    const { privateKeyToAccount } = await import("viem/accounts");
    expect(privateKeyToAccount(key as `0x${string}`).address).toBe(address);
  });
});
