import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import "./test/support/node20.js";

/** Published test secrets: never use them for anything real. */
export const TEST_SIGNING_KEY = "0xf214f2b2cd398c806f84e317254e0f0b801d0643303237d97a22a48e01628897";
export const TEST_ADMIN_TOKEN = "test-admin-token-0123456789abcdef";

// workerd side: the same core suite, plus the Worker itself. D1 migrations are
// applied by test/worker/setup.ts; anvil with the demo world is started once by
// test/worker/globalSetup.ts and handed to the Worker as its configuration.
export default defineConfig({
  plugins: [
    cloudflareTest(async ({ inject }) => {
      const world = JSON.parse(inject("demoWorld")) as { config: unknown };
      return {
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: await readD1Migrations("./migrations"),
            TEST_WORLD: inject("demoWorld"),
            TEST_RPC_PROXY: inject("rpcProxy"),
            SOLVENT_CONFIG: JSON.stringify(world.config),
            SIGNING_KEY: TEST_SIGNING_KEY,
            ADMIN_TOKEN: TEST_ADMIN_TOKEN,
          },
        },
      };
    }),
  ],
  test: {
    include: ["test/core/**/*.test.ts", "test/worker/**/*.test.ts"],
    globalSetup: ["./test/worker/globalSetup.ts"],
    setupFiles: ["./test/worker/setup.ts"],
    testTimeout: 60_000,
  },
});
