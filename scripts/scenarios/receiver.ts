/**
 * The webhook receiver the scenario runner points alert destinations at: an
 * HTTP server on 127.0.0.1 that records every request (headers and exact
 * body) and answers 200, and a check of the generic webhook's signature
 * (worker/alerts/formatAlert.ts signWebhook: `X-Solvent-Signature:
 * sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>` with
 * `X-Solvent-Timestamp: <unix seconds>`).
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";

export interface ReceivedHook {
  path: string;
  headers: Record<string, string>;
  body: string;
  at: number;
}

export interface Receiver {
  url: string;
  received: ReceivedHook[];
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: ReceivedHook[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const headers = Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : (v ?? "")]),
      );
      received.push({
        path: (req.url ?? "/").split("?")[0] ?? "/",
        headers,
        body: Buffer.concat(chunks).toString("utf8"),
        at: Date.now(),
      });
      res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the webhook receiver did not bind a TCP port");
  return {
    url: `http://127.0.0.1:${address.port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Why the request's HMAC does not verify under `secret`, or null when it does. */
export function webhookSignatureProblem(hook: ReceivedHook, secret: string): string | null {
  const timestamp = hook.headers["x-solvent-timestamp"];
  const signature = hook.headers["x-solvent-signature"];
  if (!timestamp || !/^[0-9]+$/.test(timestamp)) return "no X-Solvent-Timestamp header";
  if (!signature?.startsWith("sha256=")) return "no X-Solvent-Signature: sha256=… header";
  const expected = createHmac("sha256", secret).update(`${timestamp}.${hook.body}`, "utf8").digest();
  const given = Buffer.from(signature.slice("sha256=".length), "hex");
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return "X-Solvent-Signature does not verify";
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 600) return `X-Solvent-Timestamp ${timestamp} is not recent`;
  return null;
}
