import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bytesToHex, concatBytes, type Hex, utf8 } from "../../core/bytes.js";
import { SolventError } from "../../core/errors.js";
import {
  buildLiabilityTree,
  type InclusionProof,
  LiabilityTree,
  userCommitment,
  verifyInclusionProof,
} from "../../core/liabilities/index.js";

// ---------------------------------------------------------------------------
// An independent SPEC §2 re-implementation (noble SHA-256, bigint, arrays of
// objects): slow and obvious, written from the SPEC text, not from the core.
// ---------------------------------------------------------------------------
const H = (...parts: Uint8Array[]) => nobleSha256(concatBytes(...parts));
const enc128 = (x: bigint) => {
  const out = new Uint8Array(16);
  for (let i = 15, v = x; i >= 0; i--, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
};
const u64be = (i: number) => {
  const out = new Uint8Array(8);
  for (let j = 7, v = BigInt(i); j >= 0; j--, v >>= 8n) out[j] = Number(v & 0xffn);
  return out;
};
interface RefNode {
  hash: Uint8Array;
  sums: bigint[];
}
const refCommitment = (salt: Uint8Array, userId: string) => H(Uint8Array.of(0x02), salt, utf8(userId));
const refLeaf = (c: Uint8Array, balances: bigint[]): RefNode => ({
  hash: H(Uint8Array.of(0x00), c, ...balances.map(enc128)),
  sums: [...balances],
});
const refPadding = (level: number, index: number, k: number): RefNode => ({
  hash: H(Uint8Array.of(0x03, level), u64be(index)),
  sums: Array<bigint>(k).fill(0n),
});
const refInner = (l: RefNode, r: RefNode): RefNode => ({
  hash: H(Uint8Array.of(0x01), l.hash, ...l.sums.map(enc128), r.hash, ...r.sums.map(enc128)),
  sums: l.sums.map((s, i) => s + r.sums[i]!),
});
/** All levels, padding included, as the SPEC's building loop describes. */
function refLevels(leaves: RefNode[]): RefNode[][] {
  const k = leaves[0]!.sums.length;
  const levels: RefNode[][] = [];
  let level = [...leaves];
  for (let l = 0; level.length > 1; l++) {
    if (level.length % 2 === 1) level.push(refPadding(l, level.length, k));
    levels.push(level);
    const next: RefNode[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(refInner(level[i]!, level[i + 1]!));
    level = next;
  }
  levels.push(level);
  return levels;
}

// ---------------------------------------------------------------------------
// Arbitraries and helpers
// ---------------------------------------------------------------------------
const ASSETS = ["USDC", "BTC", "ETH", "EURC"];
const balanceArb = fc.oneof(fc.bigInt({ min: 0n, max: 1000n }), fc.bigInt({ min: 0n, max: 2n ** 120n }));
const userArb = (k: number) =>
  fc.record({
    salt: fc.uint8Array({ minLength: 16, maxLength: 32 }),
    balances: fc.array(balanceArb, { minLength: k, maxLength: k }),
  });
/** n users with distinct ids, k assets. */
const snapshotArb = (maxUsers: number) =>
  fc
    .integer({ min: 1, max: ASSETS.length })
    .chain((k) => fc.record({ k: fc.constant(k), users: fc.array(userArb(k), { minLength: 1, maxLength: maxUsers }) }))
    .map(({ k, users }) => ({
      assets: ASSETS.slice(0, k),
      users: users.map((u, i) => ({ userId: `user-${i}-ü`, salt: u.salt, balances: u.balances })),
    }));

type Snapshot = { assets: string[]; users: { userId: string; salt: Uint8Array; balances: bigint[] }[] };
const refLeavesOf = (s: Snapshot) => s.users.map((u) => refLeaf(refCommitment(u.salt, u.userId), u.balances));
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
const sumsStr = (sums: bigint[]) => sums.map(String);
const RUNS = { numRuns: 40 };

function expectSolventError(fn: () => unknown, code: string, record: string | RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SolventError);
    const err = e as SolventError;
    expect(err.code).toBe(code);
    if (typeof record === "string") expect(err.record).toBe(record);
    else expect(err.record).toMatch(record);
    return;
  }
  throw new Error("expected a SolventError");
}

