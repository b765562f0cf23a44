import { hashTypedData, keccak256, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { keyValidAt, keyValidFor, parseKeysDocument } from "../../core/keysDocument.js";
import {
  type BalanceReceipt,
  parseReceipt,
  receiptAssetsHash,
  receiptDigest,
  signReceipt,
  verifyReceipt,
} from "../../core/receipt.js";
import { SECP256K1_N } from "../../core/signature.js";

const RECEIPTS = privateKeyToAccount("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
const PUBLISHER = privateKeyToAccount("0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a");
const C = `0x${"ab".repeat(32)}` as const;

const receipt: BalanceReceipt = {
  issuer: "acme",
  commitment: C,
  assets: ["USDC", "BTC"],
  balances: [1_000_000n, 5n],
  asOf: 1_700_000_000n,
};

function keys(extra: object[] = []) {
  return {
    keys: [
      { address: PUBLISHER.address.toLowerCase(), validFrom: 0, validUntil: null },
      {
        address: RECEIPTS.address.toLowerCase(),
        validFrom: 1_600_000_000,
        validUntil: null,
        role: "receipts",
        issuer: "acme",
      },
      ...extra,
    ],
  };
}

describe("SPEC §12 balance receipts", () => {
  it("hashes the SPEC struct with viem's EIP-712, assets as keccak256 of the ids joined by ','", () => {
    expect(receiptAssetsHash(["USDC", "BTC"])).toBe(keccak256(toHex("USDC,BTC")));
    // Written out from SPEC §12 independently of core/receipt.ts.
    const expected = hashTypedData({
      domain: { name: "Solvent Balance Receipt", version: "1" },
      types: {
        BalanceReceipt: [
          { name: "issuer", type: "bytes32" },
          { name: "commitment", type: "bytes32" },
          { name: "assets", type: "bytes32" },
          { name: "balances", type: "uint256[]" },
          { name: "asOf", type: "uint64" },
        ],
      },
      primaryType: "BalanceReceipt",
      message: {
        issuer: keccak256(toHex("acme")),
        commitment: C,
        assets: keccak256(toHex("USDC,BTC")),
        balances: [1_000_000n, 5n],
        asOf: 1_700_000_000n,
      },
    });
    expect(receiptDigest(receipt)).toBe(expected);
  });

  it("signs, and verifies against a receipts key of that issuer valid at asOf", async () => {
    const signed = await signReceipt(receipt, RECEIPTS);
    expect(signed.receipt).toEqual({
      issuer: "acme",
      commitment: C,
      assets: ["USDC", "BTC"],
      balances: ["1000000", "5"],
      asOf: "1700000000",
    });
    const ok = await verifyReceipt(signed, keys());
    expect(ok.ok).toBe(true);
    if (ok.ok) expect(ok.signer).toBe(RECEIPTS.address);
  });

  it("a key signs only for its role: an attestations key never verifies a receipt, a receipts key never an attestation", async () => {
    const byPublisher = await signReceipt(receipt, PUBLISHER);
    const refused = await verifyReceipt(byPublisher, keys());
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.reason).toMatch(/attestations key, and a key signs only for its role/);
    const doc = parseKeysDocument(keys());
    expect(keyValidAt(doc, RECEIPTS.address, 1_700_000_000)).toBe(false);
    expect(keyValidAt(doc, PUBLISHER.address, 1_700_000_000)).toBe(true);
    expect(keyValidFor(doc, RECEIPTS.address, 1_700_000_000, { role: "receipts", issuer: "acme" })).toBe(true);
    expect(keyValidFor(doc, RECEIPTS.address, 1_700_000_000, { role: "receipts", issuer: "other" })).toBe(false);
    expect(keyValidFor(doc, PUBLISHER.address, 1_700_000_000, { role: "receipts", issuer: "acme" })).toBe(false);
  });

  it("refuses another issuer's receipts key and a key outside its window at asOf", async () => {
    const other = {
      keys: [
        { address: PUBLISHER.address.toLowerCase(), validFrom: 0, validUntil: null },
        { address: RECEIPTS.address.toLowerCase(), validFrom: 0, validUntil: null, role: "receipts", issuer: "beta" },
      ],
    };
    const signed = await signReceipt(receipt, RECEIPTS);
    const wrongIssuer = await verifyReceipt(signed, other);
    expect(!wrongIssuer.ok && wrongIssuer.reason).toMatch(/receipts key of another issuer \(beta\)/);
    const rotated = {
      keys: [
        { address: PUBLISHER.address.toLowerCase(), validFrom: 0, validUntil: null },
        {
          address: RECEIPTS.address.toLowerCase(),
          validFrom: 0,
          validUntil: 1_700_000_000,
          role: "receipts",
          issuer: "acme",
        },
      ],
    };
    const late = await verifyReceipt(signed, rotated);
    expect(!late.ok && late.reason).toMatch(/not valid at the receipt's asOf 1700000000/);
  });

  it("refuses a high-s twin and a tampered balance, naming the signature", async () => {
    const signed = await signReceipt(receipt, RECEIPTS);
    const sig = signed.signature;
    const s = BigInt(`0x${sig.slice(66, 130)}`);
    const v = Number.parseInt(sig.slice(130), 16);
    const twin = `${sig.slice(0, 66)}${(SECP256K1_N - s).toString(16).padStart(64, "0")}${(v === 27 ? 28 : 27).toString(16)}`;
    const high = await verifyReceipt({ ...signed, signature: twin }, keys());
    expect(!high.ok && high.record).toBe("receipt.signature");
    expect(!high.ok && high.reason).toMatch(/high s/);
    const tampered = await verifyReceipt(
      { ...signed, receipt: { ...signed.receipt, balances: ["1000001", "5"] } },
      keys(),
    );
    expect(!tampered.ok && tampered.reason).toMatch(/is not in the keys document/);
  });

  it("parses strictly, naming the field and the reason", () => {
    const good = { issuer: "acme", commitment: C, assets: ["USDC"], balances: ["1"], asOf: "1" };
    expect(parseReceipt(good).balances).toEqual([1n]);
    const cases: [object, RegExp][] = [
      [{ ...good, balances: ["01"] }, /^receipt\.balances\[0\]: must be a decimal integer string/],
      [{ ...good, balances: ["1", "2"] }, /^receipt\.balances: must hold one balance per asset/],
      [{ ...good, balances: [1] }, /^receipt\.balances\[0\]: must be a decimal string/],
      [{ ...good, asOf: (2n ** 64n).toString() }, /^receipt\.asOf: is over the range of a uint64/],
      [
        { ...good, commitment: C.toUpperCase().replace("0X", "0x") },
        /^receipt\.commitment: must be 0x followed by 64 lowercase hex digits/,
      ],
      [{ ...good, assets: ["US,DC"] }, /^receipt\.assets\[0\]: must not contain ","/],
      [{ ...good, assets: ["A", "A"], balances: ["1", "1"] }, /^receipt\.assets: lists an asset twice/],
      [{ ...good, extra: 1 }, /^receipt: has a field SPEC §12 does not define: extra/],
      [{ issuer: "acme", commitment: C, assets: ["USDC"], balances: ["1"] }, /^receipt\.asOf: is missing/],
      [[], /^receipt: must be a JSON object/],
    ];
    for (const [json, message] of cases) expect(() => parseReceipt(json)).toThrow(message);
  });

  it("reads keys documents with roles strictly", () => {
    expect(() =>
      parseKeysDocument({ keys: [{ address: RECEIPTS.address, validFrom: 0, validUntil: null, role: "receipts" }] }),
    ).toThrow(/keys\[0\]\.issuer: is required/);
    expect(() =>
      parseKeysDocument({ keys: [{ address: RECEIPTS.address, validFrom: 0, validUntil: null, role: "minting" }] }),
    ).toThrow(/keys\[0\]\.role: must be "attestations" or "receipts"/);
    expect(() =>
      parseKeysDocument({ keys: [{ address: RECEIPTS.address, validFrom: 0, validUntil: null, issuer: "acme" }] }),
    ).toThrow(/keys\[0\]\.issuer: belongs only to "receipts" keys/);
    // An explicit attestations role reads the same as none.
    expect(
      parseKeysDocument({
        keys: [{ address: PUBLISHER.address, validFrom: 0, validUntil: null, role: "attestations" }],
      }).keys[0],
    ).toEqual({
      address: PUBLISHER.address.toLowerCase(),
      validFrom: 0,
      validUntil: null,
    });
  });
});
