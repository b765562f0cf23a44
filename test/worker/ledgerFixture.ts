/** The issuer and environment the ledger test files share: one ledger issuer, and a queue whose sends the test captures. */
import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { type Attestation, attestationDigest, issuerKey, nextAttestation } from "../../core/attestation.js";
import { bytesToHex, type Hex } from "../../core/bytes.js";
import { parseConfig } from "../../core/config/parseConfig.js";
import type { SolventConfig } from "../../core/config/schema.js";
import { type AmountUnits, formatUnits } from "../../core/numbers.js";
import { adminAuth } from "../../worker/api/adminAuth.js";
import type { AppEnv } from "../../worker/api/context.js";
import { handleError } from "../../worker/api/errors.js";
import { publicCors } from "../../worker/api/openapi.js";
import type { LedgerBuildMessage } from "../../worker/ledger/queueConsumer.js";
import { insertAttestation } from "../../worker/storage/attestationStore.js";

export const ISSUER = "acme";
export const ASSETS = ["USD", "BTC"];
/** The configured decimals of ASSETS: uploads write amounts as whole-unit decimals of these unless they say units=base. */
export const DECIMALS = [6, 8];
export const TOKEN = "test-admin-token-of-24-plus-chars";

export const ledgerConfig = parseConfig({
  version: 1,
  chains: [{ chainId: 1, name: "Ethereum", rpcUrls: ["http://127.0.0.1:1"] }],
  issuers: [
    {
      id: ISSUER,
      name: "Acme",
      assets: [
        { id: "USD", decimals: 6, pegCurrency: true, prices: [{ kind: "fixed", priceUsd: "1000000000000000000" }] },
        {
          id: "BTC",
          decimals: 8,
          prices: [
            { kind: "chainlink", chainId: 1, feed: "0x8fFfFfd4AfB6115b954Bd326cbe7B4BA576818f6", maxAgeSeconds: 90000 },
          ],
        },
      ],
      liabilities: { ledger: { assets: ASSETS } },
      reserves: {},
    },
  ],
});

/** The real D1 and R2 of the test file, with LEDGER_QUEUE sends pushed onto `sent` for the test to deliver. */
export function ledgerTestEnv(sent: LedgerBuildMessage[]) {
  const base = env as unknown as { DB: D1Database; BUCKET: R2Bucket };
  return {
    DB: base.DB,
    BUCKET: base.BUCKET,
    ADMIN_TOKEN: TOKEN,
    LEDGER_QUEUE: { send: async (body: LedgerBuildMessage) => void sent.push(body) },
  };
}

/** Delivers `first` and everything it fans out through `deliver`, until the queue is empty; returns every delivered message. */
export async function drainQueue(
  first: LedgerBuildMessage[],
  deliver: (m: LedgerBuildMessage) => Promise<LedgerBuildMessage[]>,
): Promise<LedgerBuildMessage[]> {
  const delivered: LedgerBuildMessage[] = [];
  let pending = first;
  while (pending.length > 0) {
    const next: LedgerBuildMessage[] = [];
    for (const m of pending) {
      delivered.push(m);
      next.push(...(await deliver(m)));
    }
    pending = next;
  }
  return delivered;
}

/** An app serving `routes` with the ledger issuer's configuration, admin auth where the admin sub-app mounts it, and the API's error handler. */
export function ledgerApp(...routes: Hono<AppEnv>[]): Hono<AppEnv> {
  return ledgerAppWith(ledgerConfig, ...routes);
}

/** As ledgerApp, with another configuration (e.g. a private ledger's). */
export function ledgerAppWith(config: SolventConfig, ...routes: Hono<AppEnv>[]): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.onError(handleError);
  app.use("*", async (c, next) => {
    c.set("config", config);
    await next();
  });
  app.use("*", publicCors);
  app.use("/v1/admin/issuers/:issuer/*", adminAuth);
  for (const r of routes) app.route("/", r);
  return app;
}

export interface LedgerUser {
  userId: string;
  salt: Uint8Array;
  balances: bigint[];
}

/** `n` users tagged `tag`: some non-ASCII ids, salts of 16-32 bytes, zero and 2^66-scale balances. */
export function makeLedgerUsers(n: number, tag: string): LedgerUser[] {
  return Array.from({ length: n }, (_, i) => ({
    userId: `${tag}-user-${i}${i % 7 === 0 ? "-zoë" : ""}`,
    salt: crypto.getRandomValues(new Uint8Array(16 + (i % 17))),
    balances: [BigInt(i * 1_000_003 + 17), i % 3 === 0 ? 0n : BigInt(i) * 10n ** 20n],
  }));
}

/** A user's balance (base units) as the upload writes it: a whole-unit decimal by default. */
const written = (units: AmountUnits) => (b: bigint, asset: number) =>
  units === "base" ? String(b) : formatUnits(b, DECIMALS[asset]!, { group: false });

/** The users as an upload CSV (header included), amounts in `units`. */
export function ledgerCsv(users: LedgerUser[], units: AmountUnits = "decimal"): string {
  const amount = written(units);
  return `userId,salt,${ASSETS.join(",")}\n${users.map((u) => `${u.userId},${bytesToHex(u.salt)},${u.balances.map(amount).join(",")}`).join("\n")}\n`;
}

/** The users as upload NDJSON, amounts in `units`. */
export function ledgerNdjson(users: LedgerUser[], units: AmountUnits = "decimal"): string {
  const amount = written(units);
  return users
    .map((u) =>
      JSON.stringify({
        userId: u.userId,
        salt: bytesToHex(u.salt),
        balances: Object.fromEntries(ASSETS.map((a, i) => [a, amount(u.balances[i]!, i)])),
      }),
    )
    .join("\n");
}

/**
 * Publishes the next attestation of ISSUER naming `ledgerId` and its root, on
 * `db`'s chain. Placeholder signature and report: the ledger tests read
 * proofs by sequence, not signatures.
 */
export function ledgerPublisher(db: D1Database): (ledgerId: string, root: Hex) => Promise<bigint> {
  let previous: Attestation | null = null;
  return async (ledgerId, root) => {
    const zero = `0x${"00".repeat(32)}` as Hex;
    const a = nextAttestation(previous, {
      issuer: issuerKey(ISSUER),
      observedAt: 1_700_000_000n + (previous?.sequence ?? 0n) * 60n,
      validUntil: 1_800_000_000n,
      reservesUsd: 1n,
      onchainReservesUsd: 1n,
      offchainReservesUsd: 0n,
      liabilitiesUsd: 1n,
      ratioBps: 10000,
      reservesRoot: zero,
      liabilitiesRoot: root,
      flags: 0n,
      reportHash: zero,
    });
    await insertAttestation(db, {
      issuerId: ISSUER,
      attestation: a,
      digest: attestationDigest(a),
      signature: `0x${"11".repeat(65)}`,
      signer: `0x${"22".repeat(20)}`,
      reportKey: `reports/${a.sequence}`,
      reportHash: zero,
      ledgerId,
      publishedAt: 1_700_000_000,
    });
    previous = a;
    return a.sequence;
  };
}
