import { type Address, isAddress } from "viem";
import { fail } from "./errors.js";

/**
 * Accepts an all-lowercase or a correctly EIP-55 checksummed address and
 * returns it lowercase (the SPEC §1 bytes form). A mixed-case address with a
 * wrong checksum is a typo, not an address, and is rejected.
 */
export function parseAddress(value: unknown, field: string): Address {
  if (typeof value !== "string") fail("INVALID_BYTES", field, "must be a 0x address string");
  if (!/^0x[0-9a-fA-F]{40}$/.test(value)) fail("INVALID_BYTES", field, "must be 0x followed by 40 hex digits");
  if (!isAddress(value, { strict: true })) fail("INVALID_BYTES", field, `${value} has a wrong EIP-55 checksum`);
  return value.toLowerCase() as Address;
}
