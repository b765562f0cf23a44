import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "./context.js";
import { DOCS_CACHE, type OpenApiDocument, openApiDocument, requestOrigin } from "./openapi.js";

/**
 * `GET /api`: a readable reference of the API, rendered on the server from the
 * same OpenAPI document as /openapi.json. Plain HTML and a little inline CSS:
 * no scripts, no fonts, nothing fetched from elsewhere.
 */

// The document is plain JSON; these are the few parts of OpenAPI 3.1 the page reads.
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type SchemaObject = { [key: string]: Json };

const METHODS = ["get", "post", "put", "patch", "delete"] as const;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** Escapes, then shows `backticked` spans as code. */
function prose(text: string): string {
  return escapeHtml(text).replace(/`([^`]+)`/g, "<code>$1</code>");
}

function isObject(value: unknown): value is SchemaObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function refName(schema: SchemaObject): string | null {
  const ref = schema.$ref;
  return typeof ref === "string" ? ref.replace("#/components/schemas/", "") : null;
}

class Renderer {
  private readonly schemas: Record<string, SchemaObject>;

  constructor(private readonly doc: OpenApiDocument) {
    const components = (doc.components?.schemas ?? {}) as unknown as Record<string, SchemaObject>;
    this.schemas = components;
  }

  private resolve(schema: SchemaObject, depth = 0): SchemaObject {
    const name = refName(schema);
    if (name === null || depth > 8) return schema;
    return this.resolve(this.schemas[name] ?? {}, depth + 1);
  }

  /** A one-line type: `string (pattern)`, `Attestation`, `GateReason[]`, `string | null`. */
  typeOf(schema: SchemaObject): string {
    const name = refName(schema);
    if (name !== null) return `<a href="#schema-${escapeHtml(name)}">${escapeHtml(name)}</a>`;
    const alternatives = schema.anyOf ?? schema.oneOf;
    if (Array.isArray(alternatives))
      return alternatives
        .filter(isObject)
        .map((s) => this.typeOf(s))
        .join(" | ");
    if (Array.isArray(schema.enum))
      return schema.enum.map((v) => `<code>${escapeHtml(JSON.stringify(v))}</code>`).join(" | ");
    if (schema.const !== undefined) return `<code>${escapeHtml(JSON.stringify(schema.const))}</code>`;
    const types = Array.isArray(schema.type)
      ? schema.type.map(String)
      : typeof schema.type === "string"
        ? [schema.type]
        : [];
    const parts = types.map((t) =>
      t === "array" && isObject(schema.items) ? `${this.typeOf(schema.items)}[]` : escapeHtml(t),
    );
    let text = parts.length > 0 ? parts.join(" | ") : "any";
    if (typeof schema.pattern === "string")
      text += ` <small>matching <code>${escapeHtml(schema.pattern)}</code></small>`;
    if (typeof schema.format === "string") text += ` <small>(${escapeHtml(schema.format)})</small>`;
    return text;
  }

  /** The schema's example, else one assembled from its properties' examples. */
  example(schema: SchemaObject, depth = 0): Json {
    if (depth > 8) return null;
    if (schema.example !== undefined) return schema.example;
    const s = this.resolve(schema);
    if (s !== schema) return this.example(s, depth + 1);
    const alternatives = s.anyOf ?? s.oneOf;
    if (Array.isArray(alternatives)) {
      const first = alternatives.find((a) => isObject(a) && a.type !== "null");
      return isObject(first) ? this.example(first, depth + 1) : null;
    }
    if (s.const !== undefined) return s.const;
    if (Array.isArray(s.enum)) return s.enum[0] ?? null;
    const type = Array.isArray(s.type) ? s.type.find((t) => t !== "null") : s.type;
    if (type === "object" && isObject(s.properties)) {
      const out: { [key: string]: Json } = {};
      for (const [key, value] of Object.entries(s.properties))
        if (isObject(value)) out[key] = this.example(value, depth + 1);
      return out;
    }
    if (type === "array") return isObject(s.items) ? [this.example(s.items, depth + 1)] : [];
    if (type === "string") return "…";
    if (type === "integer" || type === "number") return 0;
    if (type === "boolean") return true;
    return null;
  }

  private description(schema: SchemaObject): string {
    const own = typeof schema.description === "string" ? schema.description : "";
    return prose(own);
  }

  operation(path: string, method: string, op: SchemaObject): string {
    const id = `${method}-${path}`.replace(/[^a-zA-Z0-9]+/g, "-");
    const params = Array.isArray(op.parameters) ? op.parameters.filter(isObject) : [];
    const rows = params
      .map((p) => {
        const schema = isObject(p.schema) ? p.schema : {};
        const example = schema.example ?? p.example;
        return `<tr><td><code>${escapeHtml(String(p.name))}</code></td><td>${escapeHtml(String(p.in))}</td><td>${p.required === true ? "required" : "optional"}</td><td>${this.typeOf(schema)}</td><td>${prose(String(p.description ?? schema.description ?? ""))}${example === undefined ? "" : `<br><small>example: <code>${escapeHtml(String(example))}</code></small>`}</td></tr>`;
      })
      .join("");
    const paramTable = params.length
      ? `<h4>Parameters</h4><table><thead><tr><th>name</th><th>in</th><th></th><th>type</th><th>description</th></tr></thead><tbody>${rows}</tbody></table>`
      : "<p><em>No parameters.</em></p>";

    const responses = isObject(op.responses) ? Object.entries(op.responses) : [];
    let successExample: Json | undefined;
    const responseRows = responses
      .map(([status, r]) => {
        if (!isObject(r)) return "";
        const content = isObject(r.content) ? Object.entries(r.content) : [];
        const media = content
          .map(([type, m]) => {
            const schema = isObject(m) && isObject(m.schema) ? m.schema : {};
            if (status.startsWith("2") && successExample === undefined && type.includes("json"))
              successExample = this.example(schema);
            return `<code>${escapeHtml(type)}</code> ${this.typeOf(schema)}`;
          })
          .join("<br>");
        const headers = isObject(r.headers)
          ? Object.entries(r.headers)
              .map(
                ([name, h]) =>
                  `<br><small><code>${escapeHtml(name)}: ${escapeHtml(String(isObject(h) ? (h.description ?? "") : ""))}</code></small>`,
              )
              .join("")
          : "";
        return `<tr><td><strong>${escapeHtml(status)}</strong></td><td>${prose(String(r.description ?? ""))}${headers}</td><td>${media}</td></tr>`;
      })
      .join("");

    const exampleQuery = params.filter((p) => p.in === "query" && isObject(p.schema) && p.schema.example !== undefined);
    let examplePath = path;
    for (const p of params.filter((p) => p.in === "path")) {
      const ex = isObject(p.schema) ? p.schema.example : undefined;
      examplePath = examplePath.replace(`{${String(p.name)}}`, encodeURIComponent(String(ex ?? p.name)));
    }
    const query = exampleQuery
      .map((p) => `${String(p.name)}=${encodeURIComponent(String((p.schema as SchemaObject).example))}`)
      .join("&");
    const exampleUrl = query ? `${examplePath}?${query}` : examplePath;
    const exampleBody = successExample === undefined ? "" : `\n\n${JSON.stringify(successExample, null, 2)}`;

    return `<section id="${escapeHtml(id)}" class="op">
