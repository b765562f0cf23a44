/**
 * Issue #17 in a real browser against a real local publisher (the demo world
 * on anvil, the Worker under wrangler dev): the issuer page's verification
 * coverage after users fetched their proofs, and "Verify my balance" with a
 * pasted receipt signed by the demo exchange's receipts key, at 1280 and 390 px.
 */
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bytesToHex, type Hex } from "../../core/bytes.js";
import { userCommitmentHex } from "../../core/liabilities/commitment.js";
import { signReceipt } from "../../core/receipt.js";
import type { RunningDemo } from "../../scripts/demo/runDemo.js";
import { demoReceiptsAccount } from "../../scripts/demo/world.js";
import { buildPage } from "../../scripts/page/build.js";
import { launchChromium, PHONE, SCREENSHOTS, WIDE, WIDTHS } from "../support/chromium.js";
import { type LiveDemo, startLiveDemo } from "../support/liveDemo.js";

let live: LiveDemo | undefined;
let demo: RunningDemo | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  await buildPage();
  live = await startLiveDemo("receipts", { users: 200 });
  demo = live.demo;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await live?.stop();
});

async function api<T>(path: string): Promise<T> {
  const res = await fetch(`${demo!.base}${path}`);
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
}

async function open(hash: string, viewport: { width: number; height: number }) {
  const context = await browser!.newContext({ viewport });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${demo!.base}/${hash}`);
  await page.waitForSelector("body[data-ready]", { timeout: 30_000 });
  return { page, errors, close: () => context.close() };
}

async function noSidewaysScroll(page: Page): Promise<void> {
  const [scrollWidth, clientWidth] = await page.evaluate(() => [
    document.documentElement.scrollWidth,
    document.documentElement.clientWidth,
  ]);
  expect(scrollWidth).toBeLessThanOrEqual(clientWidth);
}

describe("verification coverage on the issuer page", () => {
  it("states how many users fetched their proof and what it implies, at 1280 and 390 px", async () => {
    const latest = await api<{ attestation: { sequence: string } }>("/v1/issuers/demo/attestations/latest");
    // Three users look themselves up, one of them twice.
    for (const user of [demo!.users[5]!, demo!.users[6]!, demo!.users[7]!, demo!.users[5]!]) {
      await api(`/v1/issuers/demo/proofs/${latest.attestation.sequence}/${userCommitmentHex(user.salt, user.userId)}`);
    }
    const coverage = await api<{ ledgers: { checked: string; leafCount: string }[] }>("/v1/issuers/demo/coverage");
    expect(coverage.ledgers[0]).toMatchObject({ checked: "3", leafCount: "200" });

    for (const [viewport, shot] of [
      [WIDE, "issuer-checked.png"],
      [PHONE, "issuer-checked-phone.png"],
    ] as const) {
      const { page, errors, close } = await open("#/issuer/demo", viewport);
      try {
        const sentence = page.getByTestId("checked-sentence");
        expect(await sentence.getAttribute("data-checked")).toBe("3");
        expect(await sentence.textContent()).toContain(
          "3 of the 200 users in this ledger fetched the proof of their balance.",
        );
        expect(await sentence.textContent()).toMatch(
          /If the issuer had left 1 % of its users out \(3 users\), the chance that none of these 3 was among them, so that nobody noticed, would be 95.\d %\./,
        );
        expect(await page.locator("#checked tbody tr").count()).toBe(3);
        expect(await page.locator("#checked details.codes summary").textContent()).toBe(
          "What this does and does not tell",
        );
        await noSidewaysScroll(page);
        await page.locator("#checked").scrollIntoViewIfNeeded();
        await page.locator("#checked").screenshot({ path: join(SCREENSHOTS, shot) });
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    }
  });
});

describe("verify my balance with a pasted receipt", () => {
  async function ledgerAsOf(): Promise<bigint> {
    const latest = await api<{ attestation: { sequence: string } }>("/v1/issuers/demo/attestations/latest");
    const report = await api<{ liabilities: { ledger: { asOf: string } } }>(
      `/v1/issuers/demo/reports/${latest.attestation.sequence}`,
    );
    return BigInt(report.liabilities.ledger.asOf);
  }

  async function receiptFor(commitment: string, balances: bigint[], asOf: bigint): Promise<string> {
    const signed = await signReceipt(
      { issuer: "demo", commitment: commitment as Hex, assets: ["USD", "ETH"], balances, asOf },
      demoReceiptsAccount(),
    );
    return JSON.stringify(signed, null, 2);
  }

  async function verifyWithReceipt(
    page: Page,
    userId: string,
    salt: string,
    receipt: string,
  ): Promise<{ kind: string | null; text: string | null }> {
    await page.getByLabel("Your user id").fill(userId);
    await page.getByLabel("Your salt").fill(salt);
    const details = page.locator("summary", { hasText: "Compare with a balance receipt from the issuer" });
    if ((await page.getByLabel("Balance receipt (JSON)").isVisible()) === false) await details.click();
    await page.getByLabel("Balance receipt (JSON)").fill(receipt);
    await page.getByRole("button", { name: "Verify my balance" }).click();
    const verdict = page.getByTestId("receipt-verdict");
    await verdict.waitFor();
    return { kind: await verdict.getAttribute("data-kind"), text: await verdict.textContent() };
  }

  it("says whether the receipt matches, differs, or proves the user left out, at 1280 and 390 px", async () => {
    const asOf = await ledgerAsOf();
    const user = demo!.users[30]!;
    const held = [BigInt(user.balances.USD), BigInt(user.balances.ETH)];
    const commitment = userCommitmentHex(user.salt, user.userId);
    const leftOutSalt = bytesToHex(crypto.getRandomValues(new Uint8Array(16)));

    for (const [viewport, suffix] of WIDTHS) {
      const { page, errors, close } = await open("#/verify-balance/demo", viewport);
      try {
        const matches = await verifyWithReceipt(page, user.userId, user.salt, await receiptFor(commitment, held, asOf));
        expect(matches.kind).toBe("matches");
        expect(matches.text).toContain("Your receipt matches this snapshot");
        expect(await page.locator('[data-step="receipt"]').getAttribute("data-status")).toBe("pass");
        await page.locator("#balance-result").screenshot({ path: join(SCREENSHOTS, `receipt-matches${suffix}.png`) });

        const differs = await verifyWithReceipt(
          page,
          user.userId,
          user.salt,
          await receiptFor(commitment, [held[0]! + 250_000_000n, held[1]!], asOf),
        );
        expect(differs.kind).toBe("differs");
        expect(differs.text).toContain("Your balance in this snapshot differs from your receipt.");
        expect(differs.text).toMatch(/USD: your receipt says [\d,.]+ USD, the snapshot says [\d,.]+ USD/);
        expect(await page.getByRole("button", { name: "Download the dispute bundle" }).count()).toBe(1);
        await page.locator("#balance-result").screenshot({ path: join(SCREENSHOTS, `receipt-differs${suffix}.png`) });

        const absent = await verifyWithReceipt(
          page,
          user.userId,
          leftOutSalt,
          await receiptFor(userCommitmentHex(leftOutSalt, user.userId), [1_000_000_000n, 0n], asOf),
        );
        expect(absent.kind).toBe("absent");
        expect(absent.text).toContain(
          "You are provably not in this snapshot, though your receipt says you hold 1,000 USD and 0 ETH.",
        );
        expect(absent.text).toContain("solvent dispute make");
        await page.locator("#balance-result").screenshot({ path: join(SCREENSHOTS, `receipt-absent${suffix}.png`) });

        const older = await verifyWithReceipt(
          page,
          user.userId,
          user.salt,
          await receiptFor(commitment, held, asOf - 86_400n),
        );
        expect(older.kind).toBe("other-asof");
        expect(older.text).toContain("This receipt is for another asOf");

        await noSidewaysScroll(page);
        await page.screenshot({ path: join(SCREENSHOTS, `receipt-form${suffix}.png`), fullPage: true });
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    }
  });
});
