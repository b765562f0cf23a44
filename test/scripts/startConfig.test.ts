/**
 * `npm start -- --config FILE` refuses what it cannot run before it starts
 * anything (the configuration by JSON path, the secrets by the Worker's own
 * rules, --anvil without a chain that names it), and keeps one state
 * directory per configuration file.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  defaultStateDir,
  parseEnvFile,
  type RunConfigOptions,
  runConfig,
  UnusableInput,
} from "../../scripts/local/runConfig.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "solvent-start-config-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const GOOD_SECRETS = `SIGNING_KEY=0x${"42".repeat(32)}\nADMIN_TOKEN=a-good-admin-token-0123456789\n`;
const config = (overrides: Record<string, unknown> = {}) => ({
  version: 1,
  chains: [{ chainId: 31337, rpcUrls: ["http://127.0.0.1:8545"] }],
  issuers: [
    {
      id: "acme",
      name: "Acme",
      assets: [
        { id: "USD", decimals: 6, pegCurrency: true, prices: [{ kind: "fixed", priceUsd: "1000000000000000000" }] },
      ],
      liabilities: { ledger: { assets: ["USD"] } },
      reserves: {},
      ...overrides,
    },
  ],
});

async function attempt(configJson: unknown, secrets: string, options: Partial<RunConfigOptions> = {}): Promise<Error> {
  const file = join(dir, `c-${Math.random().toString(36).slice(2)}.json`);
  const envFile = `${file}.env`;
  await writeFile(file, typeof configJson === "string" ? configJson : JSON.stringify(configJson));
  await writeFile(envFile, secrets);
  try {
    await runConfig({
      config: file,
      port: 0,
      anvilPort: 8545,
      anvil: false,
      envFiles: [envFile],
      state: join(dir, "state"),
      fresh: false,
      tickMs: 0,
      log: () => {},
      ...options,
    });
  } catch (e) {
    return e as Error;
  }
  throw new Error("runConfig started where it should have refused");
}

describe("npm start -- --config FILE", () => {
  it("refuses a configuration with every problem by JSON path", async () => {
    const e = await attempt(config({ id: "Bad Id", policy: { ttlSeconds: -1 } }), GOOD_SECRETS);
    expect(e).toBeInstanceOf(UnusableInput);
    expect(e.message).toMatch(/is not a usable configuration:\n {2}issuers\[0\]\.id: /);
    expect(e.message).toContain("issuers[0].policy.ttlSeconds");
  });

  it("refuses secrets the Worker would refuse, by the same rule, without their values", async () => {
    const e = await attempt(config(), `SIGNING_KEY=0x${"42".repeat(32)}\nADMIN_TOKEN=${"x".repeat(23)}\n`);
    expect(e).toBeInstanceOf(UnusableInput);
    expect(e.message).toContain("ADMIN_TOKEN must be at least 24 characters");
    expect(e.message).not.toContain("x".repeat(23));
  });

  it("takes a secret the configuration names from the environment when no file sets it", async () => {
    const named = { ...config(), chains: [{ chainId: 31337, rpcUrls: ["http://127.0.0.1:8545/${LOCAL_RPC_KEY}"] }] };
    const missing = await attempt(named, GOOD_SECRETS);
    expect(missing.message).toContain("LOCAL_RPC_KEY (named by chains[0].rpcUrls[0]) is not set");
    process.env.LOCAL_RPC_KEY = "it's$pecial";
    try {
      const quoted = await attempt(named, GOOD_SECRETS);
      expect(quoted.message).toContain("LOCAL_RPC_KEY from the environment holds ' or $");
    } finally {
      delete process.env.LOCAL_RPC_KEY;
    }
  });

  it("with --anvil, needs a chain at the local URL with chain id 31337", async () => {
    const elsewhere = await attempt(
      { ...config(), chains: [{ chainId: 1, rpcUrls: ["https://rpc.example"] }] },
      GOOD_SECRETS,
      { anvil: true, anvilPort: 8607 },
    );
    expect(elsewhere.message).toContain("--anvil starts a local chain at http://127.0.0.1:8607 (chain id 31337), but");
    expect(elsewhere.message).toContain('add { "chainId": 31337, "rpcUrls": ["http://127.0.0.1:8607"] }');
    const wrongId = await attempt(
      { ...config(), chains: [{ chainId: 5, rpcUrls: ["http://localhost:8607"] }] },
      GOOD_SECRETS,
      { anvil: true, anvilPort: 8607 },
    );
    expect(wrongId.message).toContain("(it says 5)");
  });

  it("keeps one state directory per configuration file, apart from the demo's", () => {
    const a = defaultStateDir("configs/a/my.json");
    const b = defaultStateDir("configs/b/my.json");
    expect(a).toMatch(/^\.wrangler\/local\/my-[0-9a-f]{8}$/);
    expect(b).not.toBe(a);
    expect(defaultStateDir("configs/a/my.json")).toBe(a);
  });

  it("reads env files as wrangler does", () => {
    expect(parseEnvFile("# c\nA=1\nexport B='x y'\nC=\"q\\nr\"\nD=v # note\nnot a line\n")).toEqual({
      A: "1",
      B: "x y",
      C: "q\nr",
      D: "v",
    });
  });
});
