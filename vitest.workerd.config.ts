import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import "./test/support/node20.js";

// workerd side: the same core suite, plus the Worker itself.
export default defineConfig({
  plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.toml" } })],
  test: {
    include: ["test/core/**/*.test.ts", "test/worker/**/*.test.ts"],
    testTimeout: 60_000,
  },
});
