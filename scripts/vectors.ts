/** `npm run vectors`: rewrites docs/test-vectors/ from the code (see scripts/vectors/generate.ts). */
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { generateVectors } from "./vectors/generate.js";

export const VECTORS_DIR = "docs/test-vectors";

const files = await generateVectors();
// Remove vector files that are no longer generated, keep the hand-written README.
for (const entry of await readdir(VECTORS_DIR, { recursive: true, withFileTypes: true })) {
  const rel = join(entry.parentPath ?? VECTORS_DIR, entry.name).slice(VECTORS_DIR.length + 1);
  if (entry.isFile() && rel.endsWith(".json") && !files.has(rel)) await rm(join(VECTORS_DIR, rel));
}
for (const [name, content] of files) {
  const path = join(VECTORS_DIR, name);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
}
console.log(`wrote ${files.size} vector files to ${VECTORS_DIR}/`);
