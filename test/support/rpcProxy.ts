/**
 * A JSON-RPC proxy in front of anvil for fault tests: it forwards requests
 * until told to fail, then answers every request by dropping the connection
 * (a real network failure, not a mocked one). Controlled over HTTP so tests
 * inside workerd can arm it: POST /__control {"failAfter": n} lets n more
 * requests through, then fails; {"failAfter": null} heals it.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";

export interface RpcProxy {
  url: string;
  controlUrl: string;
  close(): Promise<void>;
}

function body(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export async function startRpcProxy(upstream: string): Promise<RpcProxy> {
  let failAfter: number | null = null;
  let forwarded = 0;
  const server: Server = createServer(async (req, res) => {
    const payload = await body(req);
    if (req.url === "/__control") {
      const command = JSON.parse(payload.toString() || "{}") as { failAfter?: number | null };
      failAfter = command.failAfter ?? null;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ failAfter, forwarded }));
      return;
    }
    if (failAfter !== null && failAfter <= 0) {
      req.socket.destroy();
      return;
    }
    if (failAfter !== null) failAfter--;
    forwarded++;
    try {
      const answer = await fetch(upstream, { method: "POST", headers: { "content-type": "application/json" }, body: new Uint8Array(payload) });
      res.writeHead(answer.status, { "content-type": "application/json" }).end(Buffer.from(await answer.arrayBuffer()));
    } catch {
      req.socket.destroy();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("proxy did not bind a TCP port");
  const url = `http://127.0.0.1:${address.port}`;
  return {
    url,
    controlUrl: `${url}/__control`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
