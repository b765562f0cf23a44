/**
 * The CLI against a real local publisher (the demo world on anvil, the Worker
 * under wrangler dev): it passes the publisher's own words through, shows
 * balances in the assets' units, exits as documented, and what `solvent
 * statement sign` prints is accepted by the real statements route.
 */

import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningDemo } from "../../scripts/demo/runDemo.js";
import { demoAccounts } from "../../scripts/demo/world.js";
import { type LiveDemo, startLiveDemo } from "../support/liveDemo.js";
import { runCli } from "../support/runCli.js";

let live: LiveDemo;
let demo: RunningDemo;

beforeAll(async () => {
  live = await startLiveDemo("live-cli", { users: 10 });
  demo = live.demo;
});

afterAll(async () => {
  await live?.stop();
});

const cli = runCli;

describe("solvent verify --publisher, on a par with the page", () => {
  it("verifies a demo user, with balances in the assets' units", async () => {
    const user = demo.users[0]!;
    const { code, stdout } = await cli(
      "verify",
      "--publisher",
      demo.base,
      "--issuer",
      "demo",
      "--user",
      user.userId,
      "--salt",
      user.salt,
    );
    expect(code, stdout).toBe(0);
    const usd = BigInt(user.balances.USD);
    const whole = (usd / 1_000_000n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    expect(stdout).toContain(`your balances (${whole}`);
    expect(stdout).toMatch(/your balances \([0-9,]+(\.[0-9]+)? USD, [0-9,]+(\.[0-9]+)? ETH\)/);
    expect(stdout).not.toContain(`USD ${usd}`);
    const json = JSON.parse(
      (
        await cli(
          "verify",
          "--publisher",
          demo.base,
          "--issuer",
          "demo",
          "--user",
          user.userId,
          "--salt",
          user.salt,
          "--json",
        )
      ).stdout,
    );
    expect(json).toMatchObject({ valid: true, unusable: false });
    expect(json.verdict).toMatch(/^VALID: /);
  });

  it("passes the publisher's message for an unknown issuer through, exit 2", async () => {
    const user = demo.users[0]!;
    const { code, stdout, stderr } = await cli(
      "verify",
      "--publisher",
      demo.base,
      "--issuer",
      "nope",
      "--user",
      user.userId,
      "--salt",
      user.salt,
    );
    expect(code).toBe(2);
    expect(stderr).toContain('the publisher says: issuer "nope" is not published here (UNKNOWN_ISSUER, HTTP 404)');
    expect(stderr).not.toMatch(/answered HTTP 404/);
    expect(stdout).toBe("");
  });

  it("says an issuer without a user ledger has no user balances, exit 1", async () => {
    const user = demo.users[0]!;
    const { code, stdout } = await cli(
      "verify",
      "--publisher",
      demo.base,
      "--issuer",
      "demo-stable",
      "--user",
      user.userId,
      "--salt",
      user.salt,
    );
    expect(code).toBe(1);
    expect(stdout).toMatch(/has no user ledger \(NOT_FOUND, HTTP 404\)/);
    expect(stdout).toContain("INVALID: issuer demo-stable publishes no user balances");
    expect(stdout).not.toContain("check the user id and the salt");
  });

  it("says a commitment that is not in the snapshot is not there, in the publisher's words, exit 1", async () => {
    const { code, stdout } = await cli(
      "verify",
      "--publisher",
      demo.base,
      "--issuer",
      "demo",
      "--user",
      "nobody@demo.example",
      "--salt",
      demo.users[0]!.salt,
    );
    expect(code).toBe(1);
    expect(stdout).toMatch(/is not in the ledger of attestation \d+\b.*\(NOT_FOUND, HTTP 404\)/);
    // The demo ledger is in commitment order, so the publisher proves the absence and the CLI checks that proof.
    expect(stdout).toMatch(/^NOT INCLUDED, PROVEN: your commitment is provably not in this snapshot/m);
    expect(stdout).toContain("check the user id and the salt");
  });

  it("keys check --json gives scripts one object", async () => {
    const { code, stdout } = await cli("keys", "check", "--publisher", demo.base, "--json");
    expect(code, stdout).toBe(0);
    const json = JSON.parse(stdout);
    expect(json).toMatchObject({ valid: true, failures: [] });
    expect(json.verdict).toMatch(/^VALID: all \d+ attestation\(s\) of 2 issuer\(s\)/);
  });

  it("keys check passes the publisher's message through too", async () => {
    const { code, stderr } = await cli("keys", "check", "--publisher", demo.base, "--issuer", "nope");
    expect(code).toBe(2);
    expect(stderr).toContain('issuer "nope" is not published here');
  });
});

describe("solvent statement sign, posted to the real route", () => {
  it("is accepted (201), and the same nonce again is refused as replayed (409) in the route's words", async () => {
    const keyFile = join(live.dir, "custodian.key");
    await writeFile(keyFile, `0x${Buffer.from(demoAccounts.custodianSigner.getHdKey().privateKey!).toString("hex")}`, {
      mode: 0o600,
    });
    const out = join(live.dir, "statement.json");
    const config = join(live.dir, "config.json");
    await writeFile(config, JSON.stringify(demo.world.config));
    const signed = await cli(
      "statement",
      "sign",
      "--config",
      config,
      "--issuer",
      "demo",
      "--custodian",
      "acme-trust",
      "--account",
      "omnibus-1",
      "--asset",
      "USD",
      "--amount",
      "950000.25",
      "--key-file",
      keyFile,
      "--out",
      out,
      "--url",
      demo.base,
    );
    expect(signed.code, signed.stderr).toBe(0);
    expect(signed.stdout).toContain("950,000.25 USD (950000250000 base units, 6 decimals)");
    const body = await readFile(out, "utf8");
    const post = () =>
      fetch(`${demo.base}/v1/admin/issuers/demo/statements`, {
        method: "POST",
        headers: { authorization: `Bearer ${live.adminToken}`, "content-type": "application/json" },
        body,
      });
    const first = await post();
    expect(first.status, await first.clone().text()).toBe(201);
    expect(((await first.json()) as { statement: { amount: string } }).statement.amount).toBe("950000250000");
    const again = await post();
    expect(again.status).toBe(409);
    expect(((await again.json()) as { error: { message: string } }).error.message).toMatch(/nonce \d+ is not newer/);
  });

  it("a body without its statement gets a message that says what the body is", async () => {
    const res = await fetch(`${demo.base}/v1/admin/issuers/demo/statements`, {
      method: "POST",
      headers: { authorization: `Bearer ${live.adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({
        issuer: "demo",
        custodian: "acme-trust",
        account: "omnibus-1",
        asset: "USD",
        amount: "1",
        asOf: "1",
        nonce: "1",
      }),
    });
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { message: string } };
    expect(error.message).toContain("the statement's fields are at the top level of the body; wrap them");
    expect(error.message).not.toContain("nonoptional");
  });
});
