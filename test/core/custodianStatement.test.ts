import { concat, encodeAbiParameters, keccak256, recoverAddress, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import {
  type CustodianStatement,
  checkCustodianStatement,
  custodianStatementDigest,
  custodianStatementToJson,
  parseCustodianStatement,
  recoverCustodianStatementSigner,
  signCustodianStatement,
} from "../../core/custodianStatement.js";
import { SolventError } from "../../core/errors.js";
import { highSTwin } from "../support/highS.js";

const custodianKey = privateKeyToAccount("0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a");
const CUSTODIAN_ADDR = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const stranger = privateKeyToAccount("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");

const statementJson = {
  issuer: "acme-usd",
  custodian: "acme-trust",
  account: "operating-1",
  asset: "USD",
  amount: "50000000000000000000000",
  asOf: "1700000000",
  nonce: "7",
};
const statement = parseCustodianStatement(statementJson);

function handDigest(s: CustodianStatement): `0x${string}` {
  const typeHash = keccak256(
    toHex(
      "CustodianStatement(bytes32 issuer,bytes32 custodian,bytes32 account,bytes32 asset,uint256 amount,uint64 asOf,uint64 nonce)",
    ),
  );
  const id = (text: string) => keccak256(toHex(text));
  const structHash = keccak256(
    encodeAbiParameters(
      [
        { type: "bytes32" },
        { type: "bytes32" },
        { type: "bytes32" },
        { type: "bytes32" },
        { type: "bytes32" },
        { type: "uint256" },
        { type: "uint64" },
        { type: "uint64" },
      ],
      [typeHash, id(s.issuer), id(s.custodian), id(s.account), id(s.asset), s.amount, s.asOf, s.nonce],
    ),
  );
  const domainSeparator = keccak256(
    encodeAbiParameters(
      [{ type: "bytes32" }, { type: "bytes32" }, { type: "bytes32" }],
      [
        keccak256(toHex("EIP712Domain(string name,string version)")),
        keccak256(toHex("Solvent Custodian Statement")),
        keccak256(toHex("1")),
      ],
    ),
  );
  return keccak256(concat(["0x1901", domainSeparator, structHash]));
}

function expectRejected(json: unknown, record: string, code: string): void {
  try {
    parseCustodianStatement(json);
  } catch (e) {
    expect(e).toBeInstanceOf(SolventError);
    expect((e as SolventError).record).toBe(record);
    expect((e as SolventError).code).toBe(code);
    return;
  }
  throw new Error(`expected ${record} to be rejected`);
}

describe("custodian statement (SPEC §9)", () => {
  it("parses strictly and round-trips through JSON", () => {
    expect(statement).toEqual({ ...statementJson, amount: 50000n * 10n ** 18n, asOf: 1700000000n, nonce: 7n });
    expect(custodianStatementToJson(statement)).toEqual(statementJson);
  });

  it("rejects bad fields naming them", () => {
    expectRejected({ ...statementJson, amount: "-5" }, "statement.amount", "INVALID_NUMBER");
    expectRejected({ ...statementJson, amount: 5 }, "statement.amount", "INVALID_NUMBER");
    expectRejected({ ...statementJson, amount: "5.0" }, "statement.amount", "INVALID_NUMBER");
    expectRejected({ ...statementJson, amount: (2n ** 256n).toString() }, "statement.amount", "OUT_OF_RANGE");
    expectRejected({ ...statementJson, asOf: "18446744073709551616" }, "statement.asOf", "OUT_OF_RANGE");
    expectRejected({ ...statementJson, nonce: "007" }, "statement.nonce", "INVALID_NUMBER");
    expectRejected({ ...statementJson, custodian: "" }, "statement.custodian", "INVALID_ARGUMENT");
    expectRejected({ ...statementJson, signature: "0x" }, "statement.signature", "INVALID_DOCUMENT");
    const { asset: _asset, ...missing } = statementJson;
    expectRejected(missing, "statement.asset", "INVALID_DOCUMENT");
  });

  it("digest equals a hand-built EIP-712 encoding, ids hashed as UTF-8", () => {
    expect(custodianStatementDigest(statement)).toBe(handDigest(statement));
    const other = { ...statement, account: "ümlaut-account", nonce: 2n ** 64n - 1n };
    expect(custodianStatementDigest(other)).toBe(handDigest(other));
  });

  it("signs and recovers; tampering changes the signer", async () => {
    const signature = await signCustodianStatement(statement, custodianKey);
    expect(await recoverCustodianStatementSigner(statement, signature)).toBe(CUSTODIAN_ADDR);
    expect(await recoverCustodianStatementSigner({ ...statement, amount: statement.amount + 1n }, signature)).not.toBe(
      CUSTODIAN_ADDR,
    );
  });
});

describe("checkCustodianStatement", () => {
  const base = {
    statement,
    issuerId: "acme-usd",
    registeredSigners: [CUSTODIAN_ADDR.toLowerCase() as `0x${string}`],
    now: 1700000600n,
    maxAgeSeconds: 3600n,
    lastAcceptedNonce: 6n as bigint | null,
  };

  it("accepts a fresh, registered, new statement", async () => {
    const signature = await signCustodianStatement(statement, custodianKey);
    expect(await checkCustodianStatement({ ...base, signature })).toEqual({ ok: true, signer: CUSTODIAN_ADDR });
    expect((await checkCustodianStatement({ ...base, signature, lastAcceptedNonce: null })).ok).toBe(true);
    // exactly at the age limit and at the skew limit still count
    expect((await checkCustodianStatement({ ...base, signature, now: 1700003600n })).ok).toBe(true);
    expect((await checkCustodianStatement({ ...base, signature, now: 1700000000n - 300n })).ok).toBe(true);
  });

  it("rejects each failure with its code", async () => {
    const signature = await signCustodianStatement(statement, custodianKey);
    const code = async (overrides: Partial<Parameters<typeof checkCustodianStatement>[0]>) => {
      const result = await checkCustodianStatement({ ...base, signature, ...overrides });
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.reason.length).toBeGreaterThan(0);
      return result.ok ? "OK" : result.code;
    };
    expect(await code({ signature: "0x1234" })).toBe("BAD_SIGNATURE");
    expect(await code({ signature: `0x${"00".repeat(65)}` })).toBe("BAD_SIGNATURE");
    expect(await code({ signature: await signCustodianStatement(statement, stranger) })).toBe("UNKNOWN_SIGNER");
    expect(await code({ registeredSigners: [] })).toBe("UNKNOWN_SIGNER");
    expect(await code({ statement: { ...statement, nonce: 8n } })).toBe("UNKNOWN_SIGNER"); // signature no longer matches
    expect(await code({ issuerId: "other-usd" })).toBe("WRONG_ISSUER");
    expect(await code({ now: 1700003601n })).toBe("STALE");
    expect(await code({ now: 1700000000n - 301n })).toBe("FUTURE");
    expect(await code({ lastAcceptedNonce: 7n })).toBe("REPLAYED_NONCE");
    expect(await code({ lastAcceptedNonce: 100n })).toBe("REPLAYED_NONCE");
  });
});

describe("low-s (SPEC §9)", () => {
  it("refuses the high-s twin of a valid signature with a reason, though it recovers the same key", async () => {
    const signature = await signCustodianStatement(statement, custodianKey);
    const twin = highSTwin(signature);
    // the twin is a genuine malleation: a recovery that does not check s finds the custodian
    expect(await recoverAddress({ hash: custodianStatementDigest(statement), signature: twin })).toBe(CUSTODIAN_ADDR);
    await expect(recoverCustodianStatementSigner(statement, twin)).rejects.toThrow(/high s/);
    const result = await checkCustodianStatement({
      statement,
      signature: twin,
      issuerId: "acme-usd",
      registeredSigners: [CUSTODIAN_ADDR],
      now: 1700000600n,
      maxAgeSeconds: 3600n,
      lastAcceptedNonce: null,
    });
    expect(result).toEqual({ ok: false, code: "BAD_SIGNATURE", reason: expect.stringContaining("high s (s > n/2)") });
    // the low-s original still counts
    expect(await recoverCustodianStatementSigner(statement, signature)).toBe(CUSTODIAN_ADDR);
  });
});
