/**
 * Scenario replays (issue #6, scenarios/README.md): `npx tsx scripts/scenarios.ts [FILE…]`
 * runs the chosen scenarios/*.json (all of them without arguments) through
 * the real tick: one anvil and ONE `wrangler dev` for all of them, every
 * world deployed and every issuer configured first; then per scenario the
 * BEFORE state, a publish (tick 1), the AFTER state, a publish (tick 2), and
 * the checks of tick 2. Prints `PASS name` / `FAIL name: …` per scenario and
 * `N passed, M failed`; exits 0 only when all passed. Progress goes to stderr.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseUnits } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { parseConfig } from "../core/config/parseConfig.js";
import type { SolventConfigInput } from "../core/config/schema.js";
import {
  type CustodianStatement,
  custodianStatementToJson,
  signCustodianStatement,
} from "../core/custodianStatement.js";
import type { ReportJson } from "../core/report.js";
import { type AnvilInstance, startAnvil } from "./lib/anvil.js";
import { startWranglerDev, type WranglerDev } from "./lib/localWorker.js";
import { checkFlags, checkGate, checkReport, flagNames, type GateAnswer, summary } from "./scenarios/checks.js";
import { issuerConfigs, issuerId, WEBHOOK_SECRET_NAME } from "./scenarios/config.js";
import { loadScenario, type Scenario, ScenarioFileError, type ScenarioState } from "./scenarios/format.js";
import { type Receiver, startReceiver, webhookSignatureProblem } from "./scenarios/receiver.js";
import { applyChainState, type Chain, connectChain, deployWorld, type ScenarioWorld } from "./scenarios/world.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** The whole run may not take longer than this (a hung tool must not hang `npm test`). */
const RUN_TIMEOUT_MS = 20 * 60_000;
const HTTP_TIMEOUT_MS = 30_000;
const PUBLISH_TIMEOUT_MS = 180_000;

