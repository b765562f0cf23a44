/**
 * The README's "Publish your own reserves, step by step", run as written:
 * every ```sh block of that section, in order, each command as a reader would
 * type it (`npx solvent …` as the real CLI process, `npm start -- --config …
 * --anvil` as the real local publisher with anvil and wrangler dev, `curl` as
 * the same HTTP request), on free ports and in a temporary directory. The
 * one step in prose (pasting the ownership entry into the file) is done as
 * the README says. A command of a shape this runner does not know fails the
 * test, so the guide cannot drift from what is tested.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { bytesToHex } from "../../core/bytes.js";
import { getFreePort } from "../../scripts/lib/anvil.js";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const README_PORT = "127.0.0.1:8787";
const README_ANVIL = "127.0.0.1:8545";

/** The sh blocks of the guide, each as its commands (continuations joined, comments and blank lines dropped). */
function guideCommands(readme: string): string[][] {
  const section = readme.split(/^## /m).find((s) => s.startsWith("Publish your own reserves, step by step"));
  if (!section) throw new Error('README.md has no "## Publish your own reserves, step by step" section');
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((block) =>
    block[1]!
      .replace(/\\\n\s*/g, "")
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line !== "" && !line.startsWith("#")),
  );
}

/** Shell words: '…' literal, "…" and bare words with $NAME expanded, `&&` and `>` as words of their own. */
function words(line: string, env: Record<string, string | undefined>): string[] {
  const out: string[] = [];
  const expand = (text: string) =>
    text.replace(/\$([A-Za-z_][A-Za-z0-9_]*)/g, (_, name: string) => {
      const value = env[name];
      if (value === undefined) throw new Error(`the guide uses $${name} before setting it: ${line}`);
      return value;
    });
  const re = /\s*(?:'([^']*)'|"((?:[^"\\]|\\.)*)"|(&&|>)|([^\s'"&>]+))/y;
  let word: string | null = null;
  let i = 0;
  while (i < line.length) {
    const before = i;
    re.lastIndex = i;
    const m = re.exec(line);
    if (!m) throw new Error(`cannot read shell words in: ${line}`);
    i = re.lastIndex;
    const spaced = /^\s/.test(line.slice(before, before + 1)) && before > 0;
    if (spaced && word !== null) {
      out.push(word);
      word = null;
    }
    if (m[3] !== undefined) {
      if (word !== null) out.push(word);
      out.push(m[3]);
      word = null;
      continue;
    }
    const piece = m[1] !== undefined ? m[1] : m[2] !== undefined ? expand(m[2].replace(/\\(.)/g, "$1")) : expand(m[4]!);
    word = (word ?? "") + piece;
  }
  if (word !== null) out.push(word);
  return out;
}

interface Run {
  code: number | null;
  out: string;
  err: string;
}

function run(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<Run> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("exit", (code) => resolvePromise({ code, out, err }));
  });
}

let dir: string | undefined;
let publisher: ChildProcess | undefined;
let publisherOutput = "";

async function stopPublisher(): Promise<void> {
  const child = publisher;
  if (!child?.pid || child.exitCode !== null) return;
  const gone = new Promise((r) => child.once("exit", r));
  // npm, its shell and the start script share the group; the script stops anvil and wrangler dev itself.
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, name);
    } catch {
      // the group is gone already
    }
  };
  signal("SIGINT");
  await Promise.race([gone, new Promise((r) => setTimeout(r, 15_000))]);
  signal("SIGKILL");
}

