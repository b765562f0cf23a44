/**
 * `solvent keys check` against a real local HTTP server serving a keys
 * document and an attestation history signed by two keys across a rotation,
 * and `solvent keys rotate`.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { keccak256 } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Attestation,
  attestationDigest,
  attestationToJson,
  issuerKey,
  nextAttestation,
  signAttestation,
} from "../../core/attestation.js";
import { utf8 } from "../../core/bytes.js";
import { createKeysDocument, type KeysDocument, rotateKey } from "../../core/keysDocument.js";
import { main } from "../../scripts/cli/main.js";

const oldKey = privateKeyToAccount(`0x${"a1".repeat(32)}`);
const newKey = privateKeyToAccount(`0x${"b2".repeat(32)}`);
const receiptsKey = privateKeyToAccount(`0x${"c3".repeat(32)}`);
const ROTATED_AT = 1_700_000_300;

interface Signed {
  attestation: Record<string, string>;
  signature: string;
  digest: string;
  signer: string;
}

/** What the fake publisher serves; tests swap parts of it. */
let served: { keys: unknown; issuers: Record<string, Signed[]>; raw?: Record<string, string> };
let base = "";
let server: Server;

async function history(issuerId: string, times: number[]): Promise<Signed[]> {
  const out: Signed[] = [];
  let previous: Attestation | null = null;
  for (const t of times) {
    const attestation: Attestation = nextAttestation(previous, {
      issuer: issuerKey(issuerId),
      observedAt: BigInt(t),
      validUntil: BigInt(t + 3600),
      reservesUsd: 10n ** 24n,
      onchainReservesUsd: 10n ** 24n,
      offchainReservesUsd: 0n,
      liabilitiesUsd: 9n * 10n ** 23n,
      ratioBps: 11111,
      reservesRoot: keccak256(utf8(`reserves ${t}`)),
      liabilitiesRoot: `0x${"00".repeat(32)}`,
      flags: 0n,
      reportHash: keccak256(utf8(`report ${t}`)),
    });
    const account = t < ROTATED_AT ? oldKey : newKey;
    out.push({
      attestation: attestationToJson(attestation),
      signature: await signAttestation(attestation, account),
      digest: attestationDigest(attestation),
      signer: account.address.toLowerCase(),
    });
    previous = attestation;
  }
  return out;
}

const rotatedKeys = (): KeysDocument =>
  rotateKey(createKeysDocument({ address: oldKey.address, validFrom: 1_700_000_000 }), {
    newAddress: newKey.address,
    at: ROTATED_AT,
  });

async function healthyPublisher() {
  served = {
    keys: rotatedKeys(),
    issuers: {
      acme: await history("acme", [1_700_000_000, 1_700_000_100, 1_700_000_200, 1_700_000_300, 1_700_000_400]),
      beta: await history("beta", [1_700_000_050, 1_700_000_350]),
    },
  };
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(typeof body === "string" ? body : JSON.stringify(body));
    };
    const raw = served.raw?.[url.pathname];
    if (raw !== undefined) return send(200, raw);
    if (url.pathname === "/.well-known/solvent/keys.json") return send(200, served.keys);
    if (url.pathname === "/v1/issuers")
      return send(200, { issuers: Object.keys(served.issuers).map((id) => ({ id })) });
    const m = /^\/v1\/issuers\/([^/]+)\/attestations$/.exec(url.pathname);
    const items = m ? served.issuers[decodeURIComponent(m[1]!)] : undefined;
    if (!items) return send(404, { error: { code: "UNKNOWN_ISSUER", message: "no" } });
    // Pages of two, newest first, whatever `limit` asks: the CLI must follow nextBefore.
    const before = Number(url.searchParams.get("before") ?? Number.MAX_SAFE_INTEGER);
    const older = items.filter((s) => Number(s.attestation.sequence) < before).reverse();
    const page = older.slice(0, 2);
    const nextBefore = older.length > 2 ? page.at(-1)!.attestation.sequence : null;
    return send(200, { issuer: m![1], attestations: page, nextBefore });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function solvent(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const exit = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { exit, stdout: out.join("\n"), stderr: err.join("\n") };
}