<h3><span class="method">${escapeHtml(method.toUpperCase())}</span> <code>${escapeHtml(path)}</code></h3>
${typeof op.summary === "string" ? `<p class="summary">${prose(op.summary)}</p>` : ""}
${typeof op.description === "string" ? `<p>${prose(op.description)}</p>` : ""}
${op.security ? "<p><strong>Authentication:</strong> <code>Authorization: Bearer &lt;token&gt;</code></p>" : ""}
${paramTable}
<h4>Responses</h4><table><thead><tr><th>status</th><th>meaning</th><th>body</th></tr></thead><tbody>${responseRows}</tbody></table>
<h4>Example</h4><pre><code>${escapeHtml(`${method.toUpperCase()} ${exampleUrl}`)}${escapeHtml(exampleBody)}</code></pre>
</section>`;
  }

  schemaSection(name: string, schema: SchemaObject): string {
    const properties = isObject(schema.properties) ? Object.entries(schema.properties) : [];
    const required = new Set(Array.isArray(schema.required) ? schema.required.map(String) : []);
    const rows = properties
      .map(([prop, s]) =>
        isObject(s)
          ? `<tr><td><code>${escapeHtml(prop)}</code></td><td>${this.typeOf(s)}</td><td>${required.has(prop) ? "" : "optional"}</td><td>${this.description(s)}</td></tr>`
          : "",
      )
      .join("");
    const table = rows
      ? `<table><thead><tr><th>field</th><th>type</th><th></th><th>description</th></tr></thead><tbody>${rows}</tbody></table>`
      : `<p>${this.typeOf(schema)}</p>`;
    return `<section id="schema-${escapeHtml(name)}"><h3>${escapeHtml(name)}</h3>${schema.description ? `<p>${this.description(schema)}</p>` : ""}${table}</section>`;
  }

  page(): string {
    const doc = this.doc;
    const ops: { path: string; method: string; op: SchemaObject }[] = [];
    for (const [path, item] of Object.entries(doc.paths ?? {})) {
      for (const method of METHODS) {
        const op = (item as Record<string, unknown>)[method];
        if (isObject(op)) ops.push({ path, method, op });
      }
    }
    const toc = ops
      .map(({ path, method, op }) => {
        const id = `${method}-${path}`.replace(/[^a-zA-Z0-9]+/g, "-");
        return `<li><a href="#${escapeHtml(id)}"><code>${escapeHtml(method.toUpperCase())} ${escapeHtml(path)}</code></a>${typeof op.summary === "string" ? ` — ${prose(op.summary)}` : ""}</li>`;
      })
      .join("");
    const server = doc.servers?.[0]?.url ?? "";
    return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(doc.info.title)} — reference</title>
<style>
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;max-width:72rem;margin:0 auto;padding:1rem 1.5rem;color:#1b1f24;background:#fff}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em}
pre{background:#f4f6f8;padding:.75rem;overflow:auto;border-radius:4px}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f6f8}
.op{border-top:2px solid #d0d7de;margin-top:2rem}
.method{background:#0b5394;color:#fff;padding:0 .4rem;border-radius:3px;font-size:.85em}
.summary{font-weight:600}
a{color:#0b5394}
@media (prefers-color-scheme:dark){body{background:#0d1117;color:#e6edf3}pre,th{background:#161b22}th,td{border-color:#30363d}a{color:#58a6ff}}
</style>
</head>
<body>
<header>
<h1>${escapeHtml(doc.info.title)}</h1>
${doc.info.description ? `<p>${prose(doc.info.description)}</p>` : ""}
<p>Base URL: <code>${escapeHtml(server)}</code> · machine-readable: <a href="/openapi.json"><code>/openapi.json</code></a> (OpenAPI ${escapeHtml(doc.openapi)})</p>
</header>
<nav><h2>Routes</h2><ul>${toc}</ul></nav>
<main>
<h2>Routes in detail</h2>
${ops.map(({ path, method, op }) => this.operation(path, method, op)).join("\n")}
<h2>Schemas</h2>
${Object.entries(this.schemas)
  .map(([name, schema]) => this.schemaSection(name, schema))
  .join("\n")}
</main>
</body>
</html>`;
  }
}

/** The reference page for a document. */
export function renderApiReference(doc: OpenApiDocument): string {
  return new Renderer(doc).page();
}

/** Mounts `GET /api` on the root app (after every sub-app is mounted). */
export function mountApiReference(app: OpenAPIHono<AppEnv>): void {
  let cached: { origin: string; html: string } | undefined;
  app.get("/api", (c) => {
    const origin = requestOrigin(c);
    if (cached?.origin !== origin) cached = { origin, html: renderApiReference(openApiDocument(app, origin)) };
    c.header("Cache-Control", DOCS_CACHE);
    return c.html(cached.html);
  });
}