const log = (line: string) => process.stderr.write(`[scenarios] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class ScenarioFailure extends Error {}

interface Context {
  chain: Chain;
  dev: WranglerDev;
  receiver: Receiver;
  adminToken: string;
  webhookSecret: string;
}

async function scenarioFiles(args: string[]): Promise<string[]> {
  if (args.length > 0) return args.map((a) => resolve(a));
  const dir = join(ROOT, "scenarios");
  return (await readdir(dir))
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => join(dir, f));
}

async function http(
  ctx: Context,
  path: string,
  init: RequestInit & { timeoutMs?: number } = {},
): Promise<{ status: number; text: string }> {
  const res = await fetch(`${ctx.dev.base}${path}`, {
    ...init,
    signal: AbortSignal.timeout(init.timeoutMs ?? HTTP_TIMEOUT_MS),
  });
  return { status: res.status, text: await res.text() };
}

async function getJson<T>(ctx: Context, path: string): Promise<T> {
  const { status, text } = await http(ctx, path);
  if (status !== 200) throw new ScenarioFailure(`GET ${path} answered ${status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

let nonce = BigInt(Date.now());

/** Posts a phase's custodian statements and checks each answer against its expectStatus. */
async function postStatements(ctx: Context, world: ScenarioWorld, state: ScenarioState): Promise<void> {
  for (const [k, s] of state.statements.entries()) {
    const issuer = world.scenario.issuers.find((i) => i.id === s.issuer)!;
    const asset = issuer.assets.find((a) => a.id === s.asset);
    const decimals = asset?.token !== undefined ? world.tokens.get(asset.token)!.decimals : (asset?.decimals ?? 0);
    const id = issuerId(world.scenario.name, s.issuer);
    const statement: CustodianStatement = {
      issuer: id,
      custodian: s.custodian,
      account: s.account,
      asset: s.asset,
      amount: parseUnits(s.amount, decimals),
      asOf: BigInt(Math.floor(Date.now() / 1000)),
      nonce: ++nonce,
    };
    const body: Record<string, unknown> = { statement: custodianStatementToJson(statement) };
    if (s.sign === "invalid") body.signature = `0x${"11".repeat(64)}1b`;
    else if (typeof s.sign === "object")
      body.signature = await signCustodianStatement(statement, world.accounts.get(s.sign.by)!);
    const res = await http(ctx, `/v1/admin/issuers/${id}/statements`, {
      method: "POST",
      headers: { authorization: `Bearer ${ctx.adminToken}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const want = s.expectStatus;
    const ok =
      typeof want === "number"
        ? res.status === want
        : want === "2xx"
          ? res.status >= 200 && res.status < 300
          : res.status >= 400 && res.status < 500;
    const code = /"code":"([A-Z_]+)"/.exec(res.text)?.[1];
    const reason = /"reason":"([A-Z_]+)"/.exec(res.text)?.[1];
    log(
      `  statement ${k} (${s.custodian}/${s.account}, ${s.amount} ${s.asset}, sign ${typeof s.sign === "object" ? `by ${s.sign.by}` : s.sign}) → ${res.status}${code ? ` ${code}` : ""}${reason ? ` ${reason}` : ""}`,
    );
    if (!ok)
      throw new ScenarioFailure(`statement ${k} answered ${res.status} (expected ${want}): ${res.text.slice(0, 200)}`);
  }
}

interface Published {
  sequence: string;
  report: ReportJson;
}

/** One tick of one issuer through the admin publish route (the cron's path), then its report. */
async function publish(ctx: Context, id: string): Promise<Published> {
  const res = await http(ctx, `/v1/admin/issuers/${id}/publish`, {
    method: "POST",
    headers: { authorization: `Bearer ${ctx.adminToken}` },
    timeoutMs: PUBLISH_TIMEOUT_MS,
  });
  if (res.status !== 201)
    throw new ScenarioFailure(`publishing ${id} answered ${res.status}: ${res.text.slice(0, 300)}`);
  const { sequence } = JSON.parse(res.text) as { sequence: string };
  const latest = await getJson<{ attestation: { sequence: string } }>(ctx, `/v1/issuers/${id}/attestations/latest`);
  if (latest.attestation.sequence !== sequence)
    throw new ScenarioFailure(
      `${id}: latest attestation is ${latest.attestation.sequence}, just published ${sequence}`,
    );
  return { sequence, report: await getJson<ReportJson>(ctx, `/v1/issuers/${id}/reports/${sequence}`) };
}

async function tick(
  ctx: Context,
  world: ScenarioWorld,
  state: ScenarioState,
  label: string,
): Promise<Map<string, Published>> {
  await applyChainState(ctx.chain, world, state);
  await postStatements(ctx, world, state);
  const out = new Map<string, Published>();
  for (const issuer of world.scenario.issuers) {
    const id = issuerId(world.scenario.name, issuer.id);
    const published = await publish(ctx, id);
    log(`  ${label}: ${summary(id, published.report)} (#${published.sequence})`);
    out.set(issuer.id, published);
  }
  return out;
}

/** Waits (bounded) for each expected alert at the receiver and checks its HMAC; also that the Worker lists it. */
async function checkAlerts(
  ctx: Context,
  world: ScenarioWorld,
  local: string,
  sequence: string,
  since: number,
): Promise<string[]> {
  const expects = world.scenario.expect[local]?.alerts ?? [];
  const id = issuerId(world.scenario.name, local);
  const out: string[] = [];
  for (const want of expects) {
    const deadline = since + want.withinSeconds * 1000;
    const what = `${want.event}${want.flag ? ` ${want.flag}` : ""}`;
    let found: { id: string } | undefined;
    let problem: string | null = null;
    while (!found && Date.now() < deadline) {
      for (const hook of ctx.receiver.received) {
        if (hook.path !== `/hook/${id}` || hook.at < since) continue;
        let payload: {
          id?: string;
          issuer?: string;
          event?: string;
          sequence?: string | null;
          details?: { flag?: unknown };
        };
        try {
          payload = JSON.parse(hook.body) as typeof payload;
        } catch {
          continue;
        }
        if (payload.issuer !== id || payload.event !== want.event || (want.flag && payload.details?.flag !== want.flag))
          continue;
        problem = webhookSignatureProblem(hook, ctx.webhookSecret);
        if (payload.sequence !== sequence) problem = `its sequence is ${payload.sequence}, not ${sequence}`;
        if (problem === null && payload.id) found = { id: payload.id };
      }
      if (!found) await sleep(500);
    }
    if (!found) {
      out.push(
        problem
          ? `alert ${what} arrived but ${problem}`
          : `alert ${what} did not reach the webhook within ${want.withinSeconds} s`,
      );
      continue;
    }
    log(
      `  alert ${what} reached the receiver ${((Date.now() - since) / 1000).toFixed(1)} s after the tick, HMAC verified`,
    );
    const listed = await getJson<{ alerts: { id: string; event: string }[] }>(ctx, `/v1/issuers/${id}/alerts`);
    if (!listed.alerts.some((a) => a.id === found.id))
      out.push(`alert ${found.id} is not listed at /v1/issuers/${id}/alerts`);
  }
  return out;
}

async function runScenario(ctx: Context, world: ScenarioWorld): Promise<{ ok: boolean; line: string }> {
  const s = world.scenario;
  const seen: string[] = [];
  try {
    log(`${s.name}: BEFORE`);
    const first = await tick(ctx, world, s.before, "tick 1");
    const problems: string[] = [];
    for (const [local, e] of Object.entries(s.expectBefore)) {
      const report = first.get(local)!.report;
      problems.push(...checkFlags(flagNames(report), e.flagsSet, e.flagsNotSet).map((p) => `${local} tick 1: ${p}`));
    }
    log(`${s.name}: AFTER`);
    const since = Date.now();
    const second = await tick(ctx, world, s.after, "tick 2");
    for (const [local, published] of second) seen.push(summary(issuerId(s.name, local), published.report));
    for (const [local, e] of Object.entries(s.expect)) {
      const { report, sequence } = second.get(local)!;
      problems.push(...checkReport(report, e, world, ctx.chain.chainId).map((p) => `${local}: ${p}`));
      if (e.gate) {
        const params = new URLSearchParams();
        for (const [k, v] of Object.entries(e.gate.query)) params.set(k, String(v));
        const answer = await getJson<GateAnswer>(ctx, `/v1/issuers/${issuerId(s.name, local)}/gate?${params}`);
        log(
          `  gate ${issuerId(s.name, local)}?${params}: allow=${answer.allow} ${answer.reasons.map((r) => r.flag ?? r.code).join(",")}`,
        );
        problems.push(...checkGate(answer, e.gate).map((p) => `${local}: ${p}`));
      }
      problems.push(...(await checkAlerts(ctx, world, local, sequence, since)).map((p) => `${local}: ${p}`));
    }
    const tail = ` [${seen.join("; ")}]`;
    return problems.length === 0
      ? { ok: true, line: `PASS ${s.name}${tail}` }
      : { ok: false, line: `FAIL ${s.name}: ${problems.join("; ")}${tail}` };
  } catch (e) {
    const message =
      e instanceof ScenarioFailure
        ? e.message
        : e instanceof Error
          ? `${e.name}: ${e.message.split("\n")[0]}`
          : String(e);
    return { ok: false, line: `FAIL ${s.name}: ${message}${seen.length ? ` [${seen.join("; ")}]` : ""}` };
  }
}

async function main(): Promise<number> {
  const files = await scenarioFiles(process.argv.slice(2));
  if (files.length === 0) {
    console.error("no scenario files");
    return 2;
  }
  const scenarios: Scenario[] = [];
  const errors: string[] = [];
  for (const file of files) {
    try {
      scenarios.push(await loadScenario(file));
    } catch (e) {
      errors.push(e instanceof ScenarioFileError ? e.message : `${file}: ${(e as Error).message}`);
    }
  }
  const dupNames = scenarios.map((s) => s.name).filter((n, i, all) => all.indexOf(n) !== i);
  if (dupNames.length) errors.push(`scenario ${dupNames.join(", ")} chosen twice`);
  if (errors.length > 0) {
    console.error(errors.join("\n"));
    return 2;
  }

  const work = await mkdtemp(join(tmpdir(), "solvent-scenarios-"));
  let anvil: AnvilInstance | undefined;
  let receiver: Receiver | undefined;
  let dev: WranglerDev | undefined;
  const cleanup = async () => {
    await dev?.stop().catch(() => undefined);
    await anvil?.stop().catch(() => undefined);
    await receiver?.close().catch(() => undefined);
    await rm(work, { recursive: true, force: true }).catch(() => undefined);
  };
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: stopping`);
    void cleanup().finally(() => process.exit(130));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const watchdog = setTimeout(() => {
    log(`the run took longer than ${RUN_TIMEOUT_MS / 60_000} min: stopping`);
    void cleanup().finally(() => process.exit(1));
  }, RUN_TIMEOUT_MS);
  watchdog.unref();

  try {
    receiver = await startReceiver();
    anvil = await startAnvil({ startupTimeoutMs: 60_000 });
    log(`anvil on ${anvil.rpcUrl}, webhook receiver on ${receiver.url}`);
    const chain = await connectChain(anvil.rpcUrl);
    const worlds: ScenarioWorld[] = [];
    for (const scenario of scenarios) {
      worlds.push(await deployWorld(chain, scenario));
      log(
        `${scenario.name}: world deployed (${Object.keys(scenario.world.tokens).length} tokens, ${Object.keys(scenario.world.feeds).length} feeds, ${Object.keys(scenario.world.pools).length} pools)`,
      );
    }
    const config: SolventConfigInput = {
      version: 1,
      chains: [
        {
          chainId: chain.chainId,
          name: "anvil (scenarios)",
          rpcUrls: [anvil.rpcUrl],
          batchSize: 500,
          timeoutMs: 20_000,
        },
      ],
      issuers: [],
    };
    for (const world of worlds)
      config.issuers.push(...(await issuerConfigs(world, { chainId: chain.chainId, receiverUrl: receiver.url })));
    parseConfig(config); // a bad scenario configuration fails here, naming its JSON path, not inside the Worker
    const configText = JSON.stringify(config);
    if (configText.includes("'"))
      throw new Error("the configuration contains a single quote, which the env file cannot hold");

    const adminToken = randomBytes(24).toString("hex");
    const webhookSecret = randomBytes(24).toString("hex");
    const signingKey = `0x${randomBytes(32).toString("hex")}`;
    const envFile = join(work, "scenarios.env");
    await writeFile(
      envFile,
      `${[`SOLVENT_CONFIG='${configText}'`, `SIGNING_KEY=${signingKey}`, `ADMIN_TOKEN=${adminToken}`, `${WEBHOOK_SECRET_NAME}=${webhookSecret}`].join("\n")}\n`,
      { mode: 0o600 },
    );
    log(
      `starting wrangler dev (${config.issuers.length} issuers, signer ${privateKeyToAccount(signingKey as `0x${string}`).address})`,
    );
    dev = await startWranglerDev({ persistTo: join(work, "state"), envFiles: [envFile], startupTimeoutMs: 180_000 });
    log(`wrangler dev on ${dev.base}`);
    const ctx: Context = { chain, dev, receiver, adminToken, webhookSecret };

    let passed = 0;
    for (const world of worlds) {
      const result = await runScenario(ctx, world);
      console.log(result.line);
      if (result.ok) passed++;
    }
    const failed = worlds.length - passed;
    if (failed > 0) log(`wrangler output (tail):\n${dev.output().slice(-4000)}`);
    console.log(`${passed} passed, ${failed} failed`);
    return failed === 0 ? 0 : 1;
  } catch (e) {
    console.error(`[scenarios] setup failed: ${e instanceof Error ? e.message : String(e)}`);
    console.log(`0 passed, ${scenarios.length} failed`);
    return 1;
  } finally {
    clearTimeout(watchdog);
    await cleanup();
  }
}

process.exit(await main());