describe("solvent keys check", () => {
  it("verifies every attestation across a rotation against the key valid at its observedAt", async () => {
    await healthyPublisher();
    const { exit, stdout } = await solvent("keys", "check", "--publisher", base);
    expect(exit, stdout).toBe(0);
    expect(stdout).toContain("acme: 5 attestation(s), signed by 2 key(s), sequences 1..5");
    expect(stdout).toContain("beta: 2 attestation(s), signed by 2 key(s)");
    expect(stdout).toContain(
      `${oldKey.address.toLowerCase()} signs attestations, valid from 1700000000 until ${ROTATED_AT}`,
    );
    expect(stdout).toContain("VALID: all 7 attestation(s) of 2 issuer(s)");
  });

  it("checks only the issuers named", async () => {
    await healthyPublisher();
    const { exit, stdout } = await solvent("keys", "check", "--publisher", `${base}/`, "--issuer", "beta");
    expect(exit).toBe(0);
    expect(stdout).not.toContain("acme:");
    expect(stdout).toContain("VALID: all 2 attestation(s) of 1 issuer(s)");
  });

  it("fails when a rotation deleted the old key: the old attestations no longer verify", async () => {
    await healthyPublisher();
    served.keys = { keys: [{ address: newKey.address.toLowerCase(), validFrom: ROTATED_AT, validUntil: null }] };
    const { exit, stdout } = await solvent("keys", "check", "--publisher", base, "--issuer", "acme");
    expect(exit).toBe(1);
    for (const n of [1, 2, 3])
      expect(stdout).toMatch(
        new RegExp(`\\[FAIL\\] acme #${n}: signer 0x[0-9a-fA-F]{40} is not a key valid at observedAt`),
      );
    expect(stdout).not.toContain("acme #4:");
    expect(stdout).toContain("INVALID: 3 problem(s)");
  });

  it("fails when the old key signs after it was rotated out", async () => {
    await healthyPublisher();
    const acme = served.issuers.acme!;
    const late = (
      await history("acme", [1_700_000_000, 1_700_000_100, 1_700_000_200, 1_700_000_300, 1_700_000_400])
    )[4]!;
    // Re-sign sequence 5 with the retired key.
    const { attestationFromJson } = await import("../../core/attestation.js");
    acme[4] = {
      ...late,
      signature: await signAttestation(attestationFromJson(late.attestation), oldKey),
      signer: oldKey.address.toLowerCase(),
    };
    const { exit, stdout } = await solvent("keys", "check", "--publisher", base, "--issuer", "acme");
    expect(exit).toBe(1);
    expect(stdout).toContain("[FAIL] acme #5: signer");
  });

  it("fails on overlapping key windows and on a forked chain", async () => {
    await healthyPublisher();
    served.keys = {
      keys: [
        { address: oldKey.address.toLowerCase(), validFrom: 1_700_000_000, validUntil: null },
        { address: newKey.address.toLowerCase(), validFrom: ROTATED_AT, validUntil: null },
      ],
    };
    served.issuers.beta = [served.issuers.beta![0]!, (await history("beta", [1_700_000_010, 1_700_000_350]))[1]!];
    const { exit, stdout } = await solvent("keys", "check", "--publisher", base);
    expect(exit).toBe(1);
    expect(stdout).toContain("[FAIL] keys document: keys[0]");
    expect(stdout).toContain("[FAIL] keys document: more than one key that signs attestations is open");
    expect(stdout).toMatch(/\[FAIL\] beta #2: previous 0x[0-9a-f]{64} is not the digest/);
  });

  it("lets a receipts key be valid beside the attestations key, but not two receipts keys of one issuer", async () => {
    await healthyPublisher();
    const attestationKeys = rotatedKeys().keys;
    served.keys = {
      keys: [
        ...attestationKeys,
        {
          address: receiptsKey.address.toLowerCase(),
          validFrom: 0,
          validUntil: null,
          role: "receipts",
          issuer: "acme",
        },
      ],
    };
    let result = await solvent("keys", "check", "--publisher", base);
    expect(result.exit, result.stdout).toBe(0);
    expect(result.stdout).toContain(
      `${receiptsKey.address.toLowerCase()} signs receipts of acme, valid from 0 (current)`,
    );

    served.keys = {
      keys: [
        ...attestationKeys,
        {
          address: receiptsKey.address.toLowerCase(),
          validFrom: 0,
          validUntil: null,
          role: "receipts",
          issuer: "acme",
        },
        { address: newKey.address.toLowerCase(), validFrom: 5, validUntil: null, role: "receipts", issuer: "acme" },
      ],
    };
    result = await solvent("keys", "check", "--publisher", base);
    expect(result.exit).toBe(1);
    expect(result.stdout).toContain("both sign receipts of acme from 5");
    expect(result.stdout).toContain("[FAIL] keys document: more than one key that signs receipts of acme is open");
  });

  it("exits 2 naming the record when the publisher's answers are malformed", async () => {
    await healthyPublisher();
    served.raw = { "/.well-known/solvent/keys.json": '{"keys":[{"address":"0x12","validFrom":1,"validUntil":null}]}' };
    let result = await solvent("keys", "check", "--publisher", base);
    expect(result.exit).toBe(2);
    expect(result.stderr).toContain("keys document: keys[0].address");
    served.raw = {
      "/v1/issuers/acme/attestations":
        '{"attestations":[{"attestation":{"sequence":"01"},"signature":"0x"}],"nextBefore":null}',
    };
    result = await solvent("keys", "check", "--publisher", base, "--issuer", "acme");
    expect(result.exit).toBe(2);
    expect(result.stderr).toContain("signature");
    served.raw = { "/v1/issuers": "<html>" };
    result = await solvent("keys", "check", "--publisher", base);
    expect(result.exit).toBe(2);
    expect(result.stderr).toContain("did not answer JSON");
    delete served.raw;
  });
});

describe("solvent keys rotate", () => {
  it("prints a fresh key, the current one, and the wrangler procedure", async () => {
    await healthyPublisher();
    const { exit, stdout } = await solvent("keys", "rotate", "--publisher", base);
    expect(exit).toBe(0);
    const key = /new private key: (0x[0-9a-f]{64})/.exec(stdout)?.[1];
    const address = /new address: +(0x[0-9a-fA-F]{40})/.exec(stdout)?.[1];
    expect(privateKeyToAccount(key as `0x${string}`).address).toBe(address);
    expect(stdout).toContain(`current key:     ${newKey.address.toLowerCase()}`);
    expect(stdout).toContain("npx wrangler secret put SIGNING_KEY");
    expect(stdout).toContain(`npx solvent keys check --publisher ${base}`);
    const again = await solvent("keys", "rotate");
    expect(again.stdout).not.toContain(key!);
  });
});
