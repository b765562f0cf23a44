/**
 * The OpenAPI 3.1 document at /openapi.json and the HTML reference at /api,
 * both generated from the route definitions, through the real Worker.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

const ORIGIN = "http://solvent.test";
const get = (path: string, init?: RequestInit) => exports.default.fetch(`${ORIGIN}${path}`, init);

/** Every SPEC §10 route, as the document names it, with a concrete request path. */
const SPEC_ROUTES: [documented: string, concrete: string][] = [
  ["/v1/issuers", "/v1/issuers"],
  ["/v1/issuers/{issuer}/attestations/latest", "/v1/issuers/demo-stable/attestations/latest"],
  ["/v1/issuers/{issuer}/attestations/{sequence}", "/v1/issuers/demo-stable/attestations/1"],
  ["/v1/issuers/{issuer}/attestations", "/v1/issuers/demo-stable/attestations?limit=5"],
  ["/v1/issuers/{issuer}/reports/{sequence}", "/v1/issuers/demo-stable/reports/1"],
  ["/v1/issuers/{issuer}/proofs/{sequence}/{commitment}", `/v1/issuers/demo/proofs/1/0x${"ab".repeat(32)}`],
  ["/v1/issuers/{issuer}/gate", "/v1/issuers/demo-stable/gate?minRatioBps=10000"],
  ["/v1/issuers/{issuer}/feed", "/v1/issuers/demo-stable/feed"],
  ["/.well-known/solvent/keys.json", "/.well-known/solvent/keys.json"],
];

type Doc = {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<
    string,
    Record<string, { parameters?: { name: string; in: string }[]; responses: Record<string, any> }>
  >;
  components: { schemas: Record<string, any> };
};

async function document(): Promise<Doc> {
  const res = await get("/openapi.json");
  expect(res.status).toBe(200);
  expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
  expect(res.headers.get("Cache-Control")).toBe("public, max-age=300");
  expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
  return JSON.parse(await res.text()) as Doc;
}

/** Every `$ref` in `value`, so each can be checked to resolve. */
function refs(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) refs(v, out);
  else if (typeof value === "object" && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      if (k === "$ref" && typeof v === "string") out.push(v);
      else refs(v, out);
    }
  }
  return out;
}

