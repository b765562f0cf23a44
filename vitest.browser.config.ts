import { defineConfig } from "vitest/config";
import "./test/support/node20.js";

// Live tests: the page in Chromium (playwright-core, /usr/bin/chromium), and
// the CLI, against a local publisher each file starts on free ports. Booting anvil and
// wrangler dev takes 20-40 s, so hooks get a long timeout; files run one at a
// time to keep to the machine's cores.
export default defineConfig({
  test: {
    include: ["test/browser/**/*.test.ts", "test/live/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 240_000,
    fileParallelism: false,
  },
});
