/**
 * The page's receipt comparison (page/receiptCheck.ts) without a browser:
 * real receipts signed by a receipts key, a real ledger tree in commitment
 * order, a signed attestation of its exact report, and the publisher's two
 * kinds of answer built by the core.
 */
import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { bytesToHex, type Hex } from "../../core/bytes.js";
import { checkDispute } from "../../core/dispute.js";
import {
  buildLiabilityTree,
  buildNonInclusionProof,
  compareCommitments,
  userCommitment,
} from "../../core/liabilities/index.js";
import { signReceipt } from "../../core/receipt.js";
import type { AttestationAnswer } from "../../page/api.js";
import { compareReceipt, type ReceiptInput } from "../../page/receiptCheck.js";
import { attestLedger } from "../support/ledgerAttestation.js";

const RECEIPTS = privateKeyToAccount("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
const PUBLISHER = privateKeyToAccount("0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a");
const STRANGER = privateKeyToAccount("0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6");
const ISSUER = "acme";
const AS_OF = 1_764_748_800n;
const ASSETS = ["USD", "ETH"];
const KEYS = {
  keys: [
    { address: PUBLISHER.address.toLowerCase(), validFrom: 0, validUntil: null },
    { address: RECEIPTS.address.toLowerCase(), validFrom: 0, validUntil: null, role: "receipts", issuer: ISSUER },
  ],
};

const salt = (i: number) => new Uint8Array(16).fill(i + 1);
const people = ["alice", "bob", "carol", "dave"].map((id, i) => ({
  id,
  salt: salt(i),
  commitment: userCommitment(salt(i), id),
  balances: [BigInt(1_500_000_000 + i), 2n * 10n ** 17n],
}));

async function snapshot() {
  const rows = people
    .map((p) => ({ commitment: p.commitment, balances: p.balances }))
    .sort((a, b) => compareCommitments(a.commitment, b.commitment));
  const tree = buildLiabilityTree({ assets: ASSETS, rows });
  const ledger = {
    id: "lg_page",
    asOf: String(AS_OF),
    leafCount: String(rows.length),
    order: "commitment",
    scheme: "sum-sha256-v1",
    assets: ASSETS,
    rootSums: tree.rootSums.map(String),
  };
  const report = new TextEncoder().encode(
    JSON.stringify({
      version: 1,
      issuer: ISSUER,
      assets: [
        { id: "USD", decimals: "6" },
        { id: "ETH", decimals: "18" },
      ],
      liabilities: { root: tree.root, ledger },
    }),
  );
  const signed = await attestLedger(PUBLISHER, ISSUER, tree.root, report);
  const attestation = {
    ...signed,
    digest: "0x",
    signer: PUBLISHER.address,
    reportUrl: "",
  } as unknown as AttestationAnswer;
  const indexOf = (c: Uint8Array) => rows.findIndex((r) => compareCommitments(r.commitment, c) === 0);
  const answerFor = (c: Uint8Array): ReceiptInput["answer"] => {
    const i = indexOf(c);
    return i < 0
      ? { kind: "absent", proof: buildNonInclusionProof(tree, c) }
      : { kind: "included", proof: tree.proof(i) };
  };
  return { report, attestation, answerFor };
}

async function receiptText(
  commitment: Uint8Array,
  balances: bigint[],
  options: { asOf?: bigint; signer?: typeof RECEIPTS; issuer?: string } = {},
): Promise<string> {
  const signed = await signReceipt(
    {
      issuer: options.issuer ?? ISSUER,
      commitment: bytesToHex(commitment),
      assets: ASSETS,
      balances,
      asOf: options.asOf ?? AS_OF,
    },
    options.signer ?? RECEIPTS,
  );
  return JSON.stringify(signed);
}

async function compare(pasted: string, commitment: Uint8Array, extra: Partial<ReceiptInput> = {}) {
  const s = await snapshot();
  return compareReceipt({
    pasted,
    issuerId: ISSUER,
    commitment: bytesToHex(commitment) as Hex,
    keys: KEYS,
    attestation: s.attestation,
    report: s.report,
    answer: s.answerFor(commitment),
    ...extra,
  });
}

describe("comparing a pasted receipt with the snapshot", () => {
  it("says it matches when the snapshot lists exactly the signed balances", async () => {
    const bob = people[1]!;
    const outcome = await compare(await receiptText(bob.commitment, bob.balances), bob.commitment);
    expect(outcome.kind).toBe("matches");
    expect(outcome.headline).toBe(
      "Your receipt matches this snapshot: it lists you with exactly the balances the issuer signed (1,500.000001 USD and 0.2 ETH).",
    );
    expect(outcome.step.status).toBe("pass");
    expect(outcome.bundle).toBeUndefined();
  });

  it("gives both figures when the balance in the snapshot differs, and a bundle the core's dispute check accepts", async () => {
    const carol = people[2]!;
    const outcome = await compare(
      await receiptText(carol.commitment, [2_000_000_000n, carol.balances[1]!]),
      carol.commitment,
    );
    expect(outcome.kind).toBe("differs");
    expect(outcome.headline).toBe(
      "Your balance in this snapshot differs from your receipt. USD: your receipt says 2,000 USD, the snapshot says 1,500.000002 USD.",
    );
    expect(outcome.advice).toContain("solvent dispute make");
    expect((await checkDispute({ bundle: outcome.bundle, keys: KEYS, issuer: ISSUER })).valid).toBe(true);
  });

  it("says the user is provably not in the snapshot though the receipt says they hold something", async () => {
    const eve = userCommitment(salt(9), "eve");
    const outcome = await compare(await receiptText(eve, [750_000_000n, 10n ** 18n]), eve);
    expect(outcome.kind).toBe("absent");
    expect(outcome.headline).toBe(
      "You are provably not in this snapshot, though your receipt says you hold 750 USD and 1 ETH.",
    );
    expect(outcome.advice).toContain("solvent dispute make");
    const dispute = await checkDispute({ bundle: outcome.bundle, keys: KEYS, issuer: ISSUER });
    expect(dispute.valid && dispute.dispute.kind).toBe("absent");
  });

  it("says the receipt is for another asOf, and points at the attestation of that asOf when there is one", async () => {
    const alice = people[0]!;
    const older = AS_OF - 86_400n;
    const outcome = await compare(
      await receiptText(alice.commitment, alice.balances, { asOf: older }),
      alice.commitment,
      {
        attestationOfAsOf: async (asOf) => (asOf === older ? "7" : null),
      },
    );
    expect(outcome.kind).toBe("other-asof");
    expect(outcome.headline).toBe(
      "This receipt is for another asOf: it is for the ledger as of 2025-12-02T08:00:00.000Z, this snapshot's ledger is as of 2025-12-03T08:00:00.000Z.",
    );
    expect(outcome.otherSequence).toBe("7");
    expect(outcome.advice).toContain("Attestation #7");
  });

  it("refuses a receipt that no receipts key of the issuer signed, or that was altered, naming why", async () => {
    const bob = people[1]!;
    const forged = await compare(await receiptText(bob.commitment, bob.balances, { signer: STRANGER }), bob.commitment);
    expect([forged.kind, forged.step.status]).toEqual(["invalid", "fail"]);
    expect(forged.step.detail).toMatch(/is not in the keys document/);
    // The publisher's own attestation key does not sign receipts (SPEC §7: a key signs only for its role).
    const wrongRole = await compare(
      await receiptText(bob.commitment, bob.balances, { signer: PUBLISHER }),
      bob.commitment,
    );
    expect(wrongRole.step.detail).toMatch(/attestations key/);
    const altered = JSON.parse(await receiptText(bob.commitment, bob.balances)) as { receipt: { balances: string[] } };
    altered.receipt.balances[0] = "9999999999";
    expect((await compare(JSON.stringify(altered), bob.commitment)).kind).toBe("invalid");
    expect((await compare("{ not json", bob.commitment)).headline).toBe("The receipt you pasted cannot be read.");
  });

  it("says when the receipt is for another user, another issuer, or cannot be compared", async () => {
    const [alice, bob] = [people[0]!, people[1]!];
    const other = await compare(await receiptText(bob.commitment, bob.balances), alice.commitment);
    expect(other.kind).toBe("other-commitment");
    expect(other.step.detail).toContain(bytesToHex(bob.commitment));
    const otherIssuer = await compare(
      await receiptText(bob.commitment, bob.balances, { issuer: "globex" }),
      bob.commitment,
      {
        keys: {
          keys: [
            ...KEYS.keys,
            {
              address: RECEIPTS.address.toLowerCase(),
              validFrom: 0,
              validUntil: null,
              role: "receipts",
              issuer: "globex",
            },
          ],
        },
      },
    );
    expect([otherIssuer.kind, otherIssuer.headline]).toEqual([
      "invalid",
      'The receipt is for issuer "globex", not "acme".',
    ]);
    const unavailable = await compare(await receiptText(bob.commitment, bob.balances), bob.commitment, {
      answer: { kind: "unavailable", reason: "the publisher did not answer" },
    });
    expect([unavailable.kind, unavailable.step.status]).toEqual(["not-compared", "note"]);
  });
});
