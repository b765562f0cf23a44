import { createRoute } from "@hono/zod-openapi";
import { publishedKeysDocument } from "../disputes/receiptKeys.js";
import { publicApi, SHORT_CACHE } from "./openapi.js";
import { cacheHeader, commonErrors, KeysDocument } from "./schemas.js";

/** SPEC §7 keys document at `/.well-known/solvent/keys.json`. */
export const keysRoute = publicApi();

keysRoute.openapi(
  createRoute({
    method: "get",
    path: "/.well-known/solvent/keys.json",
    tags: ["keys"],
    summary: "Signing keys",
    description:
      'SPEC §7: every key that has signed attestations, with the interval it was valid, then each issuer\'s configured receipts keys (role "receipts", SPEC §12). Keys are never deleted.',
    responses: {
      200: {
        description: "The keys document.",
        headers: cacheHeader(SHORT_CACHE),
        content: { "application/json": { schema: KeysDocument } },
      },
      429: commonErrors[429],
      500: commonErrors[500],
    },
  }),
  async (c) => {
    const doc = await publishedKeysDocument(c.env.DB, c.var.config);
    c.header("Cache-Control", SHORT_CACHE);
    return c.json(doc, 200);
  },
);
