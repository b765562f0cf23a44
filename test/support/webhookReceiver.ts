/**
 * A webhook receiver on 127.0.0.1 for the alert tests: it records every
 * request (method, path with query, headers, exact body) and answers 200,
 * unless told to fail. Tests inside workerd cannot listen on a socket, so
 * this runs in the Node-side global setup and is driven over HTTP:
 *   POST /__control {"failNext": n, "path": "/hook"}  the next n requests to that path answer 500
 *   GET  /__requests?path=/hook                        what that path received, oldest first
 */
import { createServer, type IncomingMessage, type Server } from "node:http";

export interface ReceivedRequest {
  method: string;
  /** Path and query as requested. */
  url: string;
  headers: Record<string, string>;
  body: string;
  /** 200, or 500 when it was made to fail. */
  answered: number;
}

export interface WebhookReceiver {
  url: string;
  controlUrl: string;
  requestsUrl: string;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

const pathOf = (url: string) => url.split("?")[0] ?? url;

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: (ReceivedRequest & { path: string })[] = [];
  const failures = new Map<string, number>();
  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    const url = req.url ?? "/";
    const json = (status: number, value: unknown) =>
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
    if (pathOf(url) === "/__control") {
      const command = JSON.parse(body || "{}") as { failNext?: number; path?: string };
      failures.set(command.path ?? "/", command.failNext ?? 0);
      json(200, { failing: Object.fromEntries(failures) });
      return;
    }
    if (pathOf(url) === "/__requests") {
      const path = new URL(url, "http://receiver").searchParams.get("path");
      json(
        200,
        received.filter((r) => path === null || r.path === path).map(({ path: _path, ...r }) => r),
      );
      return;
    }
    const path = pathOf(url);
    const failing = failures.get(path) ?? 0;
    const answered = failing > 0 ? 500 : 200;
    if (failing > 0) failures.set(path, failing - 1);
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : (v ?? "")]),
    );
    received.push({ method: req.method ?? "", url, path, headers, body, answered });
    if (answered === 500) json(500, { error: "told to fail" });
    else json(200, { ok: true });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("webhook receiver did not bind a TCP port");
  const url = `http://127.0.0.1:${address.port}`;
  return {
    url,
    controlUrl: `${url}/__control`,
    requestsUrl: `${url}/__requests`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
