/**
 * `npm start`: the local publisher. Runs the Worker with `wrangler dev`
 * (local D1 and R2 under .wrangler/state) on 127.0.0.1:$PORT (8787 by default).
 * Ctrl-C stops everything this script started.
 */
import { spawn } from "node:child_process";

const port = process.env.PORT ?? "8787";
if (!/^[0-9]{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
  console.error(`PORT must be a TCP port number, got "${port}"`);
  process.exit(2);
}

const wrangler = spawn("npx", ["wrangler", "dev", "--ip", "127.0.0.1", "--port", port], {
  stdio: "inherit",
  env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => wrangler.kill(signal));
}
wrangler.on("exit", (code) => process.exit(code ?? 0));
