/**
 * Test vectors for every format a third party re-computes (docs/spec.md),
 * generated from fixed inputs by the same core code the Worker runs.
 * `npm run vectors` writes them; test/scripts/vectors.test.ts asserts the
 * committed files equal what this produces now.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { keccak256 } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import {
  type Attestation,
  attestationDigest,
  attestationToJson,
  issuerKey,
  nextAttestation,
  signAttestation,
  ZERO_HASH,
} from "../../core/attestation.js";
import { bytesToHex, type Hex, hexToBytes, utf8 } from "../../core/bytes.js";
import {
  type CustodianStatement,
  custodianStatementDigest,
  custodianStatementToJson,
  signCustodianStatement,
} from "../../core/custodianStatement.js";
import { encodeFlags } from "../../core/flags.js";
import { createKeysDocument } from "../../core/keysDocument.js";
import { userCommitment } from "../../core/liabilities/commitment.js";
import { buildNonInclusionProof, compareCommitments } from "../../core/liabilities/nonInclusion.js";
import { buildLiabilityTree } from "../../core/liabilities/sumTree.js";
import { ratioBps } from "../../core/numbers.js";
import { ownershipMessage, ownershipMessageHash, signOwnership } from "../../core/ownershipProof.js";
import { receiptAssetsHash, receiptDigest, signReceipt } from "../../core/receipt.js";
import {
  buildReservesTree,
  NATIVE_TOKEN,
  type ReserveLineItem,
  ReserveStatus,
  reserveItemProof,
  reserveLineItemToJson,
  sourceId,
  ZERO_ADDRESS,
} from "../../core/reservesTree.js";
import { privateVectors } from "./private.js";

/**
 * Published test keys: derived from fixed phrases so anyone can re-derive
 * them. They sign test vectors only and must never hold anything.
 */
export const TEST_KEYS = {
  attestation: keccak256(utf8("solvent test vector key: attestation signer")),
  custodian: keccak256(utf8("solvent test vector key: custodian signer")),
  holder: keccak256(utf8("solvent test vector key: reserve holder")),
  receipts: keccak256(utf8("solvent test vector key: balance receipts")),
} as const;

const ISSUER_ID = "vector-issuer";
const OBSERVED_AT = 1767225600n; // 2026-01-01T00:00:00Z
const TICK_SECONDS = 3600n;
const TTL_SECONDS = 7200n;

/** Deterministic bytes for fixed inputs: SHA-256 of a label, truncated. */
function fixedBytes(label: string, length: number): Uint8Array {
  return sha256(utf8(label)).slice(0, length);
}

/** A deterministic balance below 2^100 (so 1,000 of them sum well under 2^128); some are zero. */
function fixedBalance(label: string): bigint {
  const b = fixedBytes(label, 13);
  if (b[0]! < 32) return 0n; // about one in eight balances is zero
  let v = 0n;
  for (const byte of b) v = (v << 8n) | BigInt(byte);
  return v >> 4n;
}

const ASSET_SETS: Record<number, string[]> = { 1: ["USD"], 3: ["USD", "BTC", "ETH"] };

interface VectorUser {
  userId: string;
  salt: Hex;
  commitment: Hex;
  balances: string[];
}

function vectorUsers(n: number, k: number): VectorUser[] {
  return Array.from({ length: n }, (_, i) => {
    const userId = `user-${i}`;
    const salt = fixedBytes(`solvent vector salt ${n}/${k}/${i}`, 16 + (i % 17));
    const balances = Array.from({ length: k }, (_, a) =>
      fixedBalance(`solvent vector balance ${n}/${k}/${i}/${a}`).toString(),
    );
    return { userId, salt: bytesToHex(salt), commitment: bytesToHex(userCommitment(salt, userId)), balances };
  });
}

/** The indices a vector file carries proofs for: first, middle and last. */
function proofIndices(n: number): number[] {
  return [...new Set([0, Math.floor(n / 2), n - 1])];
}

function sumTreeVector(n: number, k: number) {
  const assets = ASSET_SETS[k]!;
  const users = vectorUsers(n, k);
  const tree = buildLiabilityTree({
    assets,
    rows: users.map((u) => ({ commitment: u.commitment, balances: u.balances.map(BigInt) })),
  });
  return {
    description: `SPEC §2 sum tree: ${n} user(s), ${k} asset(s), leaves in the order listed`,
    assets,
    users,
    root: tree.root,
    rootSums: tree.rootSums.map(String),
    proofs: proofIndices(n).map((i) => ({ userId: users[i]!.userId, salt: users[i]!.salt, proof: tree.proof(i) })),
  };
}

