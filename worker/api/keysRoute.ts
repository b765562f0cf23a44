import { createRoute } from "@hono/zod-openapi";
import { keysDocument } from "../storage/signingKeys.js";
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
    description: "SPEC §7: every key that has signed attestations, with the interval it was valid. Keys are never deleted.",
    responses: {
      200: { description: "The keys document.", headers: cacheHeader(SHORT_CACHE), content: { "application/json": { schema: KeysDocument } } },
      429: commonErrors[429],
      500: commonErrors[500],
    },
  }),
  async (c) => {
    const doc = await keysDocument(c.env.DB);
    c.header("Cache-Control", SHORT_CACHE);
    return c.json(doc, 200);
  },
);
