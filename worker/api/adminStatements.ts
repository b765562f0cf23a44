import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Hex } from "../../core/bytes.js";
import { custodianStatementToJson, parseCustodianStatement } from "../../core/custodianStatement.js";
import { SolventError } from "../../core/errors.js";
import { acceptStatement, StatementRejectedError } from "../statements/acceptStatement.js";
import { ADMIN_ROUTE, adminErrors, bodyTimeoutError } from "./adminRoute.js";
import type { AppEnv } from "./context.js";
import { ApiError } from "./errors.js";
import { knownIssuer } from "./issuer.js";
import { jsonBody } from "./jsonBody.js";
import { parameterHook } from "./openapi.js";
import { errorResponse, IssuerParams } from "./schemas.js";

/** A statement is a few hundred bytes; anything near this is not one. */
export const STATEMENT_BODY_LIMIT = 16 * 1024;

const StatementBody = z
  .strictObject({
    statement: z
      .unknown()
      .openapi({ description: "SPEC §9 `{ issuer, custodian, account, asset, amount, asOf, nonce }`" }),
    signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, "must be a 65-byte 0x hex signature"),
  })
  .openapi("CustodianStatementBody");

const BODY_SHAPE =
  'the body is { "statement": { issuer, custodian, account, asset, amount, asOf, nonce }, "signature": "0x…" } (solvent statement sign prints it)';

/** Says what is wrong with the body's outer shape in words, every problem once, instead of the schema library's phrasing. */
function bodyProblem(json: unknown, issues: readonly z.core.$ZodIssue[]): string {
  if (typeof json !== "object" || json === null || Array.isArray(json))
    return `the body must be a JSON object: ${BODY_SHAPE}`;
  const keys = Object.keys(json);
  if (keys.some((k) => ["issuer", "custodian", "amount", "asOf", "nonce"].includes(k))) {
    return `the statement's fields are at the top level of the body; wrap them: ${BODY_SHAPE}`;
  }
  const problems = issues.map((issue) => {
    if (issue.code === "unrecognized_keys")
      return `${issue.keys.map((k) => `"${k.slice(0, 40)}"`).join(", ")} ${issue.keys.length === 1 ? "is" : "are"} not a body field`;
    const field = issue.path.join(".");
    if (!(field in json)) return `${field} is missing`;
    return `${field}: ${issue.message}`;
  });
  return `${problems.join("; ")}; ${BODY_SHAPE}`;
}

const statementBody = jsonBody(StatementBody, {
  maxBytes: STATEMENT_BODY_LIMIT,
  what: "a statement body",
  shape: "{ statement, signature }",
  describe: bodyProblem,
});

/** SPEC §9 custodian statement ingest. */
export const adminStatements = new OpenAPIHono<AppEnv>({ defaultHook: parameterHook });

adminStatements.openapi(
  createRoute({
    ...ADMIN_ROUTE,
    method: "post",
    path: "/v1/admin/issuers/{issuer}/statements",
    middleware: [statementBody.limit, knownIssuer, statementBody.read] as const,
    summary: "Submit a custodian statement",
    description:
      "A SPEC §9 signed custodian statement `{ statement, signature }`; checked, then counted at the next publish.",
    request: { params: IssuerParams, body: statementBody.request },
    responses: {
      201: {
        description: "Accepted: the statement with its signature, digest, signer and receivedAt.",
        content: { "application/json": { schema: z.object({}).passthrough() } },
      },
      400: errorResponse("INVALID_BODY: the body or a statement field is malformed; `field` names it."),
      409: errorResponse("STATEMENT_REJECTED (REPLAYED_NONCE)."),
      413: errorResponse("PAYLOAD_TOO_LARGE."),
      415: errorResponse("UNSUPPORTED_MEDIA_TYPE: Content-Type is not application/json."),
      422: errorResponse("STATEMENT_REJECTED: unknown signer, custodian or account, or too old."),
      ...bodyTimeoutError,
      ...adminErrors,
    },
  }),
  async (c) => {
    const body = c.req.valid("json");
    let statement;
    try {
      statement = parseCustodianStatement(body.statement);
    } catch (error) {
      if (error instanceof SolventError) throw new ApiError("INVALID_BODY", error.message, { field: error.record });
      throw error;
    }
    try {
      const stored = await acceptStatement(c.env.DB, c.var.issuer, {
        statement,
        signature: body.signature as Hex,
        now: Math.floor(Date.now() / 1000),
      });
      const { signature, digest, signer, receivedAt } = stored;
      return c.json(
        { statement: custodianStatementToJson(stored.statement), signature, digest, signer, receivedAt },
        201,
      );
    } catch (error) {
      if (error instanceof StatementRejectedError)
        throw new ApiError("STATEMENT_REJECTED", error.message, { reason: error.reason });
      throw error;
    }
  },
);
