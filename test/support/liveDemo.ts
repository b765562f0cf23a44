/**
 * A throwaway local publisher for the live suites: the demo world on anvil and
 * the Worker under wrangler dev, on free ports, with fresh keys and state in a
 * temporary directory that stop() removes.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesToHex } from "../../core/bytes.js";
import { type RunningDemo, startDemo } from "../../scripts/demo/runDemo.js";

export interface LiveDemo {
  demo: RunningDemo;
  adminToken: string;
  /** The temporary directory (state, generated files): free for the test's own files too. */
  dir: string;
  stop(): Promise<void>;
}

/** `privateIssuer` also runs demo-private, whose ledger is private (SPEC §11) and built through the queue. */
export async function startLiveDemo(
  name: string,
  options: { users: number; privateIssuer?: boolean },
): Promise<LiveDemo> {
  const dir = await mkdtemp(join(tmpdir(), `solvent-${name}-`));
  try {
    const adminToken = bytesToHex(crypto.getRandomValues(new Uint8Array(24))).slice(2);
    const secrets = join(dir, "secrets.env");
    await writeFile(
      secrets,
      `SIGNING_KEY=${bytesToHex(crypto.getRandomValues(new Uint8Array(32)))}\nADMIN_TOKEN=${adminToken}\n`,
      { mode: 0o600 },
    );
    const demo = await startDemo({
      port: 0,
      anvilPort: 0,
      persistTo: join(dir, "state"),
      workDir: join(dir, "work"),
      secretFiles: [secrets],
      adminToken,
      users: options.users,
      ...(options.privateIssuer ? { privateIssuer: true } : {}),
      tickMs: 0,
      wranglerOutput: "ignore",
    });
    return {
      demo,
      adminToken,
      dir,
      async stop() {
        await demo.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}