function expectRejected(
  proof: unknown,
  who: Parameters<typeof verifyInclusionProof>[1],
  record?: string | RegExp,
  code?: string,
): void {
  const res = verifyInclusionProof(proof, who);
  expect(res.ok).toBe(false);
  if (res.ok) return;
  if (record !== undefined) {
    if (typeof record === "string") expect(res.record).toBe(record);
    else expect(res.record).toMatch(record);
  }
  if (code !== undefined) expect(res.code).toBe(code);
}

const salt = (seed: number, len = 16) => Uint8Array.from({ length: len }, (_, i) => (seed * 31 + i * 7) & 0xff);

// ---------------------------------------------------------------------------

describe("user commitment", () => {
  it("is H(0x02 || salt || utf8(userId)) for salts of 16..32 bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 32 }), fc.string({ unit: "grapheme" }), (s, id) => {
        expect(bytesToHex(userCommitment(s, id))).toBe(bytesToHex(refCommitment(s, id)));
      }),
      RUNS,
    );
  });

  it("rejects salts shorter than 16 or longer than 32 bytes, naming the field", () => {
    expectSolventError(() => userCommitment(new Uint8Array(15), "alice"), "INVALID_BYTES", "salt");
    expectSolventError(() => userCommitment(new Uint8Array(33), "alice"), "INVALID_BYTES", "salt");
  });
});

describe("known answers, recomputed from the SPEC formulas", () => {
  const leaves = [0, 1, 2, 3, 4].map((i) => ({
    userId: `user-${i}`,
    salt: salt(i, 16 + i),
    balances: [BigInt(100 * (i + 1)), BigInt(i)],
  }));
  const L = leaves.map((u) => refLeaf(refCommitment(u.salt, u.userId), u.balances));
  const [a, b, c, d, e] = L as [RefNode, RefNode, RefNode, RefNode, RefNode];
  const build = (n: number) => LiabilityTree.fromUsers(["USDC", "BTC"], leaves.slice(0, n));

  it("1 leaf: the root is the leaf and the path is empty", () => {
    const tree = build(1);
    expect(tree.root).toBe(bytesToHex(a.hash));
    expect(tree.rootSums).toEqual([100n, 0n]);
    expect(tree.proof(0).path).toEqual([]);
  });

  it("2 leaves: H(0x01 || a || a.sums || b || b.sums)", () => {
    const root = H(Uint8Array.of(1), a.hash, enc128(100n), enc128(0n), b.hash, enc128(200n), enc128(1n));
    expect(build(2).root).toBe(bytesToHex(root));
    expect(build(2).rootSums).toEqual([300n, 1n]);
  });

  it("3 leaves: level 0 is padded with (0, 3)", () => {
    const pad = refPadding(0, 3, 2);
    expect(bytesToHex(pad.hash)).toBe(bytesToHex(H(Uint8Array.of(3, 0, 0, 0, 0, 0, 0, 0, 0, 3))));
    const root = refInner(refInner(a, b), refInner(c, pad));
    expect(build(3).root).toBe(bytesToHex(root.hash));
    expect(build(3).rootSums).toEqual([600n, 3n]);
  });

  it("5 leaves: padding (0, 5) at level 0 and (1, 3) at level 1", () => {
    const ab = refInner(a, b);
    const cd = refInner(c, d);
    const eP = refInner(e, refPadding(0, 5, 2));
    const root = refInner(refInner(ab, cd), refInner(eP, refPadding(1, 3, 2)));
    const tree = build(5);
    expect(tree.root).toBe(bytesToHex(root.hash));
    expect(tree.rootSums).toEqual([1500n, 10n]);
    const proof = tree.proof(4);
    expect(proof.path.map((p) => p.hash)).toEqual(
      [refPadding(0, 5, 2).hash, refPadding(1, 3, 2).hash, refInner(ab, cd).hash].map(bytesToHex),
    );
    expect(proof.path[1]!.sums).toEqual(["0", "0"]);
  });

  it("produces the SPEC proof object exactly", () => {
    const tree = build(3);
    const proof = tree.proof(1);
    expect(Object.keys(proof)).toEqual(["version", "assets", "root", "rootSums", "leafIndex", "balances", "path"]);
    expect(proof).toEqual({
      version: 1,
      assets: ["USDC", "BTC"],
      root: bytesToHex(refInner(refInner(a, b), refInner(c, refPadding(0, 3, 2))).hash),
      rootSums: ["600", "3"],
      leafIndex: 1,
      balances: ["200", "1"],
      path: [
        { hash: bytesToHex(a.hash), sums: ["100", "0"] },
        { hash: bytesToHex(refInner(c, refPadding(0, 3, 2)).hash), sums: ["300", "2"] },
      ],
    });
  });
});