afterAll(async () => {
  await stopPublisher();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("README: publish your own reserves, step by step", () => {
  it("runs every step against anvil and wrangler dev, and the user's inclusion verifies", async () => {
    dir = await mkdtemp(join(tmpdir(), "solvent-guide-"));
    const work = dir;
    const [port, anvilPort] = [await getFreePort(), await getFreePort()];
    const base = `http://127.0.0.1:${port}`;
    // .dev.vars of the guide: this test's own, so the clone's file is never touched.
    const adminToken = bytesToHex(crypto.getRandomValues(new Uint8Array(24))).slice(2);
    const devVars = join(work, "dev.vars");
    await writeFile(
      devVars,
      `SIGNING_KEY=${bytesToHex(crypto.getRandomValues(new Uint8Array(32)))}\nADMIN_TOKEN=${adminToken}\n`,
      { mode: 0o600 },
    );
    const stateDir = join(work, "state");

    const blocks = guideCommands(await readFile(join(REPO, "README.md"), "utf8"));
    expect(blocks.length).toBeGreaterThanOrEqual(8);
    const env: Record<string, string | undefined> = { ...process.env };
    const inWork = (file: string) => (file.startsWith("/") ? file : join(work, file));
    const seen = new Set<string>();
    let published: { published: boolean; ratioBps: number; flags: string[]; sequence: string } | undefined;

    for (const block of blocks) {
      for (const raw of block) {
        const line = raw
          .replaceAll(README_PORT, `127.0.0.1:${port}`)
          .replaceAll(README_ANVIL, `127.0.0.1:${anvilPort}`);
        const exported = /^export ([A-Z_]+)=\$\(sed -n 's\/\^ADMIN_TOKEN=\/\/p' \.dev\.vars\)$/.exec(line);
        if (exported) {
          env[exported[1]!] = /^ADMIN_TOKEN=(.+)$/m.exec(await readFile(devVars, "utf8"))![1];
          seen.add("export");
          continue;
        }
        const argv = words(line, env);
        const commands: string[][] = [[]];
        for (const w of argv) w === "&&" ? commands.push([]) : commands.at(-1)!.push(w);
        for (const command of commands) {
          const [name, ...args] = command;
          const where = `README guide: ${raw}`;
          if (name === "echo" && args.length === 3 && args[1] === ">") {
            await writeFile(inWork(args[2]!), `${args[0]}\n`);
          } else if (name === "printf" && args.length === 3 && args[1] === ">") {
            await writeFile(inWork(args[2]!), args[0]!.replace(/\\n/g, "\n"));
          } else if (name === "chmod" && args.length === 2) {
            await chmod(inWork(args[1]!), Number.parseInt(args[0]!, 8));
          } else if (name === "npx" && args[0] === "solvent") {
            const result = await run(process.execPath, [join(REPO, "scripts/solvent.mjs"), ...args.slice(1)], {
              cwd: work,
              env,
            });
            expect(result.code, `${where}\n${result.out}\n${result.err}`).toBe(0);
            seen.add(`solvent ${args[1]}`);
            if (args[1] === "ownership") {
              // The step in prose: the printed entry replaces the holder's "none".
              const entry = JSON.parse(`{${/^"ownership": \{.*\}$/m.exec(result.out)![0]}}`) as { ownership: unknown };
              const file = inWork("acme.json");
              const config = JSON.parse(await readFile(file, "utf8"));
              const holder = config.issuers[0].reserves.holders.find(
                (h: { address: string }) => h.address === args[args.indexOf("--address") + 1],
              );
              expect(holder.ownership).toEqual({ kind: "none" });
              holder.ownership = entry.ownership;
              await writeFile(file, `${JSON.stringify(config, null, 2)}\n`);
            }
            if (args[1] === "verify") {
              expect(result.out).toMatch(/^VALID: your balances are included in attestation #1\b/m);
              expect(result.out).not.toMatch(/\[FAIL\]/);
            }
          } else if (name === "npm" && args[0] === "start" && args[1] === "--") {
            const rest = args.slice(2).map((a) => (existsSync(inWork(a)) ? inWork(a) : a));
            publisher = spawn("npm", ["start", "--", ...rest, "--env-file", devVars, "--state", stateDir], {
              cwd: REPO,
              env: { ...process.env, PORT: String(port), ANVIL_PORT: String(anvilPort) },
              stdio: ["ignore", "pipe", "pipe"],
              detached: true,
            });
            publisher.stdout!.on("data", (d: Buffer) => (publisherOutput += d.toString()));
            publisher.stderr!.on("data", (d: Buffer) => (publisherOutput += d.toString()));
            const deadline = Date.now() + 150_000;
            while (!publisherOutput.includes("Solvent is publishing")) {
              if (publisher.exitCode !== null || Date.now() > deadline)
                throw new Error(`${where} did not start:\n${publisherOutput.slice(-3000)}`);
              await new Promise((r) => setTimeout(r, 500));
            }
            seen.add("npm start");
            // The guide's addresses are the ones --anvil deployed.
            const sample = JSON.parse(await readFile(join(stateDir, "anvil.json"), "utf8")) as Record<string, string>;
            const config = JSON.parse(await readFile(inWork("acme.json"), "utf8"));
            expect(config.issuers[0].reserves.holders[0].holdings[0].token).toBe(sample.usdc);
            expect(config.issuers[0].assets.find((a: { id: string }) => a.id === "USDC").prices[0].feed).toBe(
              sample.usdcFeed,
            );
            expect(publisherOutput).toContain("acme: no attestation yet");
          } else if (name === "curl") {
            const method = args[args.indexOf("-X") + 1]!;
            const url = args.find((a) => a.startsWith("http"))!;
            const headers: Record<string, string> = {};
            args.forEach((a, i) => {
              if (args[i - 1] === "-H") headers[a.slice(0, a.indexOf(":")).trim()] = a.slice(a.indexOf(":") + 1).trim();
            });
            const data = args.includes("-d") ? args[args.indexOf("-d") + 1]! : undefined;
            const body = data?.startsWith("@") ? await readFile(inWork(data.slice(1)), "utf8") : data;
            const res = await fetch(url, { method, headers, ...(body === undefined ? {} : { body }) });
            const text = await res.text();
            expect(res.status, `${where}\n${text}`).toBe(201);
            seen.add(`curl ${new URL(url).pathname.split("/").at(-1)}`);
            if (url.endsWith("/publish")) published = JSON.parse(text);
          } else {
            throw new Error(`the guide runner does not know this command; teach it or change the guide: ${raw}`);
          }
        }
      }
    }

    // Every step the README promises was taken, and the outcome is the one it describes.
    expect([...seen].sort()).toEqual(
      [
        "curl publish",
        "curl statements",
        "export",
        "npm start",
        "solvent config",
        "solvent init",
        "solvent ledger",
        "solvent ownership",
        "solvent statement",
        "solvent verify",
      ].sort(),
    );
    expect(published).toMatchObject({ published: true, sequence: "1", ratioBps: 14500, flags: [] });
    const issuers = (await (await fetch(`${base}/v1/issuers`)).json()) as unknown;
    expect(JSON.stringify(issuers)).toContain('"acme"');
  }, 240_000);
});
