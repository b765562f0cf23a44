import { defineConfig } from "vitest/config";
import "./test/support/node20.js";

// Node side: the shared core suite plus the CLI and scripts.
export default defineConfig({
  test: {
    include: ["test/core/**/*.test.ts", "test/scripts/**/*.test.ts"],
    testTimeout: 60_000,
  },
});
