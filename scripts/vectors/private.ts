/**
 * SPEC §11 vectors (docs/spec.md §11): a private ledger built from fixed
 * inputs, every leaf and level, and each user's proof body. Range proofs are
 * randomised (two runs give two different valid proofs), so vectors carry
 * the proof without them; test/core/privateVectors.test.ts proves and checks
 * fresh ones against these bodies.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8 } from "../../core/bytes.js";
import { userCommitment } from "../../core/liabilities/commitment.js";
import {
  buildPrivateLedger,
  G,
  H,
  H_DOMAIN,
  type PrivateAsset,
  privateLeafIndex,
  privateProofBody,
  SCHEME,
  scalarToHex,
} from "../../core/liabilities/private/index.js";

const ASSETS: PrivateAsset[] = [
  { symbol: "USDC", decimals: 6, unitDecimals: 2 },
  { symbol: "BTC", decimals: 8, unitDecimals: 8 },
];

/** Test secret derived from a published phrase: it blinds vectors only. */
const SECRET = sha256(utf8("solvent test vector key: private ledger blinding secret"));

function label(text: string, length: number): Uint8Array {
  return sha256(utf8(text)).slice(0, length);
}

export function privateLedgerVector(users: number, assetCount: number, minDepth: number) {
  const assets = ASSETS.slice(0, assetCount);
  const ledgerId = `vector-private-${users}-${assetCount}`;
  const rows = Array.from({ length: users }, (_, i) => {
    const salt = label(`private vector salt ${i}`, 16 + (i % 17));
    const userId = `private-user-${i}`;
    // whole units of each asset's private unit: USDC in cents (10^4 base units), BTC in satoshi
    const balances = assets.map(
      (a, k) => BigInt(((i + 1) * 7919 * (k + 3)) % 100_000) * 10n ** BigInt(a.decimals - a.unitDecimals),
    );
    return { userId, salt, balances };
  });
  const ledger = buildPrivateLedger({
    ledgerId,
    secret: SECRET,
    assets,
    users: rows.map((r) => ({ commitment: userCommitment(r.salt, r.userId), balances: r.balances })),
    minDepth,
  });
  return {
    scheme: SCHEME,
    hDomain: H_DOMAIN,
    G: bytesToHex(G.toBytes()),
    H: bytesToHex(H.toBytes()),
    ledgerId,
    secret: bytesToHex(SECRET),
    minDepth,
    assets,
    users: rows.map((r) => ({ userId: r.userId, salt: bytesToHex(r.salt), balances: r.balances.map(String) })),
    depth: ledger.depth,
    leaves: ledger.levels[0]!.map((leaf, i) => ({
      commitment: bytesToHex(ledger.commitments[i]!),
      values: leaf.values.map(String),
      blindings: leaf.blindings.map(scalarToHex),
      commitments: leaf.encoded.map(bytesToHex),
      hash: bytesToHex(leaf.hash),
    })),
    levels: ledger.levels
      .slice(1)
      .map((level) => level.map((n) => ({ hash: bytesToHex(n.hash), commitments: n.encoded.map(bytesToHex) }))),
    root: bytesToHex(ledger.root.hash),
    rootCommitments: ledger.root.encoded.map(bytesToHex),
    totals: ledger.totals.map(String),
    totalBlindings: ledger.totalBlindings.map(scalarToHex),
    proofs: rows.map((r) => ({
      userId: r.userId,
      salt: bytesToHex(r.salt),
      proof: privateProofBody(ledger, privateLeafIndex(ledger, userCommitment(r.salt, r.userId))),
    })),
  };
}

/** File name -> vector. */
export function privateVectors(): [string, unknown][] {
  return [
    ["private-1-users-1-assets.json", privateLedgerVector(1, 1, 2)],
    ["private-5-users-2-assets.json", privateLedgerVector(5, 2, 0)],
  ];
}
