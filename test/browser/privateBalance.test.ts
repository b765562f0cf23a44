/**
 * "Verify my balance" with a private ledger (SPEC §11) in Debian chromium: the
 * page fetches the proof, loads the Bulletproofs WebAssembly only then, and
 * checks everything with core's one path. The snapshot is built and signed
 * with the core (test/support/privateSnapshot.ts) and served with the built
 * page by test/support/staticPublisher.ts. Tampered proofs (a changed sibling
 * commitment, another node's range proof, a wrong blinding) are pasted and
 * must be refused naming the check. Screenshots at 1280 and 390 px. Last,
 * the same through the real Worker: demo-private's ledger built through the
 * queue and its proof made by the proof route, on anvil and wrangler dev.
 */
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bytesToHex } from "../../core/bytes.js";
import { NOT_IN_SNAPSHOT } from "../../core/inclusionCheck.js";
import { userCommitmentHex } from "../../core/liabilities/commitment.js";
import {
  GROUP_ORDER,
  type PrivateInclusionProof,
  parseScalar,
  scalarToHex,
} from "../../core/liabilities/private/index.js";
import { buildPage } from "../../scripts/page/build.js";
import { launchChromium, SCREENSHOTS, WIDE, WIDTHS } from "../support/chromium.js";
import { type LiveDemo, startLiveDemo } from "../support/liveDemo.js";
import { type PrivateSnapshot, privateSnapshot } from "../support/privateSnapshot.js";
import { type StaticPublisher, startStaticPublisher } from "../support/staticPublisher.js";

const ISSUER = "acme-private";

let snapshot: PrivateSnapshot;
let publisher: StaticPublisher | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  await buildPage();
  // 11 users padded to 16 leaves: 4 levels, 2 assets, so 8 sibling commitments in one aggregated range proof.
  snapshot = await privateSnapshot(ISSUER, 11);
  publisher = await startStaticPublisher(snapshot);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await publisher?.stop();
});

async function open(viewport: { width: number; height: number }) {
  const context = await browser!.newContext({ viewport });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${publisher!.base}/#/verify-balance/${ISSUER}`);
  await page.waitForSelector("body[data-ready]", { timeout: 30_000 });
  return { page, errors, close: () => context.close() };
}

async function verify(page: Page, user: { userId: string; salt: string }, pasted = ""): Promise<void> {
  await page.getByLabel("Your user id").fill(user.userId);
  await page.getByLabel("Your salt").fill(user.salt);
  const proofField = page.getByLabel("Inclusion proof (JSON)");
  if (pasted !== "" && !(await proofField.isVisible()))
    await page.getByText("Or paste an inclusion proof you already have").click();
  if (pasted !== "" || (await proofField.isVisible())) await proofField.fill(pasted);
  await page.getByRole("button", { name: "Verify my balance" }).click();
  await page.waitForSelector("#balance-result [data-testid=verdict]");
}

const stepStatuses = (page: Page): Promise<Record<string, string>> =>
  page.$$eval("[data-step]", (items) =>
    Object.fromEntries(items.map((li) => [li.getAttribute("data-step"), li.getAttribute("data-status")])),
  );

async function noSidewaysScroll(page: Page): Promise<void> {
  const [scrollWidth, clientWidth] = await page.evaluate(() => [
    document.documentElement.scrollWidth,
    document.documentElement.clientWidth,
  ]);
  expect(scrollWidth).toBeLessThanOrEqual(clientWidth);
}

async function proofOf(i: number): Promise<PrivateInclusionProof> {
  const proof = await snapshot.proofFor(snapshot.users[i]!.commitment);
  if ("nonInclusion" in proof) throw new Error(`user ${i} is not in the test ledger`);
  return proof;
}

