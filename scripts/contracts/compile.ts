/**
 * Compiles every `contracts/**\/*.sol` (except `contracts/out`) with the bundled
 * solc-js and writes one artifact per deployable contract to
 * `contracts/out/<ContractName>.json`. Settings are fixed and metadata hashes are
 * off, so the output is byte-for-byte reproducible and can be committed.
 *
 *   npx tsx scripts/contracts/compile.ts
 */
import { readFileSync } from "node:fs";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import solc from "solc";
import type { Artifact } from "../lib/artifacts.js";

export type { Artifact };

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const contractsDir = join(repoRoot, "contracts");
export const outDir = join(contractsDir, "out");

/** Where a contracts tree keeps its artifacts; never compiled itself. */
const outDirOf = (dir: string): string => join(dir, "out");

/** Fixed compiler settings; changing any of them changes every artifact. */
export const compilerSettings = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: "cancun",
  metadata: { bytecodeHash: "none" },
  outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
} as const;

interface SolcError {
  severity: "error" | "warning" | "info";
  formattedMessage?: string;
  message: string;
}

interface SolcContract {
  abi: Artifact["abi"];
  evm: { bytecode: { object: string }; deployedBytecode: { object: string } };
}

interface SolcOutput {
  errors?: SolcError[];
  /** sourceName -> contractName -> output */
  contracts?: Record<string, Record<string, SolcContract>>;
}

export class CompileError extends Error {
  constructor(readonly messages: string[]) {
    super(`solc ${solc.version()} failed:\n${messages.join("\n")}`);
    this.name = "CompileError";
  }
}

/** All .sol files under `dir` except its `out/`, as absolute paths. */
async function findSources(dir: string, root: string = dir): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (path !== outDirOf(root)) found.push(...(await findSources(path, root)));
    } else if (entry.isFile() && entry.name.endsWith(".sol")) {
      found.push(path);
    }
  }
  return found.sort();
}

/**
 * solc-js's import callback (synchronous). Source names are relative to the
 * parent of the contracts directory (`contracts/demo/DemoToken.sol`); only files
 * inside the contracts directory may be imported, nothing from node_modules.
 */
function importReader(dir: string) {
  const base = dirname(dir);
  return (sourceName: string): { contents: string } | { error: string } => {
    const path = resolve(base, sourceName);
    if (!path.startsWith(dir + sep) || path.startsWith(outDirOf(dir) + sep)) {
      return { error: `import outside ${relative(base, dir)}/: ${sourceName}` };
    }
    try {
      return { contents: readFileSync(path, "utf8") };
    } catch (error) {
      return { error: `cannot read ${sourceName}: ${(error as Error).message}` };
    }
  };
}

function prefixed(hex: string): `0x${string}` {
  return `0x${hex}`;
}

export interface CompileOptions {
  /** The tree to compile; defaults to this repository's `contracts/`. */
  contractsDir?: string;
  /** Receives each solc warning (formatted); warnings do not fail the build. */
  onWarning?: (message: string) => void;
}

/** Compiles all sources in-process; throws CompileError with solc's messages on any error. */
export async function compileContracts(options: CompileOptions = {}): Promise<Record<string, Artifact>> {
  const dir = resolve(options.contractsDir ?? contractsDir);
  const paths = await findSources(dir);
  if (paths.length === 0) throw new CompileError([`no .sol files under ${dir}`]);
  const sources: Record<string, { content: string }> = {};
  for (const path of paths) {
    sources[relative(dirname(dir), path).split(sep).join("/")] = { content: await readFile(path, "utf8") };
  }

  const input = { language: "Solidity", sources, settings: compilerSettings };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: importReader(dir) })) as SolcOutput;

  const errors = (output.errors ?? []).filter((e) => e.severity === "error");
  for (const warning of (output.errors ?? []).filter((e) => e.severity === "warning")) {
    options.onWarning?.(warning.formattedMessage ?? warning.message);
  }
  if (errors.length > 0) throw new CompileError(errors.map((e) => e.formattedMessage ?? e.message));

  const artifacts: Record<string, Artifact> = {};
  const duplicates: string[] = [];
  for (const sourceName of Object.keys(output.contracts ?? {}).sort()) {
    const contracts = output.contracts?.[sourceName] ?? {};
    for (const contractName of Object.keys(contracts).sort()) {
      const compiled = contracts[contractName];
      // Interfaces and abstract contracts have no bytecode and are not deployable.
      if (!compiled || compiled.evm.bytecode.object === "") continue;
      const existing = artifacts[contractName];
      if (existing) {
        duplicates.push(`contract name ${contractName} is defined in ${existing.sourceName} and ${sourceName}`);
        continue;
      }
      artifacts[contractName] = {
        contractName,
        sourceName,
        abi: compiled.abi,
        bytecode: prefixed(compiled.evm.bytecode.object),
        deployedBytecode: prefixed(compiled.evm.deployedBytecode.object),
      };
    }
  }
  if (duplicates.length > 0) throw new CompileError(duplicates);
  return artifacts;
}

/** The exact file text written for an artifact (fixed key order, 2-space JSON, trailing newline). */
export function serializeArtifact(artifact: Artifact): string {
  const { contractName, sourceName, abi, bytecode, deployedBytecode } = artifact;
  return `${JSON.stringify({ contractName, sourceName, abi, bytecode, deployedBytecode }, null, 2)}\n`;
}

/** Writes `contracts/out/<Name>.json` for each artifact and removes stale artifact files. */
export async function writeArtifacts(artifacts: Record<string, Artifact>): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const wanted = new Set(Object.keys(artifacts).map((name) => `${name}.json`));
  for (const file of await readdir(outDir)) {
    if (file.endsWith(".json") && !wanted.has(file)) await rm(join(outDir, file));
  }
  const written: string[] = [];
  for (const name of Object.keys(artifacts).sort()) {
    const artifact = artifacts[name];
    if (!artifact) continue;
    const path = join(outDir, `${name}.json`);
    await writeFile(path, serializeArtifact(artifact));
    written.push(relative(repoRoot, path));
  }
  return written;
}

async function main(): Promise<void> {
  try {
    const artifacts = await compileContracts({ onWarning: (message) => console.warn(message) });
    const written = await writeArtifacts(artifacts);
    console.log(`solc ${solc.version()}: wrote ${written.length} artifacts\n  ${written.join("\n  ")}`);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await main();
}
