import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { z } from "zod";
import { echo } from "../../core/errors.js";
import type { AppEnv } from "./context.js";
import { ApiError } from "./errors.js";

export interface JsonBodyOptions {
  /** Largest body in bytes; more is refused while it is read (413). */
  maxBytes: number;
  /** The body's shape in words, for the message of a body that is not JSON. */
  shape: string;
  /** What the 413 says is too large, e.g. "a statement body". */
  what?: string;
  /** A message for a body that parsed but does not fit the schema; default `<field>: <reason>`. */
  describe?: (json: unknown, issues: readonly z.core.$ZodIssue[]) => string;
}

/** The field a schema issue is about: its path, the unknown keys, or `(body)`. */
function issueField(issue: z.core.$ZodIssue | undefined): string {
  if (issue && issue.path.length > 0) return issue.path.join(".");
  return issue?.code === "unrecognized_keys" ? issue.keys.join(", ") : "(body)";
}

/**
 * The one reader of JSON request bodies: route middleware that refuses a body
 * over `maxBytes` (413), another Content-Type (415 UNSUPPORTED_MEDIA_TYPE), a
 * body that is not JSON or does not fit `schema` (400 INVALID_BODY naming the
 * field). `limit` goes first among the route's middleware (before the body
 * is touched), `read` where the body should be read; `request` is the route's
 * request body, so the schema documented is the schema checked. The route
 * then reads the body with `c.req.valid("json")`.
 */
export function jsonBody<T extends z.ZodType>(schema: T, options: JsonBodyOptions) {
  const limit: MiddlewareHandler<AppEnv> = bodyLimit({
    maxSize: options.maxBytes,
    onError: () => {
      throw new ApiError("PAYLOAD_TOO_LARGE", `${options.what ?? "this body"} is at most ${options.maxBytes} bytes`);
    },
  });
  const read: MiddlewareHandler<AppEnv> = async (c, next) => {
    const type = (c.req.header("Content-Type") ?? "").split(";")[0]!.trim().toLowerCase();
    if (type !== "application/json")
      throw new ApiError("UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json", { field: "Content-Type" });
    // A body that stalls fails this read with BodyTimeoutError (408), never as malformed.
    const text = await c.req.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ApiError("INVALID_BODY", `the body must be JSON ${options.shape}`, { field: "(body)" });
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const field = echo(issueField(parsed.error.issues[0]));
      const reason = echo(parsed.error.issues[0]?.message ?? "is invalid", 200);
      const message = options.describe ? options.describe(json, parsed.error.issues) : `${field}: ${reason}`;
      throw new ApiError("INVALID_BODY", echo(message, 600), { field });
    }
    await next();
  };
  return { limit, read, request: { required: true, content: { "application/json": { schema } } } };
}
