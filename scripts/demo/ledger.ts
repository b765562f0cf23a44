/** The demo exchange's user ledger: `count` users over [USD, ETH] with fresh random salts. */
import { bytesToHex } from "../../core/bytes.js";
import { formatUnits } from "../../core/numbers.js";

export interface DemoUser {
  userId: string;
  salt: `0x${string}`;
  balances: { USD: string; ETH: string };
}

function randomBelow(limit: bigint): bigint {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v % limit;
}

/** `count` users `user-NNNN@{domain}`; `ethStep` rounds ETH balances down to a multiple of it (a private ledger's unit). */
export function demoUsers(count: number, domain = "demo.example", ethStep = 1n): DemoUser[] {
  return Array.from({ length: count }, (_, i) => ({
    userId: `user-${String(i + 1).padStart(4, "0")}@${domain}`,
    salt: bytesToHex(crypto.getRandomValues(new Uint8Array(16))),
    balances: {
      // up to $2,000.00 (USD has 6 decimals) and up to 0.5 ETH; some users hold none of one
      USD: (i % 9 === 4 ? 0n : randomBelow(2_000_000_000n)).toString(),
      ETH: (i % 7 === 5 ? 0n : (randomBelow(5n * 10n ** 17n) / ethStep) * ethStep).toString(),
    },
  }));
}

/** The demo ledger assets' decimals (scripts/demo/world.ts): `balances` are base units of these. */
export const DEMO_DECIMALS = { USD: 6, ETH: 18 } as const;

/** CSV in the upload format `userId,salt,USD,ETH`, amounts in whole units as people write them (`1500.25`). */
export function demoLedgerCsv(users: DemoUser[]): string {
  const usd = (u: DemoUser) => formatUnits(BigInt(u.balances.USD), DEMO_DECIMALS.USD, { group: false });
  const eth = (u: DemoUser) => formatUnits(BigInt(u.balances.ETH), DEMO_DECIMALS.ETH, { group: false });
  return `userId,salt,USD,ETH\n${users.map((u) => `${u.userId},${u.salt},${usd(u)},${eth(u)}`).join("\n")}\n`;
}
