/**
 * The publisher's public routes for one stored snapshot, answered from memory
 * by a local HTTP server beside the built page (public/), for page tests of a
 * ledger the Worker cannot build here. Only what "Verify my balance" reads:
 * the issuer list, the attestation, the report's exact bytes, the keys
 * document and the proof route (made on first request, then the same bytes,
 * as the Worker caches proofs).
 */
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize } from "node:path";
import { hexToBytes } from "../../core/bytes.js";
import type { PrivateSnapshot } from "./privateSnapshot.js";

const PUBLIC = join(process.cwd(), "public");
const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".wasm": "application/wasm",
  ".map": "application/json",
};

export interface StaticPublisher {
  base: string;
  /** Every path asked, in order (the test checks what the page fetched). */
  requests: string[];
  /** How /range-proofs.wasm is served: as the Worker's assets do, with another content type, or not at all. */
  wasm: "application/wasm" | "application/octet-stream" | "missing";
  stop(): Promise<void>;
}

export async function startStaticPublisher(snapshot: PrivateSnapshot): Promise<StaticPublisher> {
  const { issuer } = snapshot;
  const attestation = snapshot.answer.attestation as { sequence: string; observedAt: string; ratioBps: number };
  const proofs = new Map<string, { status: number; body: string }>();
  const requests: string[] = [];
  const json = (res: ServerResponse, status: number, body: string | Uint8Array) => {
    res.writeHead(status, { "content-type": "application/json" }).end(body);
  };

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    requests.push(path);
    const at = `/v1/issuers/${issuer}`;
    if (path === "/v1/issuers") {
      const summary = {
        id: issuer,
        name: "Private Exchange",
        sequence: attestation.sequence,
        ratioBps: String(attestation.ratioBps),
        flags: "0",
        observedAt: attestation.observedAt,
      };
      return json(res, 200, JSON.stringify({ issuers: [summary] }));
    }
    if (path === `${at}/attestations/latest` || path === `${at}/attestations/${attestation.sequence}`)
      return json(res, 200, JSON.stringify(snapshot.answer));
    if (path === `${at}/reports/${attestation.sequence}`) return json(res, 200, snapshot.report);
    if (path === "/.well-known/solvent/keys.json") return json(res, 200, JSON.stringify(snapshot.keys));
    const proof = path.match(new RegExp(`^${at}/proofs/${attestation.sequence}/(0x[0-9a-f]{64})$`));
    if (proof) {
      let stored = proofs.get(proof[1]!);
      if (!stored) {
        const made = await snapshot.proofFor(hexToBytes(proof[1]! as `0x${string}`, "commitment", 32));
        stored =
          "nonInclusion" in made
            ? {
                status: 404,
                body: JSON.stringify({
                  error: { code: "NOT_FOUND", message: `commitment ${proof[1]} is not in this ledger` },
                  nonInclusion: made.nonInclusion,
                }),
              }
            : { status: 200, body: JSON.stringify(made) };
        proofs.set(proof[1]!, stored);
      }
      return json(res, stored.status, stored.body);
    }
    if (path.startsWith("/v1/") || path.startsWith("/demo/") || path.startsWith("/.well-known/"))
      return json(res, 404, JSON.stringify({ error: { code: "NOT_FOUND", message: `no route ${path}` } }));
    if (path === "/range-proofs.wasm" && publisher.wasm !== "application/wasm") {
      if (publisher.wasm === "missing") return json(res, 404, JSON.stringify({ error: { code: "NOT_FOUND" } }));
      res.writeHead(200, { "content-type": publisher.wasm }).end(await readFile(join(PUBLIC, path)));
      return;
    }
    const file = normalize(join(PUBLIC, path === "/" ? "index.html" : path));
    if (!file.startsWith(PUBLIC)) return json(res, 404, "{}");
    try {
      const body = await readFile(file);
      res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" }).end(body);
    } catch {
      json(res, 404, JSON.stringify({ error: { code: "NOT_FOUND", message: `no file ${path}` } }));
    }
  }

  const server = createServer((req, res) => {
    answer(req, res).catch((e: unknown) =>
      json(res, 500, JSON.stringify({ error: { code: "INTERNAL", message: String(e) } })),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const publisher: StaticPublisher = {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    wasm: "application/wasm",
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
  return publisher;
}