describe("random trees", () => {
  it("root, root sums and every proof match the reference; every proof verifies", () => {
    fc.assert(
      fc.property(snapshotArb(40), (s) => {
        const tree = LiabilityTree.fromUsers(s.assets, s.users);
        const levels = refLevels(refLeavesOf(s));
        const root = levels[levels.length - 1]![0]!;
        expect(tree.size).toBe(s.users.length);
        expect(tree.root).toBe(bytesToHex(root.hash));
        const totals = s.assets.map((_, k) => s.users.reduce((acc, u) => acc + u.balances[k]!, 0n));
        expect(tree.rootSums).toEqual(totals);
        s.users.forEach((u, i) => {
          const proof = clone(tree.proof(i));
          let idx = i;
          expect(proof.path.length).toBe(levels.length - 1);
          proof.path.forEach((p, l) => {
            const sib = levels[l]![idx ^ 1]!;
            expect(p).toEqual({ hash: bytesToHex(sib.hash), sums: sumsStr(sib.sums) });
            idx >>= 1;
          });
          const res = verifyInclusionProof(proof, { userId: u.userId, salt: u.salt });
          expect(res).toEqual({
            ok: true,
            assets: s.assets,
            root: tree.root,
            rootSums: totals,
            leafIndex: i,
            balances: u.balances,
          });
          expect(verifyInclusionProof(proof, { commitment: bytesToHex(refCommitment(u.salt, u.userId)) }).ok).toBe(
            true,
          );
          expect(tree.indexOf(refCommitment(u.salt, u.userId))).toBe(i);
        });
      }),
      { numRuns: 25 },
    );
  });

  it("pads every odd level with H(0x03 || uint8(l) || uint64be(count)) and zero sums", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 300 }), fc.integer({ min: 1, max: 3 }), (n, k) => {
        const rows = Array.from({ length: n }, (_, i) => ({
          commitment: H(u64be(i)),
          balances: Array<bigint>(k).fill(BigInt(i)),
        }));
        const tree = buildLiabilityTree({ assets: ASSETS.slice(0, k), rows });
        const proof = tree.proof(n - 1);
        // Walk the level widths: the last leaf's ancestor is the last node of its level.
        let width = n;
        for (let l = 0; width > 1; l++) {
          const sibling = proof.path[l]!;
          if (width % 2 === 1) {
            expect(sibling.hash).toBe(bytesToHex(H(Uint8Array.of(0x03, l), u64be(width))));
            expect(sibling.sums).toEqual(Array(k).fill("0"));
          } else {
            expect(sibling.hash).not.toBe(bytesToHex(H(Uint8Array.of(0x03, l), u64be(width))));
          }
          width = Math.ceil(width / 2);
        }
        expect(proof.path.length).toBe(Math.ceil(Math.log2(n)));
      }),
      RUNS,
    );
  });
});

