#!/usr/bin/env node
// Checks the import graph of core/, worker/, scripts/ and page/ (plain Node, no dependency):
//  - no import circle anywhere among them (type-only imports count: a circle of types is still two ideas tangled);
//  - core/ imports nothing from worker/, scripts/, page/ or a Node builtin (it runs in the Worker, the CLI and the browser);
//  - worker/ imports nothing from scripts/ or page/.
// Usage: node scripts/checkImports.mjs [root]   (root defaults to the repository). Exit 1 and one line per problem when any.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

export const AREAS = ["core", "worker", "scripts", "page"];
const SOURCE = /\.(ts|tsx|mts|cts|js|mjs|cjs)$/;
const BUILTINS = new Set(builtinModules.filter((m) => !m.startsWith("_")));

/** Where each area may not import from (besides circles, which no area may have). */
const FORBIDDEN = {
  core: { areas: ["worker", "scripts", "page"], builtins: true },
  worker: { areas: ["scripts", "page"], builtins: false },
};

/** The code with comments and the insides of template literals blanked, so only real import statements match. */
function stripComments(text) {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const next = text[i + 1];
    if (c === "/" && next === "/") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (c === "/" && next === "*") {
      const end = text.indexOf("*/", i + 2);
      i = end === -1 ? text.length : end + 2;
      out += " ";
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < text.length && text[j] !== c && text[j] !== "\n") j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === "`") {
      let j = i + 1;
      while (j < text.length && text[j] !== "`") j += text[j] === "\\" ? 2 : 1;
      out += "``";
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

const IMPORT_PATTERNS = [
  /\b(?:import|export)\s+(?:type\s+)?(?:[\w*$\s{},]+?)\s+from\s*["']([^"'\n]+)["']/g,
  /\bimport\s*["']([^"'\n]+)["']/g,
  /\bimport\s*\(\s*["']([^"'\n]+)["']\s*\)/g,
];

/** Every module specifier one file imports or re-exports, in order of appearance. */
export function importSpecifiers(text) {
  const code = stripComments(text);
  const found = [];
  for (const pattern of IMPORT_PATTERNS) {
    for (const m of code.matchAll(pattern)) found.push({ at: m.index, specifier: m[1] });
  }
  return found.sort((a, b) => a.at - b.at).map((f) => f.specifier);
}

function listFiles(dir) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const out = [];
  for (const name of entries) {
    if (name === "node_modules" || name.startsWith(".")) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listFiles(path));
    else if (SOURCE.test(name) && !name.endsWith(".d.ts")) out.push(path);
  }
  return out;
}

/** The file a relative specifier names (TypeScript style: `./x.js` may be `./x.ts`), or null. */
function resolveRelative(from, specifier) {
  const base = resolve(dirname(from), specifier);
  const stem = base.replace(/\.(js|mjs|cjs|jsx)$/, "");
  const candidates = [
    base,
    `${stem}.ts`,
    `${stem}.tsx`,
    `${stem}.mts`,
    `${stem}.cts`,
    `${stem}.js`,
    `${stem}.mjs`,
    join(base, "index.ts"),
    join(base, "index.js"),
  ];
  for (const candidate of candidates) {
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not this one
    }
  }
  return null;
}

const areaOf = (rel) => rel.split("/")[0];
const posix = (path) => path.split(sep).join("/");

/** Strongly connected components of more than one file, or one file importing itself (Tarjan, iterative). */
function circles(graph) {
  let index = 0;
  const order = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const out = [];
  for (const root of [...graph.keys()].sort()) {
    if (order.has(root)) continue;
    const work = [{ node: root, edges: [...graph.get(root)].sort(), next: 0 }];
    order.set(root, index);
    low.set(root, index++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      if (frame.next < frame.edges.length) {
        const to = frame.edges[frame.next++];
        if (!order.has(to)) {
          order.set(to, index);
          low.set(to, index++);
          stack.push(to);
          onStack.add(to);
          work.push({ node: to, edges: [...(graph.get(to) ?? [])].sort(), next: 0 });
        } else if (onStack.has(to)) {
          low.set(frame.node, Math.min(low.get(frame.node), order.get(to)));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node), low.get(frame.node)));
      if (low.get(frame.node) === order.get(frame.node)) {
        const component = [];
        let member;
        do {
          member = stack.pop();
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        if (component.length > 1 || graph.get(frame.node).has(frame.node)) out.push(component.sort());
      }
    }
  }
  return out;
}

/** One concrete loop through a circle (shortest from its first file), for the message. */
function loopThrough(graph, component) {
  const members = new Set(component);
  const start = component[0];
  const previous = new Map([[start, null]]);
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift();
    for (const to of [...graph.get(node)].sort()) {
      if (!members.has(to)) continue;
      if (to === start) {
        const path = [node];
        for (let p = previous.get(node); p !== null; p = previous.get(p)) path.unshift(p);
        return [...path, start];
      }
      if (!previous.has(to)) {
        previous.set(to, node);
        queue.push(to);
      }
    }
  }
  return [start, start];
}

/**
 * The problems of the tree at `root`, each one sentence naming the files.
 * Only files inside the four areas are graph nodes; imports of packages and of
 * other folders (test/, config/) are edges out of the graph and never circles.
 */
export function checkImports(root) {
  const files = AREAS.flatMap((area) => listFiles(join(root, area)));
  const graph = new Map();
  const problems = [];
  for (const file of files) {
    const from = posix(relative(root, file));
    const area = areaOf(from);
    const edges = new Set();
    graph.set(from, edges);
    for (const specifier of importSpecifiers(readFileSync(file, "utf8"))) {
      const rule = FORBIDDEN[area];
      if (specifier.startsWith(".")) {
        const target = resolveRelative(file, specifier);
        if (target === null) continue; // the type checker reports missing files
        const to = posix(relative(root, target));
        if (rule?.areas.includes(areaOf(to))) {
          problems.push(
            `${from} imports ${to} ("${specifier}"): ${area}/ must not import from ${rule.areas.map((a) => `${a}/`).join(", ")}`,
          );
        }
        if (AREAS.includes(areaOf(to))) edges.add(to);
      } else if (rule?.builtins && (specifier.startsWith("node:") || BUILTINS.has(specifier.split("/")[0]))) {
        problems.push(
          `${from} imports the Node builtin "${specifier}": ${area}/ is pure and runs in the Worker and the browser too; pass what it needs in`,
        );
      }
    }
  }
  for (const component of circles(graph)) {
    const loop = loopThrough(graph, component);
    problems.push(
      `import circle of ${component.length} file(s): ${loop.join(" -> ")} (all in the circle: ${component.join(", ")}); ` +
        "move what both sides need into a module both import",
    );
  }
  return problems;
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), ".."));
  const problems = checkImports(root);
  if (problems.length > 0) {
    console.error(
      `checkImports: ${problems.length} problem(s) in the import graph of ${AREAS.map((a) => `${a}/`).join(", ")}:`,
    );
    for (const p of problems) console.error(`  - ${p}`);
    process.exit(1);
  }
  console.log(`checkImports: no import circle; core/ and worker/ import only downward (${AREAS.join(", ")})`);
}
