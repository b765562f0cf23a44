/**
 * Watches a running demo publisher (`npm start`) and checks that lenders on
 * chain and lenders over HTTP see the same truth about expiry:
 *
 * - the oracle's copy of each relayed issuer never expires while a fresher,
 *   still valid attestation is published;
 * - the demo's GatedLendingMarket never reports EXPIRED while `GET …/gate`
 *   under the market's own policy allows.
 *
 *   npx tsx scripts/checkRelayFreshness.ts --publisher http://127.0.0.1:8787 --minutes 10 --every 5
 *
 * Prints one JSON line per poll and a summary; exits 1 when a check failed,
 * 2 when the publisher or the chain cannot be used.
 */
import { parseArgs } from "node:util";
import { type Address, createPublicClient, getAddress, http, parseAbi } from "viem";
import { issuerKey } from "../core/attestation.js";
import { solvencyOracleAbi } from "../worker/relayer/oracleAbi.js";
import { DEMO_MARKET_POLICY } from "./demo/world.js";

const EXPIRED_BIT = 1n << 1n;
const marketAbi = parseAbi(["function frozenReasons() view returns (uint256)"]);

const { values } = parseArgs({
  options: {
    publisher: { type: "string", default: "http://127.0.0.1:8787" },
    minutes: { type: "string", default: "10" },
    every: { type: "string", default: "5" },
  },
});
const base = values.publisher!.replace(/\/$/, "");
const minutes = Number(values.minutes);
const everySeconds = Number(values.every);
if (!(minutes > 0) || !(everySeconds > 0)) {
  console.error("--minutes and --every must be positive numbers (minutes to watch, seconds between polls)");
  process.exit(2);
}

async function getJson<T>(path: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}${path}`);
  return { status: res.status, body: (await res.json()) as T };
}

const contracts = await getJson<{ rpcUrl: string; oracle?: Address; market?: Address }>("/demo/contracts.json").catch(
  (e: Error) => {
    console.error(
      `${base}/demo/contracts.json could not be read (${e.message}); is the demo publisher running (npm start)?`,
    );
    process.exit(2);
  },
);
if (contracts.status !== 200 || !contracts.body.oracle || !contracts.body.market) {
  console.error(
    `${base}/demo/contracts.json has no oracle and market (status ${contracts.status}); this checks the npm start demo only`,
  );
  process.exit(2);
}
const { rpcUrl } = contracts.body;
const oracle = getAddress(contracts.body.oracle);
const market = getAddress(contracts.body.market);
const client = createPublicClient({ transport: http(rpcUrl) });
const issuers = ["demo", "demo-stable"];
const gateQuery = `?minRatioBps=${DEMO_MARKET_POLICY.minRatioBps}&maxAgeSeconds=${DEMO_MARKET_POLICY.maxAgeSeconds}&denyFlags=${DEMO_MARKET_POLICY.denyFlags}`;

const summary = {
  polls: 0,
  expiredWhileFresher: 0,
  frozenExpiredWhileGateAllows: 0,
  frozenOtherWhileGateAllows: 0,
  minRemainingSeconds: {} as Record<string, number>,
  onchainSequencesSeen: {} as Record<string, Set<string>>,
};

async function poll(): Promise<void> {
  const wall = BigInt(Math.floor(Date.now() / 1000));
  const head = await client.getBlock({ blockTag: "latest" });
  // The stricter of the two clocks: a copy past validUntil by either is expired for someone.
  const clock = head.timestamp > wall ? head.timestamp : wall;
  const line: Record<string, unknown> = {
    at: new Date(Number(wall) * 1000).toISOString(),
    chainTime: Number(head.timestamp),
  };
  for (const issuer of issuers) {
    const [latest, copy] = await Promise.all([
      getJson<{ attestation?: { sequence: string; validUntil: string } }>(`/v1/issuers/${issuer}/attestations/latest`),
      client.readContract({
        address: oracle,
        abi: solvencyOracleAbi,
        functionName: "latest",
        args: [issuerKey(issuer)],
      }),
    ]);
    const published = latest.body.attestation;
    const remaining = Number(copy.validUntil - clock);
    summary.onchainSequencesSeen[issuer] ??= new Set();
    summary.onchainSequencesSeen[issuer].add(copy.sequence.toString());
    if (copy.sequence > 0n)
      summary.minRemainingSeconds[issuer] = Math.min(summary.minRemainingSeconds[issuer] ?? Infinity, remaining);
    const fresher =
      published !== undefined && BigInt(published.sequence) > copy.sequence && BigInt(published.validUntil) >= clock;
    const expired = copy.sequence > 0n && copy.validUntil < clock;
    if (expired && fresher) summary.expiredWhileFresher++;
    line[issuer] = {
      published: published?.sequence ?? null,
      onchain: copy.sequence.toString(),
      remainingSeconds: copy.sequence > 0n ? remaining : null,
      expiredWhileFresher: expired && fresher,
    };
  }
  const [gate, frozen] = await Promise.all([
    getJson<{ allow: boolean; reasons: { code: string }[] }>(`/v1/issuers/demo/gate${gateQuery}`),
    client.readContract({ address: market, abi: marketAbi, functionName: "frozenReasons" }),
  ]);
  if (gate.body.allow && (frozen & EXPIRED_BIT) !== 0n) summary.frozenExpiredWhileGateAllows++;
  else if (gate.body.allow && frozen !== 0n) summary.frozenOtherWhileGateAllows++;
  line.market = {
    gateAllows: gate.body.allow,
    gateReasons: gate.body.reasons.map((r) => r.code),
    frozenReasons: Number(frozen),
  };
  summary.polls++;
  console.log(JSON.stringify(line));
}

const deadline = Date.now() + minutes * 60_000;
while (Date.now() < deadline) {
  try {
    await poll();
  } catch (e) {
    console.error(`poll failed: ${(e as Error).message}`);
  }
  await new Promise((r) => setTimeout(r, everySeconds * 1000));
}
const report = {
  ...summary,
  onchainSequencesSeen: Object.fromEntries(
    Object.entries(summary.onchainSequencesSeen).map(([k, v]) => [k, [...v].filter((s) => s !== "0").length]),
  ),
};
console.log(JSON.stringify({ summary: report }));
const failed = report.expiredWhileFresher > 0 || report.frozenExpiredWhileGateAllows > 0;
console.log(
  failed
    ? `FAIL: over ${minutes} min, ${report.expiredWhileFresher} polls saw an expired on-chain copy under a fresher attestation and ${report.frozenExpiredWhileGateAllows} saw the market frozen for EXPIRED while the gate allowed`
    : `PASS: over ${minutes} min (${report.polls} polls) no on-chain copy expired under a fresher attestation, and the market never froze for EXPIRED while the gate allowed`,
);
process.exit(failed ? 1 : 0);
