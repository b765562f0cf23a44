/** The issuer and environment the ledger test files share: one ledger issuer, and a queue whose sends the test captures. */
import { env } from "cloudflare:workers";
import { parseConfig } from "../../core/config/parseConfig.js";
import type { LedgerBuildMessage } from "../../worker/ledger/queueConsumer.js";

export const ISSUER = "acme";
export const ASSETS = ["USD", "BTC"];
export const TOKEN = "test-admin-token";

export const ledgerConfig = parseConfig({
  version: 1,
  chains: [{ chainId: 1, name: "Ethereum", rpcUrls: ["http://127.0.0.1:1"] }],
  issuers: [
    {
      id: ISSUER,
      name: "Acme",
      assets: [
        { id: "USD", decimals: 6, pegCurrency: true, prices: [{ kind: "fixed", priceUsd: "1000000000000000000" }] },
        { id: "BTC", decimals: 8, prices: [{ kind: "chainlink", chainId: 1, feed: "0x8fFfFfd4AfB6115b954Bd326cbe7B4BA576818f6", maxAgeSeconds: 90000 }] },
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
