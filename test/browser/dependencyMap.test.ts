/**
 * The dependency map on real circular reserves: the circular scenario's world
 * (issuers x and y minting into each other's treasury) on anvil, the Worker
 * under wrangler dev, both issuers published through the admin route before
 * and after the mutual mint, then the page in Chromium.
 */
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../core/config/parseConfig.js";
import type { SolventConfigInput } from "../../core/config/schema.js";
import { type AnvilInstance, startAnvil } from "../../scripts/lib/anvil.js";
import { startWranglerDev, type WranglerDev } from "../../scripts/lib/localWorker.js";
import { buildPage } from "../../scripts/page/build.js";
import { issuerConfigs, issuerId, WEBHOOK_SECRET_NAME } from "../../scripts/scenarios/config.js";
import { loadScenario } from "../../scripts/scenarios/format.js";
import { type Receiver, startReceiver } from "../../scripts/scenarios/receiver.js";
import { applyChainState, connectChain, deployWorld } from "../../scripts/scenarios/world.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SCREENSHOTS = join(process.cwd(), "test-results", "screenshots");

let work: string | undefined;
let anvil: AnvilInstance | undefined;
let receiver: Receiver | undefined;
let dev: WranglerDev | undefined;
let browser: Browser | undefined;
const ids = { x: issuerId("circular", "x"), y: issuerId("circular", "y") };
// The runner's configuration names each issuer after its scenario.
const X = "Issuer X (XUSD) [scenario circular]";
const Y = "Issuer Y (YUSD) [scenario circular]";

async function cleanUp(): Promise<void> {
  await browser?.close().catch(() => undefined);
  await dev?.stop().catch(() => undefined);
  await anvil?.stop().catch(() => undefined);
  await receiver?.close().catch(() => undefined);
  if (work) await rm(work, { recursive: true, force: true });
  browser = dev = anvil = receiver = work = undefined;
}

beforeAll(async () => {
  try {
    await buildPage();
    work = await mkdtemp(join(tmpdir(), "solvent-map-"));
    const scenario = await loadScenario(join(process.cwd(), "scenarios", "circular.json"));
    receiver = await startReceiver();
    anvil = await startAnvil({ startupTimeoutMs: 60_000 });
    const chain = await connectChain(anvil.rpcUrl);
    const world = await deployWorld(chain, scenario);
    const config: SolventConfigInput = {
      version: 1,
      chains: [
        {
          chainId: chain.chainId,
          name: "anvil (map test)",
          rpcUrls: [anvil.rpcUrl],
          batchSize: 500,
          timeoutMs: 20_000,
        },
      ],
      issuers: await issuerConfigs(world, { chainId: chain.chainId, receiverUrl: receiver.url }),
    };
    parseConfig(config);
    const adminToken = randomBytes(24).toString("hex");
    const envFile = join(work, "map.env");
    const lines = [
      `SOLVENT_CONFIG='${JSON.stringify(config)}'`,
      `SIGNING_KEY=0x${randomBytes(32).toString("hex")}`,
      `ADMIN_TOKEN=${adminToken}`,
      `${WEBHOOK_SECRET_NAME}=${randomBytes(24).toString("hex")}`,
    ];
    await writeFile(envFile, `${lines.join("\n")}\n`, { mode: 0o600 });
    dev = await startWranglerDev({ persistTo: join(work, "state"), envFiles: [envFile], startupTimeoutMs: 180_000 });
    for (const state of [scenario.before, scenario.after]) {
      await applyChainState(chain, world, state);
      for (const id of [ids.x, ids.y]) {
        const res = await fetch(`${dev.base}/v1/admin/issuers/${id}/publish`, {
          method: "POST",
          headers: { authorization: `Bearer ${adminToken}` },
        });
        if (res.status !== 201)
          throw new Error(`publishing ${id} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
      }
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    await mkdir(SCREENSHOTS, { recursive: true });
  } catch (e) {
    await cleanUp();
    throw e;
  }
});

afterAll(cleanUp);

describe("dependency map of circular reserves", () => {
  it("draws x and y holding each other's token, highlights the cycle with its path, and lists each edge in USD", async () => {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    try {
      await page.goto(`${dev!.base}/#/dependencies`);
      await page.waitForSelector("body[data-ready]", { timeout: 30_000 });
      // The cycle, named by its path, in the list and in the picture.
      const cycle = page.locator("[data-cycle]");
      expect(await cycle.count()).toBe(1);
      expect(await cycle.getAttribute("data-cycle")).toBe(`${ids.x}>${ids.y}>${ids.x}`);
      expect(await cycle.locator("strong").textContent()).toBe(`${X} → ${Y} → ${X}`);
      const edges = page.locator("svg.dependency-map [data-edge]");
      expect(await edges.count()).toBe(2);
      for (const edge of await edges.all()) expect(await edge.getAttribute("class")).toContain("in-cycle");
      // x's treasury holds 9,000,000 YUSD at $1 and none of it counts; y's 8,000,000 XUSD likewise.
      const xy = page.locator(`[data-edge="${ids.x}>${ids.y}"]`);
      expect(await xy.getAttribute("aria-label")).toBe(
        `${X} holds $9,000,000.00 of ${Y}'s token at market; $0.00 of it counts in ${X}'s reserves (circular: ${ids.x} → ${ids.y} → ${ids.x})`,
      );
      expect(await xy.locator("text").textContent()).toBe("$9.00M");
      // Keyboard: the arrows come first in the picture, each focusable with its description.
      await page.locator(".map-figure figcaption").getByRole("button", { name: /PNG/ }).focus();
      await page.keyboard.press("Tab");
      expect(await page.evaluate(() => document.activeElement?.getAttribute("data-edge"))).toBe(`${ids.x}>${ids.y}`);
      // The text alternative: every holding with its market value and what counts.
      const rows = await page.locator("#edges tbody tr").allInnerTexts();
      expect(rows).toHaveLength(2);
      expect(
        rows.map((r) =>
          r
            .split(/\t|\n/)
            .map((c) => c.trim())
            .filter(Boolean),
        ),
      ).toEqual([
        [X, Y, "$9,000,000.00", "$0.00", "on a cycle"],
        [Y, X, "$8,000,000.00", "$0.00", "on a cycle"],
      ]);
      await page.screenshot({ path: join(SCREENSHOTS, "dependencies-circular.png"), fullPage: true });
      await page.setViewportSize({ width: 390, height: 844 });
      await page.screenshot({ path: join(SCREENSHOTS, "dependencies-circular-phone.png"), fullPage: true });
      const [scrollWidth, clientWidth] = await page.evaluate(() => [
        document.documentElement.scrollWidth,
        document.documentElement.clientWidth,
      ]);
      expect(scrollWidth).toBeLessThanOrEqual(clientWidth);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
