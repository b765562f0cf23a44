/**
 * A JSON-RPC proxy in front of anvil for fault tests: it forwards requests
 * until told to misbehave. Controlled over HTTP so tests inside workerd can
 * arm it: POST /__control {"failAfter": n} lets n more requests through, then
 * answers every request by dropping the connection (a real network failure,
 * not a mocked one); {"failAfter": null} heals it.
 *
 * Channels: `/c/<name>` is an independent proxy instance with its own state
 * (controlled at `/c/<name>/__control`), so test files running in parallel,
 * and two "RPC providers" of one chain, never share faults. The root path is
 * the default channel. A channel's control body sets any of (a field left out
 * keeps its value; `{"reset": true}` clears everything first):
 *   failAfter   n | null    drop connections after n more requests
 *   delayMs     n           wait n ms before answering (slower than a client's timeout)
 *   error       true        answer with a JSON-RPC error (code -32603) instead of forwarding
 *   garbage     "html" | "wrongId" | "badResult" | "truncated" | null
 *                           non-JSON text; the right answer under another id; a result
 *                           that is not hex; half of the right JSON
 *   methods     string[] | null   restrict delay/error/garbage to these JSON-RPC methods
 *   lie         { find, replace } | null
 *                           rewrite every eth_call result: each occurrence of the hex `find`
 *                           becomes `replace` (both without 0x, same length)
 *   failCalls   hex | null  in aggregate3 eth_calls, every sub-call whose callData contains
 *                           this hex comes back as failed (success = false, no data)
 *   fakeReorgAfter n | null after n more forwarded requests, block hashes in every
 *                           eth_getBlockBy* answer are changed (the chain "reorganised")
 *   hideCode    true        every eth_getCode answers "0x" (no contract at any address)
 * The answer to a control request is the channel's state and `forwarded`, its request count.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import { decodeFunctionData, decodeFunctionResult, encodeFunctionResult, type Hex } from "viem";
import { multicall3Abi } from "../../worker/sources/multicall.js";

export interface RpcProxy {
  url: string;
  controlUrl: string;
  /** The base URL of channel `name` (its control URL is `${channelUrl(name)}/__control`). */
  channelUrl(name: string): string;
  close(): Promise<void>;
}

type Garbage = "html" | "wrongId" | "badResult" | "truncated";

interface ChannelState {
  failAfter: number | null;
  delayMs: number;
  error: boolean;
  garbage: Garbage | null;
  methods: string[] | null;
  lie: { find: string; replace: string } | null;
  failCalls: string | null;
  fakeReorgAfter: number | null;
  hideCode: boolean;
  forwarded: number;
}

const fresh = (): ChannelState => ({
  failAfter: null,
  delayMs: 0,
  error: false,
  garbage: null,
  methods: null,
  lie: null,
  failCalls: null,
  fakeReorgAfter: null,
  hideCode: false,
  forwarded: 0,
});

/** The same Multicall3 ABI the publisher's readers encode with. */
const aggregate3Abi = multicall3Abi;

