import { BaseError, createPublicClient, fallback, http, type PublicClient } from "viem";
import type { ChainConfig } from "../../core/config/schema.js";
import { fillPlaceholders } from "../../core/config/secretRules.js";
import { namedSecret } from "../config/secrets.js";

export interface CreateChainClientOptions {
  /**
   * Called once per JSON-RPC HTTP request the client sends (every URL, every
   * retry), before it is sent; a returned promise is awaited.
   */
  onRequest?: () => void | Promise<void>;
}

/**
 * The chain's RPC URLs in config order with every `${NAME}` filled from
 * `secrets`. A missing (or empty, or non-string) secret is an error naming
 * the chain and the placeholder, never the URL: the URL may hold other keys.
 */
export function resolveRpcUrls(
  chain: Pick<ChainConfig, "chainId" | "rpcUrls">,
  secrets: Record<string, unknown>,
): string[] {
  return chain.rpcUrls.map((template, index) => {
    const url = fillPlaceholders(template, (name) => {
      const value = namedSecret(secrets, name);
      if (value === null) {
        throw new Error(`chain ${chain.chainId}: rpcUrls[${index}] needs secret \${${name}}, which is not set`);
      }
      return value;
    });
    if (url.includes("${"))
      throw new Error(`chain ${chain.chainId}: rpcUrls[${index}] has a malformed \${…} placeholder`);
    if (!/^https?:\/\/\S+$/.test(url))
      throw new Error(`chain ${chain.chainId}: rpcUrls[${index}] is not an http(s) URL after filling secrets`);
    return url;
  });
}

/**
 * A public client for one chain and one tick (Workers: never share it across
 * invocations). URLs are tried in config order through `fallback` (no
 * `rank`: ranking polls in the background); each URL gets one attempt per
 * pass and the whole list one more pass after a short delay.
 *
 * @example
 * let requests = 0;
 * const client = createChainClient(chain, env, { onRequest: () => requests++ });
 */
export function createChainClient(
  chain: ChainConfig,
  secrets: Record<string, unknown>,
  options: CreateChainClientOptions = {},
): PublicClient {
  const { onRequest } = options;
  const transports = resolveRpcUrls(chain, secrets).map((url) =>
    http(url, {
      timeout: chain.timeoutMs,
      retryCount: 0,
      onFetchRequest: onRequest ? async () => void (await onRequest()) : undefined,
    }),
  );
  return createPublicClient({ transport: fallback(transports, { retryCount: 1 }) });
}

/**
 * One client per RPC URL of the chain, in config order, without fallback: for
 * `agreement: "all"`, where every RPC must answer the same reads
 * (./multicall.ts createCallBatch witnesses). Same timeout as
 * createChainClient, one retry each.
 */
export function createRpcClients(
  chain: ChainConfig,
  secrets: Record<string, unknown>,
  options: CreateChainClientOptions = {},
): PublicClient[] {
  const { onRequest } = options;
  return resolveRpcUrls(chain, secrets).map((url) =>
    createPublicClient({
      transport: http(url, {
        timeout: chain.timeoutMs,
        retryCount: 1,
        onFetchRequest: onRequest ? async () => void (await onRequest()) : undefined,
      }),
    }),
  );
}

/**
 * One line about an RPC failure that is safe to publish: viem's short message
 * and details, without the request body or the URL (which may carry an API key).
 */
export function describeRpcError(error: unknown): string {
  let text: string;
  if (error instanceof BaseError) {
    const status = (
      error.walk((e) => typeof (e as { status?: unknown }).status === "number") as { status?: number } | null
    )?.status;
    const details = error.details && error.details !== error.shortMessage ? ` (${error.details})` : "";
    text = `${error.shortMessage.replace(/\.$/, "")}${status ? ` [HTTP ${status}]` : ""}${details}`;
  } else if (error instanceof Error) {
    text = error.message;
  } else {
    text = String(error);
  }
  return text
    .replace(/https?:\/\/[^\s"'<>)]+/g, "<rpc url>")
    .split("\n")[0]!
    .slice(0, 300);
}
