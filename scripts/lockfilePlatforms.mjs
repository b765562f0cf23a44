#!/usr/bin/env node
/**
 * The npm registry reachable from our build machines lacks some platform
 * builds (macOS/Windows/arm64 packages of anvil and workerd), so `npm install`
 * leaves them out of package-lock.json and `npm ci` then refuses the lock as
 * "out of sync". This adds, for every optional dependency npm cannot resolve in
 * the lock, an entry restricted to its platform (os/cpu), which npm skips on
 * every other platform. Run after `npm install` whenever dependencies change:
 *
 *   npm install && node scripts/lockfilePlatforms.mjs
 */
import { readFileSync, writeFileSync } from "node:fs";

const PLATFORMS = [
  [/darwin-(64|amd64|x64)$/, ["darwin"], ["x64"]],
  [/darwin-arm64$/, ["darwin"], ["arm64"]],
  [/linux-(64|amd64|x64)$/, ["linux"], ["x64"]],
  [/linux-arm64$/, ["linux"], ["arm64"]],
  [/(windows|win32)-(64|amd64|x64)$/, ["win32"], ["x64"]],
];

const path = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(path, "utf8"));
const packages = lock.packages;

/** Node's lookup: <pkg>/node_modules/<dep>, then each ancestor's node_modules. */
function resolve(fromPath, dep) {
  let base = fromPath;
  for (;;) {
    const candidate = base === "" ? `node_modules/${dep}` : `${base}/node_modules/${dep}`;
    if (packages[candidate]) return candidate;
    if (base === "") return null;
    const cut = base.lastIndexOf("/node_modules/");
    base = cut < 0 ? "" : base.slice(0, cut);
  }
}

let added = 0;
for (const [pkgPath, pkg] of Object.entries(packages)) {
  for (const [dep, version] of Object.entries(pkg.optionalDependencies ?? {})) {
    const found = resolve(pkgPath, dep);
    if (found && packages[found].version === version) continue;
    const platform = PLATFORMS.find(([re]) => re.test(dep));
    if (!platform) continue;
    const at = pkgPath === "" ? `node_modules/${dep}` : `${pkgPath}/node_modules/${dep}`;
    packages[at] = { version, dev: pkg.dev ?? undefined, optional: true, os: platform[1], cpu: platform[2] };
    added++;
    console.log(`added ${at}@${version} (${platform[1]}/${platform[2]})`);
  }
}
lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : 1)),
);
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(added === 0 ? "package-lock.json: nothing to add" : `package-lock.json: ${added} platform entries added`);