/**
 * SPEC §2.1: a commitment-ordered tree of `n` users and proofs that absent
 * users (fixed ids and salts) are not in it, one per position that occurs
 * (before the first leaf, between two, after the last), plus proofs a
 * verifier must reject.
 */
function nonInclusionVector(n: number, k: number) {
  const assets = ASSET_SETS[k]!;
  const users = vectorUsers(n, k).sort((a, b) =>
    compareCommitments(hexToBytes(a.commitment, "a"), hexToBytes(b.commitment, "b")),
  );
  const tree = buildLiabilityTree({
    assets,
    rows: users.map((u) => ({ commitment: u.commitment, balances: u.balances.map(BigInt) })),
  });
  const absent: { position: string; userId: string; salt: Hex; proof: ReturnType<typeof buildNonInclusionProof> }[] =
    [];
  for (let i = 0; i < 200 && absent.length < (n === 1 ? 2 : 3); i++) {
    const userId = `absent-${i}`;
    const salt = fixedBytes(`solvent vector absent salt ${n}/${k}/${i}`, 16);
    const proof = buildNonInclusionProof(tree, userCommitment(salt, userId));
    const position = proof.left === null ? "before-first" : proof.right === null ? "after-last" : "between";
    if (absent.some((a) => a.position === position)) continue;
    absent.push({ position, userId, salt: bytesToHex(salt), proof });
  }
  const between = absent.find((a) => a.position !== "before-first" && a.position !== "after-last") ?? absent[0]!;
  const invalid: { why: string; proof: unknown }[] = [];
  if (n > 2) {
    // Skipping a leaf: the right neighbour of the next gap, with the left of this one.
    const wider = buildNonInclusionProof(
      tree,
      bytesToHex(incremented(tree.commitmentAt(between.proof.right!.leafIndex))),
    );
    if (wider.right !== null)
      invalid.push({
        why: "neighbours not adjacent (a leaf between them is hidden)",
        proof: { ...between.proof, right: wider.right },
      });
  }
  const neighbour = between.proof.left ?? between.proof.right!;
  const lied = { ...neighbour, balances: neighbour.balances.map((b) => (BigInt(b) + 1n).toString()) };
  invalid.push({
    why: "a neighbour's balances are not the preimage of its leaf hash",
    proof: { ...between.proof, ...(between.proof.left ? { left: lied } : { right: lied }) },
  });
  if (between.proof.left !== null && between.proof.right !== null) {
    // Dropping the right neighbour while claiming the left is last only works with a leafCount the report contradicts.
    invalid.push({
      why: "right neighbour dropped: the left one is not the last leaf",
      proof: { ...between.proof, right: null },
    });
  }
  return {
    description: `SPEC §2.1 non-inclusion: ${n} user(s) in commitment order, ${k} asset(s)`,
    assets,
    users,
    root: tree.root,
    rootSums: tree.rootSums.map(String),
    leafCount: n,
    absent,
    invalid,
  };
}

/** c + 1 as a 256-bit number (the smallest commitment above c). */
function incremented(c: Uint8Array): Uint8Array {
  const out = Uint8Array.from(c);
  for (let i = out.length - 1; i >= 0; i--) {
    out[i] = (out[i]! + 1) & 0xff;
    if (out[i] !== 0) break;
  }
  return out;
}

/**
 * SPEC §2 leaf order and the §4 `liabilities.ledger` entry: 7 users as an
 * issuer uploads them, the leaves in commitment order (ascending c, as 32
 * unsigned bytes), the tree of that order and the ledger as a report names it.
 */
function commitmentOrderVector() {
  const assets = ["USD", "ETH"];
  const users = vectorUsers(7, 2).map((u, i) => ({
    ...u,
    userId: `ordered-${i}`,
    commitment: bytesToHex(userCommitment(hexToBytes(u.salt, "salt"), `ordered-${i}`)),
  }));
  // Lowercase hex of equal length sorts as the bytes do.
  const leaves = [...users].sort((a, b) => (a.commitment < b.commitment ? -1 : 1));
  const tree = buildLiabilityTree({
    assets,
    rows: leaves.map((u) => ({ commitment: u.commitment, balances: u.balances.map(BigInt) })),
  });
  return {
    description:
      "SPEC §2 commitment order: users in upload order, leaves sorted by commitment, the tree of that order, and SPEC §4 liabilities.ledger as a report names it",
    assets,
    users,
    leafOrder: leaves.map((u) => u.userId),
    root: tree.root,
    rootSums: tree.rootSums.map(String),
    proofs: proofIndices(leaves.length).map((i) => ({
      userId: leaves[i]!.userId,
      salt: leaves[i]!.salt,
      proof: tree.proof(i),
    })),
    reportLedger: {
      id: "lg_00000000000000000000000000000007",
      asOf: "1767225600",
      leafCount: String(leaves.length),
      order: "commitment",
      scheme: "sum-sha256-v1",
      assets,
      rootSums: tree.rootSums.map(String),
    },
  };
}

