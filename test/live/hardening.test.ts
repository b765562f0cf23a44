/**
 * Hardening against a real `wrangler dev` (workerd behind wrangler's local
 * HTTP server, the real Cache API and rate-limit bindings), on a free
 * loopback port with throwaway state:
 *  - a client that sends a request body one byte every 2 s, over a raw
 *    socket, is answered 408 once the documented bound (10 s, then 16 KiB/s)
 *    has passed, instead of being held for as long as it keeps trickling;
 *  - public answers are stored in, and served from, the edge cache;
 *  - a burst over a route group's budget is refused with the real wait in
 *    Retry-After, and admitted again once it has passed.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWranglerDev, type WranglerDev } from "../../scripts/lib/localWorker.js";
import { BODY_GRACE_SECONDS } from "../../worker/api/bodyTimeout.js";
import { expectBurstRefusedThenAdmitted } from "../support/burst.js";

let dir: string;
let dev: WranglerDev;
const adminToken = randomBytes(24).toString("hex");

const config = {
  version: 1,
  issuers: [
    {
      id: "live",
      name: "Live",
      assets: [
        { id: "USD", decimals: 6, pegCurrency: true, prices: [{ kind: "fixed", priceUsd: "1000000000000000000" }] },
      ],
      liabilities: { ledger: { assets: ["USD"] } },
      reserves: {
        custodians: [{ id: "trust", signers: [`0x${"12".repeat(20)}`], accounts: [{ account: "main", asset: "USD" }] }],
      },
    },
  ],
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "solvent-hardening-"));
  const envFile = join(dir, "live.env");
  await writeFile(
    envFile,
    `${[`SOLVENT_CONFIG='${JSON.stringify(config)}'`, `SIGNING_KEY=0x${randomBytes(32).toString("hex")}`, `ADMIN_TOKEN=${adminToken}`].join("\n")}\n`,
    { mode: 0o600 },
  );
  dev = await startWranglerDev({ persistTo: join(dir, "state"), envFiles: [envFile], startupTimeoutMs: 180_000 });
});

afterAll(async () => {
  await dev?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/**
 * POSTs a statement body one byte every `everyMs` over a raw HTTP/1.1
 * connection and resolves with the status line and the seconds it took; gives
 * up after `limitMs`.
 */
function trickle(
  path: string,
  body: string,
  everyMs: number,
  limitMs: number,
): Promise<{ status: number; seconds: number; text: string }> {
  const { hostname, port } = new URL(dev.base);
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(Number(port), hostname);
    let answer = "";
    let sent = 0;
    let timer: ReturnType<typeof setInterval> | undefined;
    const giveUp = setTimeout(() => finish(new Error(`no answer within ${limitMs / 1000} s`)), limitMs);
    function finish(error?: Error) {
      clearInterval(timer);
      clearTimeout(giveUp);
      socket.destroy();
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
      if (error && !status) reject(error);
      else resolve({ status, seconds: (Date.now() - started) / 1000, text: answer });
    }
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      answer += chunk;
      if (/\r\n\r\n/.test(answer) && /^HTTP\/1\.1 \d{3}/.test(answer)) setTimeout(() => finish(), 200);
    });
    socket.on("error", (e) => finish(e));
    socket.on("connect", () => {
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${adminToken}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
      );
      timer = setInterval(() => {
        if (sent < body.length && !socket.destroyed) socket.write(body[sent++]!);
      }, everyMs);
    });
  });
}

describe("against wrangler dev", () => {
  it("cuts a body sent one byte every 2 s with 408 once the bound has passed", async () => {
    const body = JSON.stringify({
      statement: { issuer: "live", custodian: "trust" },
      signature: `0x${"11".repeat(65)}`,
    });
    const { status, seconds, text } = await trickle("/v1/admin/issuers/live/statements", body, 2000, 40_000);
    expect(status, text.slice(0, 500)).toBe(408);
    expect(text).toContain("REQUEST_TIMEOUT");
    expect(text.toLowerCase()).toContain("cache-control: no-store");
    // the bound is 10 s (a few bytes earn a few ms more); the body would have taken over 3 minutes
    expect(seconds).toBeGreaterThanOrEqual(BODY_GRACE_SECONDS - 0.5);
    expect(seconds).toBeLessThan(BODY_GRACE_SECONDS + 5);
  });

  it("serves a public answer from the edge cache the second time", async () => {
    const first = await fetch(`${dev.base}/openapi.json`);
    expect(first.status).toBe(200);
    expect(first.headers.get("x-solvent-cache")).toBe("miss");
    const second = await fetch(`${dev.base}/openapi.json`);
    expect(second.headers.get("x-solvent-cache")).toBe("hit");
    expect(await second.text()).toBe(await first.text());
  });

  it("refuses a burst over the read budget only until the window ends, as Retry-After says", async () => {
    await expectBurstRefusedThenAdmitted(() => fetch(`${dev.base}/v1/issuers/nobody/attestations/latest`), 400, 404);
  });
});
