#!/usr/bin/env node
// The `solvent` command. Runs the TypeScript CLI through tsx so that the CLI,
// the Worker and the page share one copy of the core.
import { register } from "tsx/esm/api";

register();
const { main } = await import("./cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