const HOLDER = privateKeyToAccount(TEST_KEYS.holder).address;
const USDC = "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48" as const;
const WETH = "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2" as const;
const COLD_WALLET = "0x1111111111111111111111111111111111111111" as const;
const USD18 = 10n ** 18n;
/** Fixed liabilities of the vector chain: $3.4M, so the ratio crosses 100% within three steps. */
const LIABILITIES_USD = 3_400_000n * USD18;

/** One item of every SPEC §3 kind: proven, unproven, native, off-chain, excluded. */
function reserveItems(): ReserveLineItem[] {
  const item = (
    label: string,
    chainId: bigint,
    holder: Hex,
    token: Hex,
    amount: bigint,
    priceUsd: bigint,
    decimals: number,
    status: ReserveStatus,
  ): ReserveLineItem => ({
    label,
    chainId,
    holder: holder as ReserveLineItem["holder"],
    token: token as ReserveLineItem["token"],
    amount,
    priceUsd,
    valueUsd: (amount * priceUsd) / 10n ** BigInt(decimals),
    status,
  });
  return [
    item(`evm:1:${HOLDER}:${USDC}`, 1n, HOLDER, USDC, 2_500_000_000_000n, USD18, 6, ReserveStatus.ON_CHAIN_PROVEN),
    item(
      `evm:1:${HOLDER}:${NATIVE_TOKEN}`,
      1n,
      HOLDER,
      NATIVE_TOKEN,
      125n * USD18,
      3150n * USD18,
      18,
      ReserveStatus.ON_CHAIN_PROVEN,
    ),
    item(
      `evm:1:${COLD_WALLET}:${WETH}`,
      1n,
      COLD_WALLET,
      WETH,
      40n * USD18,
      3150n * USD18,
      18,
      ReserveStatus.ON_CHAIN_UNPROVEN,
    ),
    item(
      "custodian:acme-trust:USD",
      0n,
      ZERO_ADDRESS,
      ZERO_ADDRESS,
      1_000_000_00n,
      USD18,
      2,
      ReserveStatus.OFF_CHAIN_STATEMENT,
    ),
    item("custodian:stale-bank:USD", 0n, ZERO_ADDRESS, ZERO_ADDRESS, 5_000_000_00n, USD18, 2, ReserveStatus.EXCLUDED),
  ];
}

function reservesTreeVector() {
  const items = reserveItems();
  const tree = buildReservesTree(items);
  return {
    description: "SPEC §3 reserves tree: OpenZeppelin StandardMerkleTree.of(items, encoding) with default options",
    encoding: ["bytes32", "uint256", "address", "address", "uint256", "uint256", "uint256", "uint8"],
    items: items.map((it, i) => ({
      ...reserveLineItemToJson(it),
      sourceId: sourceId(it.label),
      leafHash: tree.leafHash(tree.at(i)!),
      proof: reserveItemProof(tree, i),
    })),
    root: tree.root as Hex,
  };
}

async function attestationChainVector(liabilitiesRoot: Hex, liabilitiesUsd: bigint) {
  const signer = privateKeyToAccount(TEST_KEYS.attestation);
  const items = reserveItems();
  const tree = buildReservesTree(items);
  const counted = (status: ReserveStatus) =>
    items.filter((i) => i.status === status).reduce((sum, i) => sum + i.valueUsd, 0n);
  const onchain = counted(ReserveStatus.ON_CHAIN_PROVEN);
  const offchain = counted(ReserveStatus.OFF_CHAIN_STATEMENT);
  const chain: { attestation: ReturnType<typeof attestationToJson>; digest: Hex; signature: Hex }[] = [];
  let previous: Attestation | null = null;
  for (let i = 0n; i < 3n; i++) {
    // Reserves shrink each step so the chain also shows flags changing.
    const reservesUsd = onchain + offchain - i * 1_000_000n * USD18;
    const ratio = ratioBps(reservesUsd, liabilitiesUsd);
    const flags = encodeFlags([
      "UNPROVEN_OWNERSHIP",
      "STALE_SOURCE",
      ...(ratio < 10000 ? (["UNDERCOLLATERALIZED"] as const) : []),
    ]);
    const observedAt = OBSERVED_AT + i * TICK_SECONDS;
    const a: Attestation = nextAttestation(previous, {
      issuer: issuerKey(ISSUER_ID),
      observedAt,
      validUntil: observedAt + TTL_SECONDS,
      reservesUsd,
      onchainReservesUsd: onchain - i * 1_000_000n * USD18,
      offchainReservesUsd: offchain,
      liabilitiesUsd,
      ratioBps: ratio,
      reservesRoot: tree.root as Hex,
      liabilitiesRoot,
      flags,
      reportHash: keccak256(utf8(`solvent vector report ${i + 1n}`)),
    });
    chain.push({
      attestation: attestationToJson(a),
      digest: attestationDigest(a),
      signature: await signAttestation(a, signer),
    });
    previous = a;
  }
  return {
    description:
      "SPEC §5 chain of three signed attestations. The signing key is a published TEST key: never trust it. " +
      "liabilitiesRoot is the root of sumtree-5-users-3-assets.json.",
    testPrivateKey: TEST_KEYS.attestation,
    signer: signer.address,
    issuerId: ISSUER_ID,
    domain: { name: "Solvent", version: "1" },
    keys: createKeysDocument({ address: signer.address, validFrom: Number(OBSERVED_AT - 86400n) }),
    attestations: chain,
    zeroHash: ZERO_HASH,
  };
}

