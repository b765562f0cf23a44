import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Address } from "viem";
import { z } from "zod";
import type { Hex } from "../../core/bytes.js";
import type { IssuerConfig } from "../../core/config/schema.js";
import {
  checkCustodianStatement,
  custodianStatementDigest,
  custodianStatementToJson,
  parseCustodianStatement,
  type CustodianStatement,
  type CustodianStatementRejection,
} from "../../core/custodianStatement.js";
import { echo, SolventError } from "../../core/errors.js";
import { insertStatement, lastAcceptedNonce, NonceNotNewerError } from "../storage/statementStore.js";
import { adminAuth } from "./adminAuth.js";
import type { AppEnv } from "./context.js";
import { ApiError, BodyTimeoutError } from "./errors.js";

/** A statement is a few hundred bytes; anything near this is not one. */
export const STATEMENT_BODY_LIMIT = 16 * 1024;

/** Why a statement was refused: the SPEC §9 checks plus the configuration checks done here. */
export type StatementRejectionReason = CustodianStatementRejection | "UNKNOWN_CUSTODIAN" | "UNKNOWN_ACCOUNT";

/**
 * REPLAYED_NONCE is 409: the request is well-formed and authentic but
 * conflicts with what is already stored (a nonce this new or newer), and
 * repeating it can never succeed. Every other rejection is 422: the body
 * parsed, but its content is not acceptable (signature, signer, issuer,
 * time window, unknown custodian/account).
 */
function rejectionStatus(reason: StatementRejectionReason): ContentfulStatusCode {
  return reason === "REPLAYED_NONCE" ? 409 : 422;
}

function reject(reason: StatementRejectionReason, message: string): never {
  throw new ApiError(rejectionStatus(reason), "STATEMENT_REJECTED", message, { reason });
}

const bodySchema = z.strictObject({
  statement: z.unknown(),
  signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, "must be a 65-byte 0x hex signature"),
});

const BODY_SHAPE = 'the body is { "statement": { issuer, custodian, account, asset, amount, asOf, nonce }, "signature": "0x…" } (solvent statement sign prints it)';

/** Says what is wrong with the body's outer shape in words, every problem once, instead of the schema library's phrasing. */
function bodyProblem(json: unknown, issues: readonly z.core.$ZodIssue[]): string {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return `the body must be a JSON object: ${BODY_SHAPE}`;
  const keys = Object.keys(json);
  if (keys.some((k) => ["issuer", "custodian", "amount", "asOf", "nonce"].includes(k))) {
    return `the statement's fields are at the top level of the body; wrap them: ${BODY_SHAPE}`;
  }
  const problems = issues.map((issue) => {
    if (issue.code === "unrecognized_keys") return `${issue.keys.map((k) => `"${k.slice(0, 40)}"`).join(", ")} ${issue.keys.length === 1 ? "is" : "are"} not a body field`;
    const field = issue.path.join(".");
    if (!(field in json)) return `${field} is missing`;
    return `${field}: ${issue.message}`;
  });
  return `${problems.join("; ")}; ${BODY_SHAPE}`;
}

async function readBody(c: Context<AppEnv>): Promise<{ statement: CustodianStatement; signature: Hex }> {
  const type = (c.req.header("Content-Type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json") {
    throw new ApiError(415, "INVALID_BODY", "Content-Type must be application/json", { field: "Content-Type" });
  }
  let json: unknown;
  try {
    json = await c.req.json();
  } catch (error) {
    if (error instanceof BodyTimeoutError) throw error; // a body that never arrived is not malformed: 408
    throw new ApiError(400, "INVALID_BODY", "the body must be JSON { statement, signature }", { field: "(body)" });
  }
  const parsed = bodySchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = echo(issue && issue.path.length > 0 ? issue.path.join(".") : issue?.code === "unrecognized_keys" ? issue.keys.join(", ") : "(body)");
    throw new ApiError(400, "INVALID_BODY", echo(bodyProblem(json, parsed.error.issues), 600), { field });
  }
  try {
    return { statement: parseCustodianStatement(parsed.data.statement), signature: parsed.data.signature as Hex };
  } catch (error) {
    if (error instanceof SolventError) throw new ApiError(400, "INVALID_BODY", error.message, { field: error.record });
    throw error;
  }
}

function configuredIssuer(c: Context<AppEnv>): IssuerConfig {
  const id = c.req.param("issuer") ?? "";
  const issuer = c.var.config.issuers.find((i) => i.id === id);
  if (!issuer) throw new ApiError(404, "UNKNOWN_ISSUER", `issuer "${echo(id)}" is not published here`);
  return issuer;
}

/** SPEC §9 custodian statement ingest, behind adminAuth. Mounted at `/`. */
export const adminStatements = new Hono<AppEnv>();

adminStatements.post(
  "/v1/admin/issuers/:issuer/statements",
  adminAuth,
  bodyLimit({
    maxSize: STATEMENT_BODY_LIMIT,
    onError: () => {
      throw new ApiError(413, "PAYLOAD_TOO_LARGE", `a statement body is at most ${STATEMENT_BODY_LIMIT} bytes`);
    },
  }),
  async (c) => {
    const issuer = configuredIssuer(c);
    const { statement, signature } = await readBody(c);

    const custodian = issuer.reserves.custodians.find((x) => x.id === statement.custodian);
    if (!custodian) reject("UNKNOWN_CUSTODIAN", `custodian "${echo(statement.custodian)}" is not configured for issuer "${issuer.id}"`);
    if (!custodian.accounts.some((a) => a.account === statement.account && a.asset === statement.asset)) {
      reject("UNKNOWN_ACCOUNT", `custodian "${custodian.id}" has no configured account "${echo(statement.account)}" for asset "${echo(statement.asset)}"`);
    }

    const now = Math.floor(Date.now() / 1000);
    const check = await checkCustodianStatement({
      statement,
      signature,
      issuerId: issuer.id,
      registeredSigners: custodian.signers as Address[],
      now: BigInt(now),
      maxAgeSeconds: BigInt(issuer.policy.statementMaxAgeSeconds),
      lastAcceptedNonce: await lastAcceptedNonce(c.env.DB, issuer.id, statement.custodian, statement.account, statement.asset),
    });
    if (!check.ok) reject(check.code, check.reason);

    const stored = {
      statement,
      signature: signature.toLowerCase() as Hex,
      signer: check.signer.toLowerCase() as Hex,
      digest: custodianStatementDigest(statement),
      receivedAt: now,
    };
    try {
      await insertStatement(c.env.DB, stored);
    } catch (error) {
      // A concurrent request with this nonce (or a newer one) won the insert.
      if (error instanceof NonceNotNewerError) reject("REPLAYED_NONCE", error.message);
      throw error;
    }
    return c.json(
      {
        statement: custodianStatementToJson(statement),
        signature: stored.signature,
        digest: stored.digest,
        signer: stored.signer,
        receivedAt: now,
      },
      201,
    );
  },
);