describe("tampered proofs fail", () => {
  // A fixed 13-user, 2-asset tree: odd levels on the way up, so paths hold padding.
  const users = Array.from({ length: 13 }, (_, i) => ({
    userId: `u${i}`,
    salt: salt(i, 16 + (i % 17)),
    balances: [BigInt(i * 1000 + 7), BigInt(i % 3)],
  }));
  const tree = LiabilityTree.fromUsers(["USDC", "BTC"], users);
  const whoOf = (i: number) => ({ userId: users[i]!.userId, salt: users[i]!.salt });
  const flipHexByte = (hex: Hex, byte: number, mask: number): Hex => {
    const bytes = Uint8Array.from(hexBytes(hex));
    bytes[byte] = bytes[byte]! ^ mask;
    return bytesToHex(bytes);
  };
  const flipSumByte = (value: string, byte: number, mask: number) =>
    (BigInt(value) ^ (BigInt(mask) << BigInt(8 * (15 - byte)))).toString();

  const caseArb = fc.record({
    leaf: fc.integer({ min: 0, max: 12 }),
    level: fc.nat(),
    asset: fc.integer({ min: 0, max: 1 }),
    byte: fc.integer({ min: 0, max: 31 }),
    mask: fc.integer({ min: 1, max: 255 }),
  });

  it("flipping any byte of a path hash, a path sum, a balance, the root or a root sum", () => {
    fc.assert(
      fc.property(caseArb, ({ leaf, level, asset, byte, mask }) => {
        const good = tree.proof(leaf);
        expect(verifyInclusionProof(good, whoOf(leaf)).ok).toBe(true);
        const l = level % good.path.length;
        const b16 = byte % 16;

        const p1 = clone(good);
        p1.path[l]!.hash = flipHexByte(p1.path[l]!.hash, byte, mask);
        expectRejected(p1, whoOf(leaf), "root", "INVALID_PROOF");

        const p2 = clone(good);
        p2.path[l]!.sums[asset] = flipSumByte(p2.path[l]!.sums[asset]!, b16, mask);
        expectRejected(p2, whoOf(leaf));

        const p3 = clone(good);
        p3.balances[asset] = flipSumByte(p3.balances[asset]!, b16, mask);
        expectRejected(p3, whoOf(leaf));

        const p4 = clone(good);
        p4.root = flipHexByte(p4.root, byte, mask);
        expectRejected(p4, whoOf(leaf), "root", "INVALID_PROOF");

        const p5 = clone(good);
        p5.rootSums[asset] = flipSumByte(p5.rootSums[asset]!, b16, mask);
        expectRejected(p5, whoOf(leaf), `rootSums[${asset}]`, "INVALID_PROOF");
      }),
      RUNS,
    );
  });

  it("any other leafIndex, and a leafIndex of 2^path.length or more", () => {
    for (let leaf = 0; leaf < 13; leaf++) {
      const good = tree.proof(leaf);
      const limit = 2 ** good.path.length;
      for (let other = 0; other < limit; other++) {
        if (other !== leaf) expectRejected({ ...good, leafIndex: other }, whoOf(leaf));
      }
      expectRejected({ ...good, leafIndex: limit }, whoOf(leaf), "leafIndex", "INVALID_PROOF");
      expectRejected({ ...good, leafIndex: limit + leaf }, whoOf(leaf), "leafIndex", "INVALID_PROOF");
    }
  });

  it("another user's secrets, a dropped or an extra path level, swapped assets", () => {
    const good = tree.proof(5);
    expectRejected(good, whoOf(6));
    expectRejected(good, { userId: "u5", salt: salt(6, 16 + 6) });
    expectRejected({ ...good, path: good.path.slice(0, -1), leafIndex: 5 }, whoOf(5));
    expectRejected({ ...good, path: [...good.path, good.path[0]!] }, whoOf(5));
    expectRejected(
      { ...good, balances: [...good.balances].reverse(), rootSums: [...good.rootSums].reverse() },
      whoOf(5),
    );
  });

  it("a partial sum reaching 2^128 is an overflow, even if everything else were consistent", () => {
    // One leaf with balance 1 and a sibling claiming 2^128 - 1: the parent sum is 2^128.
    const c = refCommitment(salt(1), "x");
    const proof: InclusionProof = {
      version: 1,
      assets: ["USDC"],
      root: bytesToHex(new Uint8Array(32)),
      rootSums: ["0"],
      leafIndex: 0,
      balances: ["1"],
      path: [{ hash: bytesToHex(new Uint8Array(32)), sums: [(2n ** 128n - 1n).toString()] }],
    };
    expectRejected(proof, { commitment: c }, "path[0].sums[0]", "SUM_OVERFLOW");
  });
});