describe("GET /openapi.json", () => {
  it("documents the routes beyond SPEC §10 too: relayer and alerts, with their response schemas", async () => {
    const doc = (await document()) as Doc & { components: { schemas: Record<string, unknown> } };
    for (const [path, schema] of [
      ["/v1/issuers/{issuer}/relayer", "RelayerStatus"],
      ["/v1/issuers/{issuer}/alerts", "AlertList"],
    ] as const) {
      const op = doc.paths[path]?.get;
      expect(op, path).toBeDefined();
      expect(op!.responses["200"].content["application/json"].schema).toEqual({
        $ref: `#/components/schemas/${schema}`,
      });
      expect(op!.responses["404"], path).toBeDefined();
      expect(doc.components.schemas[schema], schema).toBeDefined();
    }
  });

  it("documents the on-chain copy's remaining validity in the relayer status", async () => {
    const doc = await document();
    const status = doc.components.schemas.RelayerStatus;
    expect(status.properties.onchain).toEqual({ $ref: "#/components/schemas/OnchainCopy" });
    expect(status.properties.marginSeconds.type).toBe("integer");
    const copy = doc.components.schemas.OnchainCopy;
    expect(copy.properties.source.enum).toEqual(["chain", "relayLog"]);
    expect(copy.required).toEqual(
      expect.arrayContaining(["source", "sequence", "validUntil", "remainingSeconds", "expired"]),
    );
  });

  it("documents the Chainlink external adapter: a POST with the standard request, the standard answer and adapter-shaped errors", async () => {
    const doc = await document();
    const op = (
      doc.paths["/v1/adapters/chainlink"] as
        | Record<string, { requestBody?: any; responses: Record<string, any> }>
        | undefined
    )?.post;
    expect(op).toBeDefined();
    expect(op!.requestBody.content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/ChainlinkAdapterRequest",
    });
    expect(op!.responses["200"].content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/ChainlinkAdapterResponse",
    });
    for (const status of ["400", "404", "413", "415", "500", "503"]) {
      expect(op!.responses[status].content["application/json"].schema, status).toEqual({
        $ref: "#/components/schemas/ChainlinkAdapterError",
      });
    }
    const request = doc.components.schemas.ChainlinkAdapterRequest;
    expect(request.properties.data.properties.field.enum).toEqual(["reserves", "ratio"]);
    // the result and its units, beside the signed attestation
    const data = doc.components.schemas.ChainlinkAdapterData;
    expect(data.allOf[0]).toEqual({ $ref: "#/components/schemas/SignedAttestation" });
    for (const field of ["result", "field", "decimals", "sequence", "observedAt", "validUntil"])
      expect(data.allOf[1].required, field).toContain(field);
    for (const field of ["attestation", "signature", "digest", "signer"])
      expect(doc.components.schemas.SignedAttestation.required, field).toContain(field);
    expect(doc.components.schemas.ChainlinkAdapterResponse.required).toEqual(
      expect.arrayContaining(["jobRunID", "statusCode", "data", "result"]),
    );
  });

  it("is an OpenAPI 3.1 document listing every SPEC §10 route as a GET", async () => {
    const doc = await document();
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info.title).toBeTruthy();
    for (const [path] of SPEC_ROUTES) {
      expect(doc.paths[path], path).toBeDefined();
      const op = doc.paths[path]!.get!;
      expect(op, `GET ${path}`).toBeDefined();
      expect(op.responses["200"], path).toBeDefined();
      // errors are documented with the SPEC §10 body
      expect(op.responses["429"]?.content["application/json"].schema).toEqual({ $ref: "#/components/schemas/Error" });
      // a refused client is told when to come back
      expect(Object.keys((op.responses["429"] as { headers?: object }).headers ?? {}), path).toEqual([
        "Retry-After",
        "RateLimit-Policy",
      ]);
    }
    // path parameters are declared wherever the path has one
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const op of Object.values(item)) {
        const declared = (op.parameters ?? [])
          .filter((p) => p.in === "path")
          .map((p) => p.name)
          .sort();
        const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
        expect(declared, path).toEqual(inPath);
      }
    }
    for (const ref of refs(doc)) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect(doc.components.schemas[ref.slice("#/components/schemas/".length)], ref).toBeDefined();
    }
  });

  it("documents the query parameters, the gate's reason codes and the error body", async () => {
    const doc = await document();
    const query = (path: string) =>
      (doc.paths[path]!.get!.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name);
    expect(query("/v1/issuers/{issuer}/gate")).toEqual(["minRatioBps", "maxAgeSeconds", "denyFlags"]);
    expect(query("/v1/issuers/{issuer}/attestations")).toEqual(["before", "limit", "from", "to", "format"]);
    const history = doc.paths["/v1/issuers/{issuer}/attestations"]!.get!;
    expect(history.responses["200"].content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/AttestationPage",
    });
    expect(history.responses["200"].content["text/csv"].schema.type).toBe("string");
    expect(query("/v1/issuers/{issuer}/feed")).toEqual(["roundId"]);
    const gate = doc.paths["/v1/issuers/{issuer}/gate"]!.get!;
    expect(gate.responses["200"].content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/GateAnswer",
    });
    const answer = doc.components.schemas.GateAnswer;
    for (const field of [
      "allow",
      "reasons",
      "sequence",
      "ratioBps",
      "flags",
      "ageSeconds",
      "attestation",
      "signature",
    ]) {
      expect(answer.required, field).toContain(field);
    }
    expect(doc.components.schemas.GateReason.properties.code.enum).toEqual(
      expect.arrayContaining([
        "UNKNOWN_ISSUER",
        "NO_ATTESTATION",
        "EXPIRED",
        "TOO_OLD",
        "RATIO_BELOW_MIN",
        "FLAG_DENIED",
        "UNKNOWN_FLAGS",
      ]),
    );
    const error = doc.components.schemas.Error;
    expect(error.required).toEqual(["error"]);
    expect(error.properties.error.required).toEqual(["code", "message"]);
    const feed = doc.components.schemas.FeedRound;
    expect(Object.keys(feed.properties).sort()).toEqual([
      "answer",
      "answeredInRound",
      "decimals",
      "roundId",
      "startedAt",
      "updatedAt",
    ]);
  });

  it("also describes the admin routes, marked as authenticated", async () => {
    const doc = await document();
    const publish = doc.paths["/v1/admin/issuers/{issuer}/publish"]?.post as { security?: unknown[] } | undefined;
    expect(publish?.security).toEqual([{ bearerAuth: [] }]);
  });
});

