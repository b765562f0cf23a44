import { z } from "zod";

/**
 * Field schemas shared by ./schema.ts and the holding kinds' schema entries
 * (core/sources/kinds/), kept apart so those entries need not import the
 * schema they are part of.
 */

export const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x address (40 hex digits)");
export const id = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._-]{0,62}$/,
    "must be 1-63 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit",
  );
export const assetId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/, "must be 1-32 characters of letters, digits, '.', '_' or '-'");
export const httpUrl = z.string().regex(/^https?:\/\/\S+$/, "must be an http(s) URL");