describe("malformed proofs are rejected naming the field, never thrown", () => {
  const users = [0, 1, 2].map((i) => ({ userId: `m${i}`, salt: salt(i + 40), balances: [BigInt(i + 1), 5n] }));
  const tree = LiabilityTree.fromUsers(["USDC", "BTC"], users);
  const who = { userId: "m1", salt: users[1]!.salt };
  const good = tree.proof(1);

  it.each([
    ["-1", "INVALID_NUMBER"],
    ["01", "INVALID_NUMBER"],
    ["1e3", "INVALID_NUMBER"],
    ["1.5", "INVALID_NUMBER"],
    ["", "INVALID_NUMBER"],
    [" 2", "INVALID_NUMBER"],
    [(2n ** 128n).toString(), "OUT_OF_RANGE"],
  ])("number %j", (bad, code) => {
    expectRejected({ ...good, balances: [bad, "5"] }, who, "balances[0]", code);
    expectRejected({ ...good, rootSums: ["6", bad] }, who, "rootSums[1]", code);
    const p = clone(good);
    p.path[1]!.sums[0] = bad;
    expectRejected(p, who, "path[1].sums[0]", code);
  });

  it("a JSON number where a decimal string belongs", () => {
    expectRejected({ ...good, balances: [2, "5"] }, who, "balances[0]", "INVALID_NUMBER");
  });

  it("structure", () => {
    expectRejected(null, who, "proof");
    expectRejected("{}", who, "proof");
    expectRejected([], who, "proof");
    expectRejected({ ...good, version: 2 }, who, "version");
    expectRejected({ ...good, version: "1" }, who, "version");
    expectRejected({ ...good, assets: [] }, who, "assets");
    expectRejected({ ...good, assets: ["USDC", "USDC"] }, who, "assets[1]");
    expectRejected({ ...good, assets: ["USDC", ""] }, who, "assets[1]");
    expectRejected({ ...good, root: good.root.slice(0, -2) }, who, "root", "INVALID_BYTES");
    expectRejected({ ...good, root: undefined }, who, "root", "INVALID_BYTES");
    expectRejected({ ...good, root: good.root.slice(2) }, who, "root", "INVALID_BYTES");
    expectRejected({ ...good, leafIndex: -1 }, who, "leafIndex");
    expectRejected({ ...good, leafIndex: 1.5 }, who, "leafIndex");
    expectRejected({ ...good, leafIndex: "1" }, who, "leafIndex");
    expectRejected({ ...good, balances: ["1"] }, who, "balances");
    expectRejected({ ...good, rootSums: ["1", "2", "3"] }, who, "rootSums");
    expectRejected({ ...good, path: {} }, who, "path");
    expectRejected({ ...good, path: [null] }, who, "path[0]");
    expectRejected({ ...good, path: [{ hash: good.path[0]!.hash, sums: ["1"] }, good.path[1]] }, who, "path[0].sums");
    expectRejected({ ...good, path: [{ sums: ["1", "2"] }, good.path[1]] }, who, "path[0].hash");
    expectRejected(good, { userId: "m1", salt: new Uint8Array(8) }, "salt", "INVALID_BYTES");
    expectRejected(good, { commitment: "0x1234" as Hex }, "commitment", "INVALID_BYTES");
    // The untouched proof still passes: the failures above are the edits.
    expect(verifyInclusionProof(good, who).ok).toBe(true);
  });
});

