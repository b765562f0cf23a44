import { getAddress, hashMessage, recoverMessageAddress } from "viem";
import type { LocalAccount } from "viem/accounts";
import { parseAddress } from "./address.js";
import type { Hex } from "./bytes.js";
import { fail } from "./errors.js";
import { lowSProblem } from "./signature.js";

/** Who claims to own which holder address on which chain (SPEC §8). */
export interface OwnershipClaim {
  issuerId: string;
  address: string;
  chainId: number | bigint;
}

function checkedChainId(chainId: number | bigint): bigint {
  if (typeof chainId === "number" && !Number.isSafeInteger(chainId))
    fail("INVALID_NUMBER", "chainId", "must be an integer");
  const id = BigInt(chainId);
  // chainId 0 is how SPEC §3 marks off-chain items; an on-chain holder never has it.
  if (id <= 0n) fail("OUT_OF_RANGE", "chainId", `${id} is not an on-chain chain id`);
  return id;
}

/**
 * The exact SPEC §8 message. The issuer id must not contain a line break:
 * otherwise one signed text could be read as a claim for a different issuer.
 */
export function ownershipMessage(claim: OwnershipClaim): string {
  const { issuerId } = claim;
  if (typeof issuerId !== "string" || issuerId === "")
    fail("INVALID_ARGUMENT", "issuerId", "must be a non-empty string");
  if (/[\r\n]/.test(issuerId)) fail("INVALID_ARGUMENT", "issuerId", "must not contain a line break");
  const address = getAddress(parseAddress(claim.address, "address"));
  const chainId = checkedChainId(claim.chainId);
  return `Solvent reserve ownership\nissuer: ${issuerId}\naddress: ${address}\nchainId: ${chainId}`;
}

/** EIP-191 hash of the message: what an ERC-1271 `isValidSignature` call is asked about. */
export function ownershipMessageHash(claim: OwnershipClaim): Hex {
  return hashMessage(ownershipMessage(claim));
}

/**
 * personal_sign over the message. The account is not required to be
 * `claim.address`: for a contract wallet the owner signs and the contract
 * vouches via ERC-1271.
 */
export async function signOwnership(account: LocalAccount, claim: OwnershipClaim): Promise<Hex> {
  return account.signMessage({ message: ownershipMessage(claim) });
}

/**
 * EOA check, no network: whether the signature recovers to `claim.address`,
 * and if not, why. A high-s signature (SPEC §9) is refused before recovery,
 * even though its twin would recover to the holder.
 */
export async function checkOwnershipSignature(
  claim: OwnershipClaim,
  signature: Hex,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  const message = ownershipMessage(claim);
  const shape = lowSProblem(signature);
  if (shape !== null) return { ok: false, reason: shape };
  let signer: string;
  try {
    signer = await recoverMessageAddress({ message, signature });
  } catch (error) {
    return {
      ok: false,
      reason: `signature: does not recover to a public key: ${(error as Error).message.split("\n")[0]}`,
    };
  }
  if (signer.toLowerCase() !== claim.address.toLowerCase()) {
    return {
      ok: false,
      reason: `signature recovers to ${getAddress(signer)}, not the holder, for the SPEC §8 message`,
    };
  }
  return { ok: true };
}

/** EOA check, no network: true when the signature is low-s and recovers to `claim.address`. */
export async function verifyOwnershipSignature(claim: OwnershipClaim, signature: Hex): Promise<boolean> {
  return (await checkOwnershipSignature(claim, signature)).ok;
}