function body(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

interface RpcRequest {
  jsonrpc?: string;
  id?: unknown;
  method?: string;
  params?: unknown[];
}
interface RpcAnswer {
  jsonrpc: "2.0";
  id: unknown;
  result?: unknown;
  error?: unknown;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A different but well-formed 32-byte hash. */
function otherHash(hash: string): string {
  const last = hash.slice(-1);
  return `${hash.slice(0, -1)}${last === "0" ? "1" : "0"}`;
}

/** The aggregate3 answer with every sub-call whose callData contains `needle` failed. */
function failSubCalls(request: RpcRequest, result: string, needle: string): string {
  const call = (request.params?.[0] ?? {}) as { data?: string; input?: string };
  const data = (call.data ?? call.input) as Hex | undefined;
  if (!data) return result;
  let calls: readonly { callData: Hex }[];
  try {
    const decoded = decodeFunctionData({ abi: aggregate3Abi, data });
    if (decoded.functionName !== "aggregate3") return result;
    calls = decoded.args[0];
  } catch {
    return result;
  }
  const returned = decodeFunctionResult({ abi: aggregate3Abi, functionName: "aggregate3", data: result as Hex });
  const rewritten = returned.map((r, i) =>
    calls[i]!.callData.toLowerCase().includes(needle.toLowerCase()) ? { success: false, returnData: "0x" as Hex } : r,
  );
  return encodeFunctionResult({ abi: aggregate3Abi, functionName: "aggregate3", result: rewritten });
}

export async function startRpcProxy(upstream: string): Promise<RpcProxy> {
  const channels = new Map<string, ChannelState>();
  const channel = (name: string): ChannelState => {
    let state = channels.get(name);
    if (!state) {
      state = fresh();
      channels.set(name, state);
    }
    return state;
  };

  async function forward(one: RpcRequest): Promise<RpcAnswer> {
    const answer = await fetch(upstream, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(one),
    });
    return (await answer.json()) as RpcAnswer;
  }

  /** One request of a channel, its fault applied. */
  async function handleOne(state: ChannelState, one: RpcRequest): Promise<RpcAnswer | string> {
    const applies = state.methods === null || (typeof one.method === "string" && state.methods.includes(one.method));
    if (applies && state.delayMs > 0) await sleep(state.delayMs);
    if (applies && state.error)
      return { jsonrpc: "2.0", id: one.id ?? null, error: { code: -32603, message: "injected internal error" } };
    if (applies && state.garbage === "html") return "<html><body>502 Bad Gateway</body></html>";
    const answer = await forward(one);
    if (state.fakeReorgAfter !== null) state.fakeReorgAfter--;
    if (applies && state.garbage === "wrongId")
      return { ...answer, id: typeof one.id === "number" ? one.id + 1000 : "wrong" };
    if (applies && state.garbage === "badResult" && "result" in answer)
      return { ...answer, result: "0xnot-hex-at-all" };
    if (applies && state.garbage === "truncated") return JSON.stringify(answer).slice(0, 20);
    if (state.hideCode && one.method === "eth_getCode" && "result" in answer) return { ...answer, result: "0x" };
    if (one.method === "eth_call" && typeof answer.result === "string") {
      let result = answer.result;
      if (state.failCalls) result = failSubCalls(one, result, state.failCalls);
      if (state.lie) result = result.split(state.lie.find.toLowerCase()).join(state.lie.replace.toLowerCase());
      return { ...answer, result };
    }
    if (
      state.fakeReorgAfter !== null &&
      state.fakeReorgAfter < 0 &&
      (one.method === "eth_getBlockByNumber" || one.method === "eth_getBlockByHash") &&
      answer.result !== null &&
      typeof answer.result === "object"
    ) {
      const block = answer.result as { hash?: string };
      if (typeof block.hash === "string") return { ...answer, result: { ...block, hash: otherHash(block.hash) } };
    }
    return answer;
  }

  const server: Server = createServer(async (req, res) => {
    const payload = await body(req);
    const match = /^\/c\/([A-Za-z0-9._-]+)(\/.*)?$/.exec(req.url ?? "/");
    const name = match ? match[1]! : "";
    const rest = match ? (match[2] ?? "/") : (req.url ?? "/");
    const state = channel(name);
    if (rest === "/__control") {
      const command = JSON.parse(payload.toString() || "{}") as Partial<Omit<ChannelState, "forwarded">> & {
        reset?: boolean;
      };
      if (command.reset) Object.assign(state, fresh());
      const { reset: _reset, ...fields } = command;
      // {"failAfter": n} alone keeps its original meaning: absent means heal.
      if (!("failAfter" in fields) && Object.keys(fields).length === 0 && !command.reset) state.failAfter = null;
      Object.assign(state, fields);
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(state));
      return;
    }
    if (state.failAfter !== null && state.failAfter <= 0) {
      req.socket.destroy();
      return;
    }
    if (state.failAfter !== null) state.failAfter--;
    state.forwarded++;
    try {
      const parsed = JSON.parse(payload.toString()) as RpcRequest | RpcRequest[];
      const answers = Array.isArray(parsed)
        ? await Promise.all(parsed.map((p) => handleOne(state, p)))
        : await handleOne(state, parsed);
      const text =
        typeof answers === "string"
          ? answers
          : Array.isArray(answers) && answers.some((a) => typeof a === "string")
            ? "<garbage>"
            : JSON.stringify(answers);
      res.writeHead(200, { "content-type": "application/json" }).end(text);
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
    channelUrl: (name: string) => `${url}/c/${name}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