describe("verify my balance: a private ledger", () => {
  it("accepts the publisher's private proof, says which facts it checked and that nothing else was revealed, at 1280 and 390 px", async () => {
    const user = snapshot.users[3]!;
    const others = snapshot.users.filter((u) => u !== user);
    for (const [viewport, suffix] of WIDTHS) {
      const { page, errors, close } = await open(viewport);
      try {
        const before = publisher!.requests.length;
        await verify(page, user);
        expect(await page.locator("#balance-result .result").getAttribute("data-valid")).toBe("true");
        expect(await page.getByTestId("verdict").textContent()).toMatch(
          /^✓ VALID: your balances \(4\.25 USD, 0\.5 ETH\) are included in attestation #1, signed by 0x[0-9a-fA-F]{40}; the proof revealed no other user's balance$/,
        );
        expect(await page.getByTestId("balances").textContent()).toBe("Your proven balances: 4.25 USD · 0.5 ETH");
        expect(await stepStatuses(page)).toEqual({
          commitment: "pass",
          "fetch-attestation": "pass",
          "fetch-proof": "pass",
          "load-verifier": "note",
          proof: "pass",
          path: "pass",
          opening: "pass",
          range: "pass",
          attestation: "pass",
          signature: "pass",
          root: "pass",
          report: "pass",
          freshness: "note",
        });
        expect(await page.locator('[data-step="range"] .detail').textContent()).toContain(
          "each of the 8 sibling commitments holds a value in [0, 2^64)",
        );
        const summary = page.getByTestId("private-summary");
        expect(await summary.textContent()).toContain(
          "Checked: open your leaf and re-compute its path to the root; open each root commitment to its published total; check the range proofs of every sibling;",
        );
        expect(await summary.textContent()).toContain("no other user's balance and no partial sum was revealed");
        // Nothing on the page is another user's balance.
        const text = (await page.locator("#balance-result").textContent())!;
        for (const other of others) expect(text).not.toContain(`${Number(other.balances[0]!) / 1e6} USD`);
        // The WebAssembly came once, with the check, not with the page; the proof was asked by commitment only.
        const asked = publisher!.requests.slice(before);
        expect(asked.filter((p) => p === "/range-proofs.wasm")).toHaveLength(1);
        expect(asked).toContain(`/v1/issuers/${ISSUER}/proofs/1/${bytesToHex(user.commitment)}`);
        expect(asked.some((p) => p.includes(user.salt.slice(2)) || p.includes(user.userId))).toBe(false);
        await noSidewaysScroll(page);
        await page.locator("#balance-result").screenshot({ path: join(SCREENSHOTS, `private-accepted${suffix}.png`) });
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    }
  });

  it("compiles the verifier from bytes when it is not served as application/wasm, and refuses when it cannot load it", async () => {
    const user = snapshot.users[5]!;
    try {
      publisher!.wasm = "application/octet-stream";
      const { page, errors, close } = await open(WIDE);
      try {
        await verify(page, user);
        expect(await page.locator("#balance-result .result").getAttribute("data-valid")).toBe("true");
        expect(await page.locator('[data-step="range"]').getAttribute("data-status")).toBe("pass");
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
      publisher!.wasm = "missing";
      const missing = await open(WIDE);
      try {
        await verify(missing.page, user);
        expect(await missing.page.getByTestId("verdict").textContent()).toBe(
          "✗ INVALID: a private proof cannot be checked without the range-proof verifier",
        );
        const steps = await stepStatuses(missing.page);
        expect(steps).toMatchObject({ "load-verifier": "fail", range: "fail" });
        expect(await missing.page.locator('[data-step="load-verifier"] .detail').textContent()).toBe(
          "the range-proof verifier (/range-proofs.wasm) could not be fetched: HTTP 404",
        );
        expect(await missing.page.getByTestId("balances").count()).toBe(0);
      } finally {
        await missing.close();
      }
    } finally {
      publisher!.wasm = "application/wasm";
    }
  });

  it("loads no WebAssembly for the page itself", async () => {
    const { page, errors, close } = await open(WIDE);
    try {
      const before = publisher!.requests.length;
      await page.reload();
      await page.waitForSelector("body[data-ready]");
      expect(publisher!.requests.slice(before)).not.toContain("/range-proofs.wasm");
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  it("refuses a changed sibling commitment, another node's range proof and a wrong blinding, naming the check", async () => {
    const user = snapshot.users[3]!;
    const valid = await proofOf(3);
    const stranger = await proofOf(8);
    const tampered = (change: (p: PrivateInclusionProof) => void): string => {
      const copy = structuredClone(valid);
      change(copy);
      return JSON.stringify(copy);
    };
    const cases = [
      {
        name: "sibling-commitment",
        proof: tampered((p) => {
          p.path[0]!.commitments[0] = p.path[1]!.commitments[0]!;
        }),
        failed: "path",
        detail: /a value, blinding, sibling hash or sibling commitment was changed/,
      },
      {
        name: "other-range-proof",
        proof: tampered((p) => {
          p.rangeProofs[0] = stranger.rangeProofs[0]!;
        }),
        failed: "range",
        detail: /rangeProofs\[0\].*does not prove that sibling commitments 0\.\.7/,
      },
      {
        name: "wrong-blinding",
        proof: tampered((p) => {
          p.blindings[1] = scalarToHex((parseScalar(p.blindings[1]!, "blindings[1]") + 1n) % GROUP_ORDER);
        }),
        failed: "path",
        detail: /hash to 0x[0-9a-f]{64}, not to the proof's root/,
      },
    ];
    for (const [viewport, suffix] of WIDTHS) {
      const { page, errors, close } = await open(viewport);
      try {
        for (const c of cases) {
          await verify(page, user, c.proof);
          expect(await page.locator("#balance-result .result").getAttribute("data-valid"), c.name).toBe("false");
          expect(await page.getByTestId("verdict").textContent(), c.name).toMatch(/^✗ INVALID: /);
          const steps = await stepStatuses(page);
          expect(steps[c.failed], c.name).toBe("fail");
          expect(
            Object.entries(steps)
              .filter(([, s]) => s === "fail")
              .map(([id]) => id),
            c.name,
          ).toEqual([c.failed]);
          const summary = page.getByTestId("private-summary");
          expect(await summary.getAttribute("data-failed"), c.name).toBe(c.failed);
          const title = await page.locator(`[data-step="${c.failed}"] strong`).textContent();
          expect(await summary.textContent(), c.name).toContain(
            `Private proof refused by the check “${title!.replace(/^Failed: /, "")}”`,
          );
          expect(await summary.textContent(), c.name).toMatch(c.detail);
          expect(await page.getByTestId("balances").count(), c.name).toBe(0);
          if (c.name === "other-range-proof") {
            await noSidewaysScroll(page);
            await page
              .locator("#balance-result")
              .screenshot({ path: join(SCREENSHOTS, `private-refused${suffix}.png`) });
          }
        }
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    }
  });

  it("shows a private proof of absence like a plain one", async () => {
    const stranger = { userId: "nobody@example.com", salt: bytesToHex(new Uint8Array(16).fill(0xee)) };
    expect(
      snapshot.users.some((u) => bytesToHex(u.commitment) === userCommitmentHex(stranger.salt, stranger.userId)),
    ).toBe(false);
    const { page, errors, close } = await open(WIDE);
    try {
      await verify(page, stranger);
      expect(await page.getByTestId("verdict").textContent()).toContain(NOT_IN_SNAPSHOT);
      const steps = await stepStatuses(page);
      expect(steps).toMatchObject({
        "fetch-proof": "pass",
        proof: "pass",
        signature: "pass",
        root: "pass",
        report: "pass",
      });
      expect(await page.getByTestId("private-summary").count()).toBe(0);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });
});

describe("verify my balance: demo-private through the real Worker", () => {
  let live: LiveDemo | undefined;

  beforeAll(async () => {
    // The plain demo is not under test here: few users keep the boot short; demo-private has its 200.
    live = await startLiveDemo("private-page", { users: 20, privateIssuer: true });
  });

  afterAll(async () => {
    await live?.stop();
  });

  it("accepts a demo-private user's proof made by the Worker, and refuses it with a sibling commitment changed", async () => {
    const demo = live!.demo;
    const user = demo.privateUsers[40]!; // not one of the three listed in /demo/users.json
    const context = await browser!.newContext({ viewport: WIDE });
    const page = await context.newPage();
    const errors: string[] = [];
    const wasmTypes: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("response", (r) => {
      if (r.url().endsWith("/range-proofs.wasm")) wasmTypes.push(r.headers()["content-type"] ?? "");
    });
    try {
      await page.goto(`${demo.base}/#/verify-balance/demo-private`);
      await page.waitForSelector("body[data-ready]", { timeout: 30_000 });
      await verify(page, user);
      expect(await page.getByTestId("verdict").textContent()).toMatch(
        /^✓ VALID: your balances \(.+ USD, .+ ETH\) are included in attestation #\d+, signed by 0x[0-9a-fA-F]{40}; the proof revealed no other user's balance$/,
      );
      expect(await stepStatuses(page)).toMatchObject({
        "fetch-proof": "pass",
        "load-verifier": "note",
        path: "pass",
        opening: "pass",
        range: "pass",
        signature: "pass",
        root: "pass",
        report: "pass",
      });
      // The Worker's static assets serve the module with its type, so the page compiles it while it streams in.
      expect(wasmTypes).toEqual(["application/wasm"]);
      await page.locator("#balance-result").screenshot({ path: join(SCREENSHOTS, "private-demo-accepted.png") });

      const latest = (await (await fetch(`${demo.base}/v1/issuers/demo-private/attestations/latest`)).json()) as {
        attestation: { sequence: string };
      };
      const res = await fetch(
        `${demo.base}/v1/issuers/demo-private/proofs/${latest.attestation.sequence}/${userCommitmentHex(user.salt, user.userId)}`,
      );
      expect(res.status).toBe(200);
      const proof = (await res.json()) as PrivateInclusionProof;
      proof.path[2]!.commitments[1] = proof.path[3]!.commitments[1]!;
      await verify(page, user, JSON.stringify(proof));
      expect(await page.getByTestId("verdict").textContent()).toMatch(/^✗ INVALID: /);
      expect(await page.getByTestId("private-summary").getAttribute("data-failed")).toBe("path");
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