async function custodianStatementVector() {
  const signer = privateKeyToAccount(TEST_KEYS.custodian);
  const statement: CustodianStatement = {
    issuer: ISSUER_ID,
    custodian: "acme-trust",
    account: "omnibus-1",
    asset: "USD",
    amount: 100_000_000n,
    asOf: OBSERVED_AT - 600n,
    nonce: 42n,
  };
  return {
    description: "SPEC §9 custodian statement, signed with a published TEST key",
    testPrivateKey: TEST_KEYS.custodian,
    signer: signer.address,
    domain: { name: "Solvent Custodian Statement", version: "1" },
    statement: custodianStatementToJson(statement),
    hashedIds: {
      issuer: keccak256(utf8(statement.issuer)),
      custodian: keccak256(utf8(statement.custodian)),
      account: keccak256(utf8(statement.account)),
      asset: keccak256(utf8(statement.asset)),
    },
    digest: custodianStatementDigest(statement),
    signature: await signCustodianStatement(statement, signer),
  };
}

async function ownershipProofVector() {
  const signer = privateKeyToAccount(TEST_KEYS.holder);
  const claim = { issuerId: ISSUER_ID, address: signer.address, chainId: 1 };
  return {
    description: "SPEC §8 address-ownership proof (EIP-191 personal_sign), signed with a published TEST key",
    testPrivateKey: TEST_KEYS.holder,
    claim,
    message: ownershipMessage(claim),
    messageHash: ownershipMessageHash(claim),
    signature: await signOwnership(signer, claim),
  };
}

/**
 * SPEC §12: receipts signed by a receipts key of the issuer, and dispute
 * bundles against a signed 5-user ledger in commitment order that omits one
 * receipt holder and lists another with less than its receipt; an honest
 * answer is not a dispute.
 */
