/**
 * The page in a real browser against a real local publisher: the demo world
 * on anvil and the Worker under wrangler dev, started here on free ports with
 * throwaway state. Every check the page shows is made by the shared core in
 * Chromium; these tests drive it like a user would.
 */
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bytesToHex } from "../../core/bytes.js";
import { userCommitmentHex } from "../../core/liabilities/commitment.js";
import type { RunningDemo } from "../../scripts/demo/runDemo.js";
import { buildPage } from "../../scripts/page/build.js";
import { type LiveDemo, startLiveDemo } from "../support/liveDemo.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SCREENSHOTS = join(process.cwd(), "test-results", "screenshots");
const PHONE = { width: 390, height: 844 };

let live: LiveDemo | undefined;
let demo: RunningDemo | undefined;
let browser: Browser | undefined;

async function cleanUp(): Promise<void> {
  await browser?.close().catch(() => undefined);
  await live?.stop();
  browser = demo = live = undefined;
}

beforeAll(async () => {
  try {
    await buildPage(); // the page under test is the current source, not a stale bundle
    live = await startLiveDemo("browser", { users: 1000 });
    demo = live.demo;
    // A second attestation, a second later, so the history and the hash chain have a link to show.
    await new Promise((r) => setTimeout(r, 1100));
    await demo.tick();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
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

interface Opened {
  page: Page;
  errors: string[];
  requests: string[];
  close(): Promise<void>;
}

/** A fresh page at `hash`, once the view has rendered; script errors and every request are recorded. */
async function open(hash: string, viewport = { width: 1280, height: 900 }): Promise<Opened> {
  const context = await browser!.newContext({ viewport });
  const page = await context.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("request", (r) => requests.push(`${r.method()} ${r.url()} ${r.postData() ?? ""}`));
  await page.goto(`${demo!.base}/${hash}`);
  await page.waitForSelector("body[data-ready]", { timeout: 30_000 });
  return { page, errors, requests, close: () => context.close() };
}

async function api<T>(path: string): Promise<T> {
  const res = await fetch(`${demo!.base}${path}`);
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
}

const ratioText = (bps: string) => `${BigInt(bps) / 100n}.${(BigInt(bps) % 100n).toString().padStart(2, "0")} %`;

async function stepStatuses(page: Page): Promise<Record<string, string>> {
  return page.$$eval("[data-step]", (items) =>
    Object.fromEntries(items.map((li) => [li.getAttribute("data-step"), li.getAttribute("data-status")])),
  );
}

describe("overview", () => {
  it("lists both demo issuers with their ratio, status and age", async () => {
    const { issuers } = await api<{ issuers: { id: string; ratioBps: string; flags: string }[] }>("/v1/issuers");
    const { page, errors, close } = await open("#/");
    try {
      for (const id of ["demo", "demo-stable"]) {
        const summary = issuers.find((i) => i.id === id)!;
        const card = page.locator(`[data-issuer="${id}"]`);
        await expect.poll(() => card.count()).toBe(1);
        expect(await card.getByTestId("ratio").textContent()).toBe(ratioText(summary.ratioBps));
        // The demo attestations are fresh (ttl 600 s), so the status follows the flags alone.
        const badge = card.locator(".badge");
        expect(await badge.getAttribute("data-status")).toBe(summary.flags === "0" ? "healthy" : "flagged");
        expect(await badge.getAttribute("title")).toMatch(/^(healthy|flagged): /);
        expect(await card.getByTestId("age").textContent()).toMatch(/^#\d+, (just now|\d+ s ago|\d+ min ago)$/);
        expect(await card.getByTestId("signature").textContent()).toContain("valid, checked here");
      }
      expect(await page.locator('[data-issuer="demo"] .badge').textContent()).toBe("flagged");
      // Warnings in words; the codes one click away.
      const flags = page.locator('[data-issuer="demo"]').getByTestId("flags");
      expect(await flags.getAttribute("data-codes")).toContain("UNPROVEN_OWNERSHIP");
      expect(await flags.locator(".flag-words").textContent()).toContain("A wallet's ownership is not proven");
      expect(await flags.locator("details.codes").getAttribute("open")).toBeNull();
      await flags.locator("details.codes summary").click();
      expect(await flags.locator("details.codes").textContent()).toContain("UNPROVEN_OWNERSHIP");
      // The rule behind the badges is on the page, not only in tooltips.
      await expect.poll(() => page.getByText("past its validUntil time").count()).toBeGreaterThan(0);

      // A watch list: worst first (flagged before healthy), each with a ratio sparkline and its on-chain copy's age.
      const order = () => page.$$eval(".watch-list tbody tr", (rows) => rows.map((r) => r.getAttribute("data-issuer")));
      expect(await order()).toEqual(["demo", "demo-stable"]);
      expect(await page.locator('th[aria-sort="ascending"]').textContent()).toContain("Status");
      for (const id of ["demo", "demo-stable"]) {
        const row = page.locator(`[data-issuer="${id}"]`);
        expect(await row.locator("svg.sparkline title").textContent()).toMatch(
          /^Ratio over the last \d+ attestations: from .* % to .* %$/,
        );
        expect(await row.getByTestId("onchain-age").textContent()).toMatch(/^#\d+, (just now|\d+ s ago|\d+ min ago)$/);
      }
      // Sortable by keyboard: the Ratio header is a button; Enter sorts ascending (demo-stable's 102.89 % first), again descending.
      await page.getByRole("button", { name: "Ratio" }).focus();
      await page.keyboard.press("Enter");
      expect(await page.locator('th[aria-sort="ascending"]').textContent()).toContain("Ratio");
      expect(await order()).toEqual(["demo-stable", "demo"]);
      await page.keyboard.press("Enter");
      expect(await page.locator('th[aria-sort="descending"]').textContent()).toContain("Ratio");
      expect(await order()).toEqual(["demo", "demo-stable"]);
      expect(await page.locator("th[aria-sort]").count()).toBe(1);
      await page.screenshot({ path: join(SCREENSHOTS, "overview.png"), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });
});

describe("issuer page", () => {
  it("shows the checks, the flag with its reason, every line item and the hash chain", async () => {
    const latest = await api<{ attestation: { sequence: string; ratioBps: string } }>(
      "/v1/issuers/demo/attestations/latest",
    );
    const report = await api<{ reserves: { items: { status: number }[] }; flags: { name: string; reason: string }[] }>(
      `/v1/issuers/demo/reports/${latest.attestation.sequence}`,
    );
    const { page, errors, close } = await open("#/issuer/demo");
    try {
      expect(await page.getByTestId("ratio").textContent()).toBe(ratioText(latest.attestation.ratioBps));
      expect(await page.getByTestId("signature-check").getAttribute("data-ok")).toBe("true");
      expect(await page.getByTestId("report-check").getAttribute("data-ok")).toBe("true");

      const flag = page.locator('[data-flag="UNPROVEN_OWNERSHIP"]');
      expect(await flag.count()).toBe(1);
      const reason = report.flags.find((f) => f.name === "UNPROVEN_OWNERSHIP")!.reason;
      expect(await flag.textContent()).toContain(reason);

      const items = page.locator("#items tbody tr");
      expect(await items.count()).toBe(report.reserves.items.length);
      const statuses = await page.$$eval("#items .item-status", (els) => els.map((e) => e.getAttribute("data-status")));
      expect(statuses).toEqual(report.reserves.items.map((i) => String(i.status)));
      expect(await page.locator("#items").textContent()).toContain("On-chain, ownership not proven: not counted");
      expect(await page.locator("#items").textContent()).toContain("250 ETH"); // 250e18 base units at 18 decimals
      expect(await page.locator("#items").textContent()).toMatch(/chainlink:31337:0x/);

      // Reserves split into on-chain, off-chain and not counted, drawn and tabulated.
      expect(await page.locator("#reserves svg[role=img] title").textContent()).toMatch(
        /On-chain, counted .*Off-chain, counted .*Not counted/,
      );
      // History of two attestations: one line per series, and a chain whose links are re-computed here.
      expect(await page.locator("#history svg.line-chart").count()).toBe(2);
      expect(await page.locator("#history svg.line-chart circle.dot").count()).toBe(
        3 * Number(latest.attestation.sequence),
      ); // reserves, liabilities, ratio
      const chain = await page.locator("#chain tbody tr").allTextContents();
      expect(chain.length).toBe(Number(latest.attestation.sequence));
      for (const row of chain) expect(row).toContain("✓ digest and link");
      // The chain is collapsed by default, its verdict in one line.
      expect(await page.locator("#chain details").getAttribute("open")).toBeNull();
      expect(await page.getByTestId("chain-summary").textContent()).toBe(
        `✓ All ${chain.length} links shown re-computed here and unbroken.`,
      );
      await page.screenshot({ path: join(SCREENSHOTS, "issuer.png"), fullPage: true });
      await page.locator("#history").screenshot({ path: join(SCREENSHOTS, "issuer-history.png") });
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });
});

describe("issuer page for an analyst", () => {
  interface Report {
    reserves: { items: { status: number; amount: string; details: { asset: string } }[] };
    liabilities: {
      assets: { asset: string; amount: string; source: string }[];
      ledger: Record<string, unknown> | null;
    };
    flags: { name: string }[];
  }

  it("leads with coverage per asset, warnings in words, and the on-chain copy", async () => {
    const latest = await api<{ attestation: { sequence: string } }>("/v1/issuers/demo/attestations/latest");
    const report = await api<Report>(`/v1/issuers/demo/reports/${latest.attestation.sequence}`);
    const contracts = await api<{ oracle: string; feed: string }>("/demo/contracts.json");
    const { page, errors, close } = await open("#/issuer/demo");
    try {
      // One row per asset owed (USD, ETH) plus the USDC nobody is owed in kind, then the total.
      const rows = page.locator("#coverage tbody tr");
      expect(await rows.count()).toBe(report.liabilities.assets.length + 2);
      const counted = (asset: string) =>
        report.reserves.items
          .filter((i) => [0, 2].includes(i.status) && i.details.asset === asset)
          .reduce((a, i) => a + BigInt(i.amount), 0n);
      for (const [i, owed] of report.liabilities.assets.entries()) {
        const row = rows.nth(i);
        expect(await row.locator("td").first().textContent()).toBe(owed.asset);
        const bps = (counted(owed.asset) * 10000n) / BigInt(owed.amount);
        expect(await row.locator("[data-coverage]").getAttribute("data-coverage")).toBe(bps.toString());
        expect(await row.textContent()).toContain(bps < 10000n ? "Short" : "Surplus");
      }
      expect(await rows.nth(report.liabilities.assets.length).textContent()).toContain("USDC");
      expect(await rows.last().textContent()).toContain("All assets, in USD");
      expect(await page.locator("#coverage details.codes summary").textContent()).toBe(
        "How reserves are matched to what is owed",
      );
      // No raw 18-digit amounts anywhere a reader looks first.
      // (cell by cell: the table's text run together would join "$707,478.75" and "250 ETH").
      const texts = await page.locator("#coverage td, #coverage th, #coverage p, #coverage span").allTextContents();
      expect(texts.length).toBeGreaterThan(report.liabilities.assets.length * 4);
      for (const text of texts) expect(text).not.toMatch(/\d\.\d{5,}/);

      // Warnings: plain words first, the SPEC name and bit one click away, since when.
      const flag = page.locator('[data-flag="UNPROVEN_OWNERSHIP"]');
      expect(await flag.locator("strong").textContent()).toBe("A wallet's ownership is not proven");
      expect(await flag.textContent()).toMatch(/since #1, \d{4}-\d\d-\d\d/);
      expect(await flag.locator("details.codes").getAttribute("open")).toBeNull();

      // On-chain: the oracle and the feed with the chain, the heartbeat, the copy's age and validity, the relays.
      const onchain = page.locator("#onchain");
      expect(await onchain.textContent()).toContain(contracts.oracle);
      expect(await onchain.textContent()).toContain(contracts.feed);
      expect(await onchain.textContent()).toContain("anvil (demo) (chain 31337)");
      expect(await onchain.locator("dt", { hasText: "Feed" }).getAttribute("title")).toContain("AggregatorV3");
      expect(await onchain.textContent()).toContain("at least every 5 min");
      await expect
        .poll(async () => (await page.getByTestId("onchain-state").textContent()) ?? "")
        .toMatch(/Attestation #\d+, observed (just now|\d+ s ago|\d+ min ago); valid for .* more, until/);
      expect(await onchain.locator("details.relays tbody tr").count()).toBeGreaterThan(0);

      // The ledger's as-of time when the report carries it (SPEC §4 newer form); a plain note when not.
      const asOf = report.liabilities.ledger?.asOf;
      if (typeof asOf === "string")
        expect(await page.getByTestId("ledger-as-of").textContent()).toContain("true as of");
      else expect(await page.locator("#liabilities").textContent()).toContain("as-of time not reported");
      expect(await page.getByTestId("verification-coverage").count()).toBe(1);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  it("hands out the history as CSV and JSON for a range, and each chart as SVG and PNG", async () => {
    const { page, errors, close } = await open("#/issuer/demo");
    try {
      await page.getByLabel("From #").fill("1");
      await page.getByLabel("to #").fill("2");
      const [csv] = await Promise.all([page.waitForEvent("download"), page.getByTestId("download-csv").click()]);
      expect(csv.suggestedFilename()).toBe("demo-attestations-1-2.csv");
      const lines = (await readFile((await csv.path())!, "utf8")).trimEnd().split("\r\n");
      expect(lines[0]).toMatch(/^issuer,sequence,observedAt,/);
      expect(lines.slice(1).map((l) => l.split(",")[1])).toEqual(["1", "2"]);
      const [json] = await Promise.all([page.waitForEvent("download"), page.getByTestId("download-json").click()]);
      expect(json.suggestedFilename()).toBe("demo-attestations-1-2.json");
      const body = JSON.parse(await readFile((await json.path())!, "utf8")) as {
        attestations: { attestation: { sequence: string } }[];
      };
      expect(body.attestations.map((a) => a.attestation.sequence)).toEqual(["2", "1"]);
      // A range the API would refuse is not offered.
      await page.getByLabel("From #").fill("3");
      expect(await page.getByTestId("download-csv").getAttribute("aria-disabled")).not.toBeNull();

      const ratioFigure = page.locator("#history figure.chart").first();
      const [svgFile] = await Promise.all([
        page.waitForEvent("download"),
        ratioFigure.getByRole("button", { name: "Download Reserve ratio as SVG" }).click(),
      ]);
      expect(svgFile.suggestedFilename()).toBe("demo-ratio.svg");
      const svgText = await readFile((await svgFile.path())!, "utf8");
      expect(svgText).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      expect(svgText).toContain("100 %");
      expect(svgText).not.toContain("var(--"); // colours written in, not left to the page's stylesheet
      const [pngFile] = await Promise.all([
        page.waitForEvent("download"),
        ratioFigure.getByRole("button", { name: "Download Reserve ratio as PNG" }).click(),
      ]);
      expect(pngFile.suggestedFilename()).toBe("demo-ratio.png");
      const png = await readFile((await pngFile.path())!);
      expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      expect(png.readUInt32BE(16)).toBeGreaterThan(500); // drawn at twice the chart's width
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });
});

describe("dependency map", () => {
  it("shows every issuer, says there are no links or cycles in the demo, and is usable by keyboard", async () => {
    for (const viewport of [{ width: 1280, height: 900 }, PHONE]) {
      const { page, errors, close } = await open("#/dependencies", viewport);
      try {
        expect(await page.locator("h1").textContent()).toBe("Dependency map");
        const nodes = page.locator("svg.dependency-map [data-node]");
        expect(await nodes.count()).toBe(2);
        expect(await page.getByTestId("no-cycles").count()).toBe(1);
        expect(await page.getByTestId("no-edges").textContent()).toContain(
          "none of the 2 issuers here holds a token another issuer attests",
        );
        // Each node is reachable with Tab and describes itself.
        await page.locator(".map-figure figcaption").getByRole("button", { name: /PNG/ }).focus();
        await page.keyboard.press("Tab");
        const focused = await page.evaluate(() => document.activeElement?.getAttribute("aria-label"));
        expect(focused).toMatch(/^Demo (Stable Dollar \(DUSD\)|Exchange), ratio \d/);
        const [scrollWidth, clientWidth] = await page.evaluate(() => [
          document.documentElement.scrollWidth,
          document.documentElement.clientWidth,
        ]);
        expect(scrollWidth).toBeLessThanOrEqual(clientWidth);
        await page.screenshot({
          path: join(SCREENSHOTS, viewport === PHONE ? "dependencies-phone.png" : "dependencies.png"),
          fullPage: true,
        });
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    }
  });
});

describe("verify my balance", () => {
  async function fillAndVerify(page: Page, userId: string, salt: string, proof?: string): Promise<void> {
    await page.getByLabel("Issuer").selectOption("demo");
    await page.getByLabel("Your user id").fill(userId);
    await page.getByLabel("Your salt").fill(salt);
    if (proof !== undefined) {
      await page.getByText("Or paste an inclusion proof you already have").click();
      await page.getByLabel("Inclusion proof (JSON)").fill(proof);
    }
    await page.getByRole("button", { name: "Verify my balance" }).click();
    await page.waitForSelector("#balance-result [data-testid=verdict]");
  }

  it("verifies a demo user end to end, sending only the commitment", async () => {
    const user = demo!.users[10]!; // not one of the three published demo users
    const { page, errors, requests, close } = await open("#/verify-balance/demo");
    try {
      expect(await page.locator("#balance-result").getAttribute("aria-live")).toBe("polite");
      // Keyboard only: type into the fields and submit with Enter.
      await page.getByLabel("Your user id").focus();
      await page.keyboard.type(user.userId);
      await page.keyboard.press("Tab");
      await page.keyboard.type(user.salt);
      await page.keyboard.press("Enter");
      await page.waitForSelector("#balance-result [data-testid=verdict]");

      expect(await page.locator("#balance-result .result").getAttribute("data-valid")).toBe("true");
      expect(await page.getByTestId("verdict").textContent()).toMatch(
        /VALID: your balances are included in attestation #\d+/,
      );
      const steps = await stepStatuses(page);
      expect(steps).toMatchObject({
        commitment: "pass",
        "fetch-attestation": "pass",
        "fetch-proof": "pass",
        proof: "pass",
        attestation: "pass",
        signature: "pass",
        root: "pass",
      });
      expect(Object.values(steps).every((s) => s === "pass" || s === "note")).toBe(true);

      // The proven balances, shown with the report's decimals (USD 6, ETH 18), read back to base units.
      const shown = (await page.getByTestId("balances").textContent())!
        .replace("Your proven balances: ", "")
        .split(" · ");
      const baseUnits = (text: string, decimals: number) => {
        const [whole = "", frac = ""] = text.split(" ")[0]!.replaceAll(",", "").split(".");
        return (BigInt(whole) * 10n ** BigInt(decimals) + BigInt(frac.padEnd(decimals, "0") || "0")).toString();
      };
      expect(shown.map((s) => s.split(" ")[1])).toEqual(["USD", "ETH"]);
      expect(baseUnits(shown[0]!, 6)).toBe(user.balances.USD);
      expect(baseUnits(shown[1]!, 18)).toBe(user.balances.ETH);

      const commitment = userCommitmentHex(user.salt, user.userId);
      expect(requests.some((r) => r.includes(`/proofs/`) && r.includes(commitment))).toBe(true);
      for (const request of requests) {
        expect(request).not.toContain(user.salt.slice(2));
        expect(request).not.toContain(encodeURIComponent(user.userId));
        expect(request).not.toContain(user.userId);
      }
      await page.screenshot({ path: join(SCREENSHOTS, "verified-balance.png"), fullPage: true });
      expect(errors.filter((e) => !e.includes("404"))).toEqual([]);
    } finally {
      await close();
    }
  });

  it("opens on an issuer that has a user ledger, and says which have none", async () => {
    const { page, close } = await open("#/verify-balance");
    try {
      expect(await page.getByLabel("Issuer").inputValue()).toBe("demo");
      expect(await page.locator('#vb-issuer option[value="demo-stable"]').textContent()).toContain("no user ledger");
      expect(await page.locator('#vb-issuer option[value="demo"]').textContent()).not.toContain("no user ledger");
    } finally {
      await close();
    }
  });

  it("proves a wrong salt's commitment is not in this snapshot (SPEC §2.1, the demo ledger is in commitment order)", async () => {
    const user = demo!.users[10]!;
    const { page, close } = await open("#/verify-balance/demo");
    try {
      await fillAndVerify(page, user.userId, bytesToHex(crypto.getRandomValues(new Uint8Array(16))));
      expect(await page.locator("#balance-result .result").getAttribute("data-valid")).toBe("false");
      const steps = await stepStatuses(page);
      expect(steps.commitment).toBe("pass");
      expect(steps["fetch-proof"]).toBe("pass");
      expect(steps.proof).toBe("pass");
      expect(steps.signature).toBe("pass");
      expect(steps.root).toBe("pass");
      expect(steps.report).toBe("pass");
      expect(await page.locator('[data-step="fetch-proof"]').textContent()).toContain("with a non-inclusion proof");
      expect(await page.getByTestId("verdict").textContent()).toContain(
        "NOT INCLUDED, PROVEN: your commitment is provably not in this snapshot",
      );
    } finally {
      await close();
    }
  });

  it("rejects a pasted proof whose balance was altered", async () => {
    const user = demo!.users[20]!;
    const { attestation } = await api<{ attestation: { sequence: string } }>("/v1/issuers/demo/attestations/latest");
    const proof = await api<{ balances: string[] }>(
      `/v1/issuers/demo/proofs/${attestation.sequence}/${userCommitmentHex(user.salt, user.userId)}`,
    );
    const tampered = {
      ...proof,
      balances: [(BigInt(proof.balances[0]!) + 1_000_000n).toString(), ...proof.balances.slice(1)],
    };
    const { page, requests, close } = await open("#/verify-balance/demo");
    try {
      await fillAndVerify(page, user.userId, user.salt, JSON.stringify(tampered));
      expect(await page.locator("#balance-result .result").getAttribute("data-valid")).toBe("false");
      const steps = await stepStatuses(page);
      expect(steps["fetch-proof"]).toBe("note"); // the pasted proof was used, none fetched
      expect(steps.proof).toBe("fail");
      expect(await page.getByTestId("verdict").textContent()).toContain(
        "INVALID: the proof does not place your balances under its root",
      );
      expect(requests.some((r) => r.includes("/proofs/"))).toBe(false);
    } finally {
      await close();
    }
  });
});

describe("verify an attestation", () => {
  it("accepts the latest attestation and rejects a tampered one", async () => {
    const answer = await api<{ attestation: Record<string, string> }>("/v1/issuers/demo/attestations/latest");
    const { page, errors, close } = await open("#/verify-attestation");
    try {
      await page.getByLabel("Issuer to load").selectOption("demo");
      await page.getByRole("button", { name: "Load the latest" }).click();
      await expect.poll(() => page.getByLabel("Signed attestation (JSON)").inputValue()).toContain('"signature"');
      await page.getByRole("button", { name: "Verify attestation" }).click();
      await page.waitForSelector("#attestation-result [data-testid=verdict]");
      expect(await page.locator("#attestation-result .result").getAttribute("data-valid")).toBe("true");
      expect(await stepStatuses(page)).toMatchObject({
        read: "pass",
        keys: "pass",
        signature: "pass",
        record: "pass",
        report: "pass",
      });
      expect(await page.getByTestId("verdict").textContent()).toMatch(/^✓ VALID: attestation #\d+ of "demo"/);

      // Claim more reserves than were signed: the signature no longer recovers to the publisher's key.
      const tampered = {
        ...answer,
        attestation: { ...answer.attestation, reservesUsd: (BigInt(answer.attestation.reservesUsd!) * 2n).toString() },
      };
      await page.getByLabel("Signed attestation (JSON)").fill(JSON.stringify(tampered, null, 2));
      await page.getByRole("button", { name: "Verify attestation" }).click();
      await expect.poll(() => page.locator("#attestation-result .result").getAttribute("data-valid")).toBe("false");
      const steps = await stepStatuses(page);
      expect(steps.signature).toBe("fail");
      expect(await page.locator('[data-step="signature"]').textContent()).toContain("is not a key valid at observedAt");
      expect(steps.record).toBe("fail");
      expect(steps.report).toBe("fail");
      expect(await page.getByTestId("verdict").textContent()).toContain("INVALID");
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });
});

/** The demo issuer page on a phone was 7,346 px tall before it was reworked (issue 18); it must stay within half. */
const PHONE_ISSUER_MAX_HEIGHT = 7346 / 2;

describe("on a phone", () => {
  it("renders every view 390 px wide without sideways scrolling", async () => {
    const shots: Record<string, string> = {
      "#/": "overview-phone.png",
      "#/issuer/demo": "issuer-phone.png",
      "#/issuer/demo-stable": "issuer-stable-phone.png",
    };
    for (const hash of [
      "#/",
      "#/issuer/demo",
      "#/issuer/demo-stable",
      "#/dependencies",
      "#/verify-balance/demo",
      "#/verify-attestation",
    ]) {
      const { page, errors, close } = await open(hash, PHONE);
      try {
        const [scrollWidth, clientWidth] = await page.evaluate(() => [
          document.documentElement.scrollWidth,
          document.documentElement.clientWidth,
        ]);
        expect(scrollWidth, hash).toBeLessThanOrEqual(clientWidth);
        if (hash.startsWith("#/issuer/")) {
          const height = await page.evaluate(() => document.documentElement.scrollHeight);
          expect(height, hash).toBeLessThanOrEqual(PHONE_ISSUER_MAX_HEIGHT);
          // Folded, not gone: the line items are one tap away.
          expect(await page.locator("#items details.foldable").getAttribute("open")).toBeNull();
          expect(await page.locator("#items tbody tr").count()).toBeGreaterThan(0);
        }
        if (shots[hash]) await page.screenshot({ path: join(SCREENSHOTS, shots[hash]!), fullPage: true });
        expect(errors, hash).toEqual([]);
      } finally {
        await close();
      }
    }
  });
});