describe("building rejects bad rows, naming them", () => {
  const c = (i: number) => H(u64be(i));

  it("a balance of 2^128 or more, a negative balance, a wrong balance count", () => {
    const rows = Array.from({ length: 20 }, (_, i) => ({ commitment: c(i), balances: [1n, 2n] }));
    expectSolventError(
      () =>
        buildLiabilityTree({
          assets: ["A", "B"],
          rows: rows.map((r, i) => (i === 12 ? { ...r, balances: [1n, 2n ** 128n] } : r)),
        }),
      "SUM_OVERFLOW",
      "rows[12].balances[1]",
    );
    expect(
      buildLiabilityTree({ assets: ["A", "B"], rows: [{ commitment: c(0), balances: [2n ** 128n - 1n, 0n] }] })
        .rootSums,
    ).toEqual([2n ** 128n - 1n, 0n]);
    expectSolventError(
      () =>
        buildLiabilityTree({
          assets: ["A", "B"],
          rows: rows.map((r, i) => (i === 3 ? { ...r, balances: [-1n, 0n] } : r)),
        }),
      "INVALID_NUMBER",
      "rows[3].balances[0]",
    );
    expectSolventError(
      () =>
        buildLiabilityTree({ assets: ["A", "B"], rows: rows.map((r, i) => (i === 7 ? { ...r, balances: [1n] } : r)) }),
      "INVALID_ARGUMENT",
      "rows[7].balances",
    );
    expectSolventError(() => buildLiabilityTree({ assets: ["A", "B"], rows: [] }), "INVALID_ARGUMENT", "rows");
    expectSolventError(
      () => buildLiabilityTree({ assets: ["A"], rows: [{ commitment: "0xabcd" as Hex, balances: [1n] }] }),
      "INVALID_BYTES",
      "rows[0].commitment",
    );
  });

  it("a partial sum reaching 2^128 names the rows under the overflowing node", () => {
    const half = 2n ** 127n;
    const rows = (bals: bigint[]) => bals.map((b, i) => ({ commitment: c(i), balances: [0n, b] }));
    expectSolventError(
      () => buildLiabilityTree({ assets: ["A", "B"], rows: rows([half, half]) }),
      "SUM_OVERFLOW",
      "rows[0..1].balances[1]",
    );
    expectSolventError(
      () => buildLiabilityTree({ assets: ["A", "B"], rows: rows([1n, 2n, 3n, 4n, half, half - 1n, half, 0n, 5n]) }),
      "SUM_OVERFLOW",
      "rows[4..7].balances[1]",
    );
    // The same values not sharing an ancestor until the top: the root overflows.
    expectSolventError(
      () => buildLiabilityTree({ assets: ["A", "B"], rows: rows([half, 0n, 0n, half, 1n]) }),
      "SUM_OVERFLOW",
      "rows[0..3].balances[1]",
    );
    expectSolventError(
      () => buildLiabilityTree({ assets: ["A", "B"], rows: rows([half, 0n, 0n, 0n, half]) }),
      "SUM_OVERFLOW",
      "rows[0..4].balances[1]",
    );
    // Just below the limit builds.
    expect(buildLiabilityTree({ assets: ["A", "B"], rows: rows([half, half - 1n]) }).rootSums).toEqual([
      0n,
      2n ** 128n - 1n,
    ]);
  });

  it("duplicate user ids and duplicate commitments, naming both rows", () => {
    const users = [0, 1, 2, 3].map((i) => ({ userId: `id-${i}`, salt: salt(i), balances: [1n] }));
    expectSolventError(
      () => LiabilityTree.fromUsers(["A"], [...users, { userId: "id-1", salt: salt(9), balances: [1n] }]),
      "DUPLICATE_USER",
      "rows[4].userId",
    );
    try {
      LiabilityTree.fromUsers(["A"], [...users, { userId: "id-1", salt: salt(9), balances: [1n] }]);
    } catch (e) {
      expect((e as SolventError).message).toContain("rows[1]");
    }
    const rows = [0, 1, 2].map((i) => ({ commitment: c(i), balances: [1n] }));
    expectSolventError(
      () => buildLiabilityTree({ assets: ["A"], rows: [...rows, { commitment: bytesToHex(c(1)), balances: [2n] }] }),
      "DUPLICATE_USER",
      "rows[3].commitment",
    );
    expectSolventError(
      () => LiabilityTree.fromUsers(["A"], [{ userId: "x", salt: new Uint8Array(15), balances: [1n] }]),
      "INVALID_BYTES",
      "rows[0].salt",
    );
  });

  it("asset lists: 1 to 64 unique non-empty names", () => {
    const row = (k: number) => [{ commitment: c(0), balances: Array<bigint>(k).fill(1n) }];
    const names = (k: number) => Array.from({ length: k }, (_, i) => `A${i}`);
    expect(buildLiabilityTree({ assets: names(64), rows: row(64) }).rootSums).toHaveLength(64);
    expectSolventError(() => buildLiabilityTree({ assets: names(65), rows: row(65) }), "INVALID_ARGUMENT", "assets");
    expectSolventError(() => buildLiabilityTree({ assets: [], rows: row(0) }), "INVALID_ARGUMENT", "assets");
    expectSolventError(() => buildLiabilityTree({ assets: ["A", "A"], rows: row(2) }), "INVALID_ARGUMENT", "assets[1]");
    expectSolventError(() => buildLiabilityTree({ assets: ["A", ""], rows: row(2) }), "INVALID_ARGUMENT", "assets[1]");
  });

  it("a 64-asset tree proves and verifies against the reference", () => {
    const k = 64;
    const assets = Array.from({ length: k }, (_, i) => `A${i}`);
    const users = [0, 1, 2].map((i) => ({
      userId: `w${i}`,
      salt: salt(i, 32),
      balances: assets.map((_, j) => BigInt(i * 1000 + j) << 64n),
    }));
    const tree = LiabilityTree.fromUsers(assets, users);
    const levels = refLevels(users.map((u) => refLeaf(refCommitment(u.salt, u.userId), u.balances)));
    expect(tree.root).toBe(bytesToHex(levels[levels.length - 1]![0]!.hash));
    expect(verifyInclusionProof(clone(tree.proof(2)), { userId: "w2", salt: bytesToHex(users[2]!.salt) }).ok).toBe(
      true,
    );
  });
});

/** Hex → bytes without importing Node's Buffer (these tests also run in workerd). */
function hexBytes(hex: Hex): Uint8Array {
  const body = hex.slice(2);
  return Uint8Array.from({ length: body.length / 2 }, (_, i) => parseInt(body.slice(2 * i, 2 * i + 2), 16));
}