async function receiptsAndDisputesVector() {
  const publisher = privateKeyToAccount(TEST_KEYS.attestation);
  const receipts = privateKeyToAccount(TEST_KEYS.receipts);
  const asOf = OBSERVED_AT - 3600n;
  const assets = ASSET_SETS[3]!;
  const users = vectorUsers(5, 3).sort((a, b) =>
    compareCommitments(hexToBytes(a.commitment, "a"), hexToBytes(b.commitment, "b")),
  );
  const shrunk = users[2]!;
  const listed = users.map((u) =>
    u === shrunk ? { ...u, balances: u.balances.map((b, i) => (i === 0 ? "1" : b)) } : u,
  );
  const tree = buildLiabilityTree({
    assets,
    rows: listed.map((u) => ({ commitment: u.commitment, balances: u.balances.map(BigInt) })),
  });
  const ledger = {
    id: "lg_vector",
    asOf: asOf.toString(),
    leafCount: "5",
    order: "commitment",
    scheme: "sum-sha256-v1",
    assets,
    rootSums: tree.rootSums.map(String),
  };
  const report = JSON.stringify({ version: 1, issuer: ISSUER_ID, liabilities: { root: tree.root, ledger } });
  const attestation = nextAttestation(null, {
    issuer: issuerKey(ISSUER_ID),
    observedAt: OBSERVED_AT,
    validUntil: OBSERVED_AT + TTL_SECONDS,
    reservesUsd: LIABILITIES_USD,
    onchainReservesUsd: LIABILITIES_USD,
    offchainReservesUsd: 0n,
    liabilitiesUsd: LIABILITIES_USD,
    ratioBps: 10000,
    reservesRoot: ZERO_HASH,
    liabilitiesRoot: tree.root,
    flags: 0n,
    reportHash: keccak256(utf8(report)),
  });
  const attested = {
    attestation: attestationToJson(attestation),
    signature: await signAttestation(attestation, publisher),
  };
  const keys = {
    keys: [
      { address: publisher.address.toLowerCase(), validFrom: Number(OBSERVED_AT - 86400n), validUntil: null },
      {
        address: receipts.address.toLowerCase(),
        validFrom: Number(OBSERVED_AT - 86400n),
        validUntil: null,
        role: "receipts",
        issuer: ISSUER_ID,
      },
    ],
  };
  const omittedSalt = fixedBytes("solvent vector receipt: omitted user salt", 16);
  const omitted = {
    userId: "omitted-user",
    salt: bytesToHex(omittedSalt),
    commitment: bytesToHex(userCommitment(omittedSalt, "omitted-user")),
    balances: ["250", "0", "7"],
  };
  const receiptOf = async (u: { commitment: Hex; balances: string[] }) => {
    const receipt = { issuer: ISSUER_ID, commitment: u.commitment, assets, balances: u.balances.map(BigInt), asOf };
    return { digest: receiptDigest(receipt), signed: await signReceipt(receipt, receipts) };
  };
  const bundle = async (u: { commitment: Hex; balances: string[] }, expect: unknown) => {
    const { digest, signed } = await receiptOf(u);
    const index = listed.findIndex((l) => l.commitment === u.commitment);
    const proof = index < 0 ? buildNonInclusionProof(tree, u.commitment) : tree.proof(index);
    return {
      receiptDigest: digest,
      expect,
      bundle: { version: 1, receipt: signed, proof, attestation: attested, report },
    };
  };
  return {
    description: "SPEC §12 balance receipts and dispute bundles, signed with published TEST keys",
    testPrivateKeys: { attestations: TEST_KEYS.attestation, receipts: TEST_KEYS.receipts },
    domain: { name: "Solvent Balance Receipt", version: "1" },
    assetsHash: receiptAssetsHash(assets),
    assetsJoined: assets.join(","),
    keys,
    disputes: [
      { why: "the ledger omits a receipt holder", ...(await bundle(omitted, { valid: true, kind: "absent" })) },
      {
        why: "the ledger lists a receipt holder with less USD",
        ...(await bundle(shrunk, { valid: true, kind: "balance-differs" })),
      },
      {
        why: "an honest answer: the ledger shows the receipt's balances",
        ...(await bundle(users[0]!, { valid: false, failedStep: "answer" })),
      },
    ],
  };
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Every vector file, keyed by its path under docs/test-vectors/. */
export async function generateVectors(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const trees = new Map<string, ReturnType<typeof sumTreeVector>>();
  for (const n of [1, 2, 3, 5, 1000]) {
    for (const k of [1, 3]) {
      const vector = sumTreeVector(n, k);
      const name = `sumtree-${n}-users-${k}-assets.json`;
      trees.set(name, vector);
      files.set(name, json(vector));
    }
  }
  files.set("ledger-commitment-order.json", json(commitmentOrderVector()));
  files.set("reserves-tree.json", json(reservesTreeVector()));
  for (const n of [1, 5]) files.set(`non-inclusion-${n}-users-3-assets.json`, json(nonInclusionVector(n, 3)));

  // The attestation chain attests the 5-user, 3-asset snapshot.
  const five = trees.get("sumtree-5-users-3-assets.json")!;
  const chain = await attestationChainVector(five.root, LIABILITIES_USD);
  files.set("attestation-chain.json", json(chain));
  files.set("custodian-statement.json", json(await custodianStatementVector()));
  files.set("ownership-proof.json", json(await ownershipProofVector()));
  files.set("receipts-and-disputes.json", json(await receiptsAndDisputesVector()));

  // Ready-made inputs for `solvent verify` (README): user-2 of the 5-user tree.
  const proofEntry = five.proofs.find((p) => p.userId === "user-2")!;
  const latest = chain.attestations[2]!;
  files.set("cli/proof.json", json(proofEntry.proof));
  files.set("cli/user.json", json({ userId: proofEntry.userId, salt: proofEntry.salt }));
  files.set(
    "cli/attestation.json",
    json({ attestation: latest.attestation, signature: latest.signature, digest: latest.digest, signer: chain.signer }),
  );
  files.set("cli/keys.json", json(chain.keys));
  for (const [name, vector] of privateVectors()) files.set(name, json(vector));
  return files;
}