describe("GET /api", () => {
  it("is a self-contained HTML reference naming every route, its parameters and an example", async () => {
    const res = await get("/api");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toMatch(/^<!doctype html>/i);
    for (const [path] of SPEC_ROUTES) expect(html, path).toContain(`<code>${path}</code>`);
    for (const name of [
      "minRatioBps",
      "maxAgeSeconds",
      "denyFlags",
      "before",
      "limit",
      "roundId",
      "commitment",
      "RATIO_BELOW_MIN",
      "RATE_LIMITED",
    ]) {
      expect(html, name).toContain(name);
    }
    expect(html).toContain("GET /v1/issuers/demo-stable/gate?minRatioBps=10000");
    expect(html).toContain("<code>/v1/adapters/chainlink</code>");
    expect(html).toContain("public, max-age=31536000, immutable");
    // nothing fetched from elsewhere, no scripts
    expect(html).not.toMatch(/<script|<link|@import|url\(|<iframe|src=/i);
  });
});

describe("CORS and caching across the SPEC §10 routes", () => {
  it("answers a preflight from any origin on every public route, and none on admin routes", async () => {
    for (const [, path] of [...SPEC_ROUTES, ["", "/openapi.json"]]) {
      const res = await get(path!, {
        method: "OPTIONS",
        headers: { Origin: "https://lender.example", "Access-Control-Request-Method": "GET" },
      });
      expect(res.status, path).toBe(204);
      expect(res.headers.get("Access-Control-Allow-Origin"), path).toBe("*");
      expect(res.headers.get("Access-Control-Allow-Methods"), path).toContain("GET");
    }
    const admin = await get("/v1/admin/issuers/demo-stable/publish", {
      method: "OPTIONS",
      headers: { Origin: "https://evil.example" },
    });
    expect(admin.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("sends the SPEC §10 error body, CORS-open, for a bad parameter on every route that takes one", async () => {
    for (const [path, parameter] of [
      ["/v1/issuers/demo-stable/attestations/01", "sequence"],
      ["/v1/issuers/demo-stable/attestations?limit=0", "limit"],
      ["/v1/issuers/demo-stable/reports/abc", "sequence"],
      ["/v1/issuers/demo/proofs/1/0x1234", "commitment"],
      ["/v1/issuers/demo-stable/gate?denyFlags=4096", "denyFlags"],
      ["/v1/issuers/demo-stable/feed?roundId=-1", "roundId"],
    ] as const) {
      const res = await get(path);
      expect(res.status, path).toBe(400);
      expect(res.headers.get("Access-Control-Allow-Origin"), path).toBe("*");
      const body = (await res.json()) as { error: { code: string; message: string; field: string } };
      expect(body.error.code).toBe("INVALID_PARAMETER");
      expect(body.error.field).toBe(parameter);
      expect(body.error.message.startsWith(`${parameter} `), body.error.message).toBe(true);
    }
  });
});
