import { describe, expect, it } from "vitest";
import { parseAddress } from "../../core/address.js";
import { SolventError } from "../../core/errors.js";
import { createKeysDocument, keyValidAt, parseKeysDocument, rotateKey } from "../../core/keysDocument.js";

const A = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"; // checksummed
const B = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"; // lowercase
const C = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";

function rejects(json: unknown, record: string): void {
  try {
    parseKeysDocument(json);
  } catch (e) {
    expect(e).toBeInstanceOf(SolventError);
    expect((e as SolventError).record).toBe(record);
    return;
  }
  throw new Error(`expected ${record} to be rejected`);
}

describe("keys document (SPEC §7)", () => {
  it("parses the SPEC example and normalises addresses to lowercase", () => {
    const doc = parseKeysDocument({
      keys: [
        { address: A, validFrom: 1700000000, validUntil: 1700003600 },
        { address: B, validFrom: 1700003600, validUntil: null },
      ],
    });
    expect(doc).toEqual({
      keys: [
        { address: A.toLowerCase(), validFrom: 1700000000, validUntil: 1700003600 },
        { address: B, validFrom: 1700003600, validUntil: null },
      ],
    });
  });

  it("rejects malformed documents naming the record", () => {
    rejects(null, "keys document");
    rejects({ keys: [], extra: 1 }, "keys document.extra");
    rejects({ keys: {} }, "keys");
    rejects({ keys: [] }, "keys");
    rejects({ keys: [{ address: "0x1234", validFrom: 1, validUntil: null }] }, "keys[0].address");
    // bad checksum: A with one letter's case flipped ("cffFb" -> "cfffb")
    rejects(
      { keys: [{ address: "0xf39Fd6e51aad88F6F4ce6aB8827279cfffb92266", validFrom: 1, validUntil: null }] },
      "keys[0].address",
    );
    rejects({ keys: [{ address: A, validFrom: "1700000000", validUntil: null }] }, "keys[0].validFrom");
    rejects({ keys: [{ address: A, validFrom: 1.5, validUntil: null }] }, "keys[0].validFrom");
    rejects({ keys: [{ address: A, validFrom: -1, validUntil: null }] }, "keys[0].validFrom");
    rejects({ keys: [{ address: A, validFrom: 10 }] }, "keys[0].validUntil");
    rejects({ keys: [{ address: A, validFrom: 10, validUntil: 10 }] }, "keys[0].validUntil");
    rejects({ keys: [{ address: A, validFrom: 10, validUntil: 5 }] }, "keys[0].validUntil");
    rejects({ keys: [{ address: A, validFrom: 10, validUntil: null, note: "x" }] }, "keys[0].note");
  });

  it("parseAddress accepts lowercase and correct checksums only", () => {
    expect(parseAddress(A, "x")).toBe(A.toLowerCase());
    expect(parseAddress(A.toLowerCase(), "x")).toBe(A.toLowerCase());
    expect(() => parseAddress("0xF39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "x")).toThrow(/checksum/);
    expect(() => parseAddress(A.slice(0, 41), "x")).toThrow(SolventError);
  });

  it("applies validity windows: from inclusive, until exclusive, any address case", () => {
    const doc = parseKeysDocument({ keys: [{ address: A, validFrom: 100, validUntil: 200 }] });
    expect(keyValidAt(doc, A, 99)).toBe(false);
    expect(keyValidAt(doc, A, 100)).toBe(true);
    expect(keyValidAt(doc, A.toUpperCase().replace("0X", "0x"), 150n)).toBe(true);
    expect(keyValidAt(doc, A, 199n)).toBe(true);
    expect(keyValidAt(doc, A, 200)).toBe(false);
    expect(keyValidAt(doc, B, 150)).toBe(false);
    const open = parseKeysDocument({ keys: [{ address: A, validFrom: 100, validUntil: null }] });
    expect(keyValidAt(open, A, 2n ** 63n)).toBe(true);
  });

  it("rotates without deleting: old key closes at `at`, new key opens at `at`", () => {
    const first = createKeysDocument({ address: A, validFrom: 1000 });
    const second = rotateKey(first, { newAddress: B, at: 2000 });
    const third = rotateKey(second, { newAddress: C, at: 3000n });
    expect(first.keys).toEqual([{ address: A.toLowerCase(), validFrom: 1000, validUntil: null }]); // input untouched
    expect(third.keys).toEqual([
      { address: A.toLowerCase(), validFrom: 1000, validUntil: 2000 },
      { address: B, validFrom: 2000, validUntil: 3000 },
      { address: C.toLowerCase(), validFrom: 3000, validUntil: null },
    ]);
    // an old attestation observed at 1500 still verifies against A
    expect(keyValidAt(third, A, 1500)).toBe(true);
    expect(keyValidAt(third, A, 2000)).toBe(false);
    expect(keyValidAt(third, B, 2000)).toBe(true);
    expect(keyValidAt(third, C, 2999)).toBe(false);
    expect(keyValidAt(third, C, 3000)).toBe(true);
    // the rotated document is itself a valid document
    expect(parseKeysDocument(JSON.parse(JSON.stringify(third)))).toEqual(third);
  });

  it("refuses a rotation that would produce an empty window or re-open the same key", () => {
    const doc = createKeysDocument({ address: A, validFrom: 1000 });
    expect(() => rotateKey(doc, { newAddress: B, at: 1000 })).toThrow(SolventError);
    expect(() => rotateKey(doc, { newAddress: B, at: 999 })).toThrow(SolventError);
    expect(() => rotateKey(doc, { newAddress: A, at: 2000 })).toThrow(SolventError);
    expect(() => rotateKey(doc, { newAddress: "0xnope", at: 2000 })).toThrow(SolventError);
  });
});
