import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import "./test/support/node20.js";

import { demoRelayerKey } from "./scripts/demo/world.js";
import { TEST_ADMIN_TOKEN, TEST_SIGNING_KEY } from "./test/support/testSecrets.js";

// workerd side: the same core suite, plus the Worker itself. D1 migrations are
// applied by test/worker/setup.ts; anvil with the demo world is started once by
// test/worker/globalSetup.ts and handed to the Worker as its configuration.
export default defineConfig({
  plugins: [
    cloudflareTest(async ({ inject }) => {
      const world = JSON.parse(inject("demoWorld")) as { config: { issuers: Record<string, unknown>[] } };
      // Test files share one anvil but each has its own D1 (sequences restart at 1), so only
      // test/worker/relayer.test.ts relays to the shared oracle, with the world's full config.
      const withoutRelayers = {
        ...world.config,
        issuers: world.config.issuers.map(({ relayer: _relayer, ...issuer }) => issuer),
      };
      return {
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: await readD1Migrations("./migrations"),
            TEST_WORLD: inject("demoWorld"),
            TEST_RELAY_WORLD: inject("relayWorld"),
            TEST_RPC_PROXY: inject("rpcProxy"),
            TEST_WEBHOOK_RECEIVER: inject("webhookReceiver"),
            SOLVENT_CONFIG: JSON.stringify(withoutRelayers),
            SIGNING_KEY: TEST_SIGNING_KEY,
            ADMIN_TOKEN: TEST_ADMIN_TOKEN,
            RELAYER_KEY: demoRelayerKey(),
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
