import { defineConfig } from "vitest/config";
import "./test/support/node20.js";

// Node side: the shared core suite, the CLI and scripts, and worker modules
// that need only the network (chain readers against anvil).
export default defineConfig({
  test: {
    include: ["test/core/**/*.test.ts", "test/scripts/**/*.test.ts", "test/node/**/*.test.ts"],
    testTimeout: 60_000,
  },
});
