import { env as workersEnv } from "cloudflare:workers";
import { privateKeyToAccount } from "viem/accounts";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { parseConfig } from "../../core/config/parseConfig.js";
import { parseKeysDocument } from "../../core/keysDocument.js";
import { publishedKeysDocument } from "../../worker/disputes/receiptKeys.js";
import type { Env } from "../../worker/env.js";
import { ensureSigningKey } from "../../worker/storage/signingKeys.js";

const env = workersEnv as unknown as Env;

const usd = { id: "USD", decimals: 6, pegCurrency: true, prices: [{ kind: "fixed", priceUsd: "1000000000000000000" }] };
const signer = privateKeyToAccount(`0x${"44".repeat(32)}`).address.toLowerCase();
const first = privateKeyToAccount(`0x${"45".repeat(32)}`).address.toLowerCase();
const second = privateKeyToAccount(`0x${"46".repeat(32)}`).address.toLowerCase();

type Key = { address: string; validFrom: number; validUntil?: number | null };
// D1 is shared by the tests of this file and receipts keys can never be deleted, so each test has its own issuers.
let run = 0;
let ids: string[] = [];
const configWith = (acme: Key[], beta: Key[] = []) =>
  parseConfig({
    version: 1,
    issuers: [
      {
        id: ids[0],
        name: "Acme",
        assets: [usd],
        liabilities: { ledger: { assets: ["USD"], receiptKeys: acme } },
        reserves: {},
      },
      {
        id: ids[1],
        name: "Beta",
        assets: [usd],
        liabilities: { ledger: { assets: ["USD"], receiptKeys: beta } },
        reserves: {},
      },
    ],
  });

const receipts = async (config: ReturnType<typeof configWith>, now: number) => {
  const doc = await publishedKeysDocument(env.DB, config, now);
  // What is published is a valid SPEC §7 document.
  parseKeysDocument(JSON.parse(JSON.stringify(doc)));
  return doc.keys
    .filter((k) => k.role === "receipts" && ids.includes(k.issuer!))
    .map((k) => [k.issuer === ids[0] ? "acme" : "beta", k.address, k.validFrom, k.validUntil]);
};

describe("receipts keys are recorded in D1 and never leave the keys document (SPEC §7)", () => {
  beforeEach(async () => {
    run++;
    ids = [`acme${run}`, `beta${run}`];
    await ensureSigningKey(env.DB, signer, 1_000);
  });

  it("keeps a key taken out of the configuration, closed at the time the publisher first ran without it", async () => {
    expect(await receipts(configWith([{ address: first, validFrom: 1_000 }]), 2_000)).toEqual([
      ["acme", first, 1_000, null],
    ]);
    // The operator replaces the key in the configuration and forgets to keep the old entry.
    expect(await receipts(configWith([{ address: second, validFrom: 5_000 }]), 5_000)).toEqual([
      ["acme", first, 1_000, 5_000],
      ["acme", second, 5_000, null],
    ]);
    // Later runs change nothing: the closed window stays where it was closed.
    expect(await receipts(configWith([{ address: second, validFrom: 5_000 }]), 9_000)).toEqual([
      ["acme", first, 1_000, 5_000],
      ["acme", second, 5_000, null],
    ]);
  });

  it("closes an open window once from the configuration, and never moves a published one", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    await receipts(configWith([{ address: first, validFrom: 1_000 }]), 2_000);
    expect(await receipts(configWith([{ address: first, validFrom: 1_000, validUntil: 3_000 }]), 4_000)).toEqual([
      ["acme", first, 1_000, 3_000],
    ]);
    // Reopening it or moving its start in the configuration is ignored, and said.
    expect(await receipts(configWith([{ address: first, validFrom: 500, validUntil: null }]), 6_000)).toEqual([
      ["acme", first, 1_000, 3_000],
    ]);
    expect(warn.mock.calls.map((c) => String(c[0]))).toEqual([
      expect.stringMatching(/issuers\.acme\d\.liabilities\.ledger\.receiptKeys\[0\].*a published window never moves/),
    ]);
    warn.mockRestore();
  });

  it("refuses a receipts key that signs attestations, naming the entry", async () => {
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    expect(
      await receipts(
        configWith([{ address: first, validFrom: 1_000 }], [{ address: signer, validFrom: 1_000 }]),
        2_000,
      ),
    ).toEqual([["acme", first, 1_000, null]]);
    expect(error.mock.calls.map((c) => String(c[0]))).toEqual([
      expect.stringMatching(/issuers\.beta\d\.liabilities\.ledger\.receiptKeys\[0\]: .* signs attestations/),
    ]);
    error.mockRestore();
  });

  it("D1 itself refuses deleting a receipts key or reopening a closed one", async () => {
    await receipts(configWith([{ address: first, validFrom: 1_000, validUntil: 3_000 }]), 2_000);
    await expect(env.DB.prepare("DELETE FROM receipt_keys").run()).rejects.toThrow(/never deleted/);
    await expect(env.DB.prepare("UPDATE receipt_keys SET valid_until = NULL").run()).rejects.toThrow(
      /only ever has its open window closed/,
    );
  });

  it("a key removed before its window began keeps a window of one second, so the document stays valid", async () => {
    await receipts(configWith([{ address: first, validFrom: 8_000 }]), 2_000);
    expect(await receipts(configWith([]), 3_000)).toEqual([["acme", first, 8_000, 8_001]]);
  });
});
