import { createRoute, z } from "@hono/zod-openapi";
import { relayMarginSeconds } from "../../core/relayPolicy.js";
import { onchainCopyStatus } from "../relayer/onchainCopy.js";
import { recentRelayAttempts, slowestRecentRelaySeconds } from "../relayer/relayStore.js";
import { knownIssuer } from "./issuer.js";
import { publicApi, SHORT_CACHE } from "./openapi.js";
import { commonErrors, errorResponse, IssuerParams } from "./schemas.js";

const RelayAttempt = z
  .object({
    sequence: z.string().openapi({ description: "the attestation relayed", example: "42" }),
    attempt: z
      .number()
      .int()
      .positive()
      .openapi({ description: "delivery attempt of the relay message (1, 2, …)", example: 1 }),
    status: z.enum(["submitted", "skipped", "failed"]).openapi({
      description:
        "submitted: mined on the oracle; skipped: ratio and flags unchanged, no heartbeat due and the on-chain copy valid beyond the margin (or the oracle already holds it); failed: refused in simulation or reverted (reason names the error)",
    }),
    txHash: z
      .string()
      .nullable()
      .openapi({ example: `0x${"ab".repeat(32)}` }),
    gasUsed: z.string().nullable().openapi({ example: "80613" }),
    reason: z.string().openapi({ example: "ratio changed" }),
    at: z.number().int().openapi({ description: "unix seconds", example: 1767225660 }),
  })
  .openapi("RelayAttempt");

const OnchainCopy = z
  .object({
    source: z.enum(["chain", "relayLog"]).openapi({
      description:
        "chain: the oracle's stored attestation, read now (anyone may relay, and only the contract's clock decides expiry); relayLog: the chain could not be read, so this is the last attestation this publisher submitted — a lower bound, since the oracle only accepts growing sequences",
    }),
    sequence: z
      .string()
      .nullable()
      .openapi({ description: "the attestation the oracle holds; null when it holds none", example: "42" }),
    observedAt: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "its observedAt, unix seconds: how old the data on-chain is", example: 1767225600 }),
    validUntil: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "its validUntil, unix seconds", example: 1767226200 }),
    remainingSeconds: z.number().int().nullable().openapi({
      description:
        "validUntil minus the later of the chain's head-block time and the publisher's clock; negative once expired",
      example: 480,
    }),
    expired: z
      .boolean()
      .nullable()
      .openapi({ description: "whether contracts reading the oracle now see it as expired" }),
    chainError: z.string().optional().openapi({ description: "why the chain was not read (source relayLog only)" }),
  })
  .openapi("OnchainCopy");

const RelayerStatus = z
  .object({
    issuer: z.string().openapi({ example: "demo" }),
    configured: z.boolean().openapi({ description: "whether this issuer's attestations are relayed on-chain" }),
    chainId: z.number().int().optional().openapi({ example: 31337 }),
    chainName: z
      .string()
      .optional()
      .openapi({ description: "the chain's name in the configuration, when it has one", example: "Ethereum" }),
    oracle: z
      .string()
      .optional()
      .openapi({ description: "the SolvencyOracle contract", example: "0x5FbDB2315678afecb367f032d93F642f64180aa3" }),
    feed: z.string().optional().openapi({
      description: "the ReserveFeed (Chainlink AggregatorV3) over the oracle for this issuer, when configured",
      example: "0x4ed7c70F96B99c776995fB64377f0d4aB3B0e1C1",
    }),
    heartbeatSeconds: z.number().int().optional().openapi({
      description: "relay without a change once the on-chain copy is this old; absent when not configured",
      example: 1800,
    }),
    marginSeconds: z.number().int().optional().openapi({
      description:
        "the on-chain copy is replaced once it has this little validity left: tickSeconds + relaySeconds, or the slowest recent relay when that is slower",
      example: 120,
    }),
    onchain: OnchainCopy.optional(),
    lastSubmitted: z
      .string()
      .nullable()
      .optional()
      .openapi({ description: "sequence of the newest attestation submitted on-chain", example: "42" }),
    attempts: z.array(RelayAttempt).openapi({ description: "the latest attempts, newest first" }),
  })
  .openapi("RelayerStatus");

function chainNameOf(
  chains: readonly { chainId: number; name?: string | undefined }[],
  chainId: number,
): { chainName?: string } {
  const name = chains.find((ch) => ch.chainId === chainId)?.name;
  return name ? { chainName: name } : {};
}

/** `GET /v1/issuers/{issuer}/relayer`: whether attestations are relayed on-chain for this issuer, where to, and the latest attempts. */
export const relayerRoutes = publicApi();

relayerRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/issuers/{issuer}/relayer",
    tags: ["on-chain"],
    summary: "On-chain relaying",
    description:
      "Whether the issuer's attestations are relayed to a SolvencyOracle, to which chain and contract, how long the copy on-chain stays valid (read from the chain), and the latest relay attempts with their outcome.",
    middleware: [knownIssuer] as const,
    request: { params: IssuerParams },
    responses: {
      200: {
        description: "The relayer's configuration and latest attempts.",
        content: { "application/json": { schema: RelayerStatus } },
      },
      404: errorResponse("UNKNOWN_ISSUER: the issuer is not configured here."),
      ...commonErrors,
    },
  }),
  async (c) => {
    const issuer = c.var.issuer;
    c.header("Cache-Control", SHORT_CACHE);
    if (!issuer.relayer) return c.json({ issuer: issuer.id, configured: false, attempts: [] }, 200);
    const now = BigInt(Math.floor(Date.now() / 1000));
    const [attempts, onchain, slowest] = await Promise.all([
      recentRelayAttempts(c.env.DB, issuer.id),
      onchainCopyStatus(c.env, c.var.config, issuer, now),
      slowestRecentRelaySeconds(c.env.DB, issuer.id),
    ]);
    return c.json(
      {
        issuer: issuer.id,
        configured: true,
        chainId: issuer.relayer.chainId,
        ...chainNameOf(c.var.config.chains, issuer.relayer.chainId),
        oracle: issuer.relayer.oracle,
        ...(issuer.relayer.feed ? { feed: issuer.relayer.feed } : {}),
        heartbeatSeconds: issuer.relayer.heartbeatSeconds,
        marginSeconds: relayMarginSeconds(issuer.relayer, slowest),
        onchain,
        lastSubmitted: attempts.find((a) => a.status === "submitted")?.sequence.toString() ?? null,
        attempts: attempts.map((a) => ({
          sequence: a.sequence.toString(),
          attempt: a.attempt,
          status: a.status,
          txHash: a.txHash,
          gasUsed: a.gasUsed?.toString() ?? null,
          reason: a.reason,
          at: a.at,
        })),
      },
      200,
    );
  },
);
