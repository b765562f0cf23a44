import { parseArgs } from "node:util";
import { createPublicClient, getAddress, http, parseAbi, toHex } from "viem";
import type { Hex } from "../../core/bytes.js";
import { SolventError } from "../../core/errors.js";
import {
  type OwnershipClaim,
  ownershipMessage,
  ownershipMessageHash,
  verifyOwnershipSignature,
} from "../../core/ownershipProof.js";
import { EXIT_INVALID, EXIT_OK, EXIT_UNUSABLE, type Output, UsageError } from "./io.js";
import { hasSignerKey, parseSignatureOption, readSignerKey, SIGNER_KEY_OPTIONS } from "./signerKey.js";

export const ownershipHelp = `solvent ownership sign --issuer ID --address 0x… --chain-id N [--kind eoa|erc1271]
                       (--key-file FILE | --key-env NAME | --print-message | --signature 0x…)
                       [--rpc URL] [--json]

Makes the address-ownership proof (SPEC §8) that lets an on-chain holder's
balances count: a personal_sign (EIP-191) signature over the exact message
  Solvent reserve ownership\\nissuer: <ID>\\naddress: <checksummed address>\\nchainId: <N>
and prints the "ownership" entry for the holder in the configuration.
--kind eoa (default): the holder's own key signs; the signature must recover
to --address. --kind erc1271: the holder is a contract wallet; one of its
owners signs, and the publisher asks the wallet's isValidSignature(hash,
signature) for the EIP-191 hash of the message at each tick (it must answer
0x1626ba7e); with --rpc URL that call is made now. The configuration holds
65-byte signatures, so a wallet must accept one owner's signature (e.g. a
Safe with threshold 1).
The key: --key-file FILE or --key-env NAME (never on the command line). With a
hardware wallet or a Safe app: --print-message prints the exact message (text,
hex and EIP-191 hash) to sign; then run the same command with --signature 0x…
to check it and get the entry. --json prints { message, hash, signer, ownership }.
Exit status: 0 the proof checks, 1 it does not, 2 unusable input.`;

const OPTIONS = {
  issuer: { type: "string" },
  address: { type: "string" },
  "chain-id": { type: "string" },
  kind: { type: "string" },
  ...SIGNER_KEY_OPTIONS,
  "print-message": { type: "boolean" },
  signature: { type: "string" },
  rpc: { type: "string" },
  json: { type: "boolean" },
} as const;

const ERC1271_MAGIC = "0x1626ba7e";
const erc1271Abi = parseAbi(["function isValidSignature(bytes32 hash, bytes signature) view returns (bytes4)"]);

/** `solvent ownership <sign>`. */
export async function ownership(args: string[], io: Output): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "sign") return sign(rest, io);
  io.err(`solvent ownership: unknown subcommand "${sub ?? ""}"\n\n${ownershipHelp}`);
  return EXIT_UNUSABLE;
}

function claimFrom(values: { issuer?: string; address?: string; "chain-id"?: string }): OwnershipClaim {
  const missing = (["issuer", "address", "chain-id"] as const).filter(
    (n) => values[n] === undefined || values[n] === "",
  );
  if (missing.length > 0) throw new UsageError(`missing ${missing.map((n) => `--${n}`).join(", ")}`);
  if (!/^[1-9][0-9]{0,15}$/.test(values["chain-id"]!))
    throw new UsageError(`--chain-id must be a positive integer, got "${values["chain-id"]!.slice(0, 40)}"`);
  const claim = { issuerId: values.issuer!, address: values.address!, chainId: Number(values["chain-id"]) };
  try {
    ownershipMessage(claim);
  } catch (e) {
    if (e instanceof SolventError)
      throw new UsageError(`--${e.record === "issuerId" ? "issuer" : e.record}: ${e.reason}`);
    throw e;
  }
  return claim;
}

/** ERC-1271 at the latest block: does the wallet accept this signature for the message hash? */
async function askWallet(rpc: string, claim: OwnershipClaim, signature: Hex): Promise<{ ok: boolean; detail: string }> {
  if (!/^https?:\/\/\S+$/.test(rpc)) throw new UsageError("--rpc must be an http(s) URL");
  const client = createPublicClient({ transport: http(rpc, { timeout: 15_000, retryCount: 1 }) });
  let chainId: number;
  try {
    chainId = await client.getChainId();
  } catch (e) {
    throw new UsageError(`--rpc: the node does not answer: ${(e as Error).message.split("\n")[0]}`);
  }
  if (BigInt(chainId) !== BigInt(claim.chainId))
    throw new UsageError(`--rpc serves chain ${chainId}, not --chain-id ${claim.chainId}`);
  const address = getAddress(claim.address);
  if ((await client.getCode({ address })) === undefined)
    return {
      ok: false,
      detail: `${address} has no code on chain ${chainId}: it is not a contract wallet (use --kind eoa)`,
    };
  try {
    const answer = await client.readContract({
      address,
      abi: erc1271Abi,
      functionName: "isValidSignature",
      args: [ownershipMessageHash(claim), signature],
    });
    return answer.toLowerCase() === ERC1271_MAGIC
      ? { ok: true, detail: `isValidSignature returned ${ERC1271_MAGIC} on chain ${chainId}` }
      : {
          ok: false,
          detail: `isValidSignature returned ${answer}, not ${ERC1271_MAGIC}: the wallet does not accept this signer's signature`,
        };
  } catch (e) {
    return {
      ok: false,
      detail: `isValidSignature reverted: ${(e as { shortMessage?: string }).shortMessage ?? (e as Error).message.split("\n")[0]}`,
    };
  }
}

async function sign(args: string[], io: Output): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: true });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const claim = claimFrom(values);
  const kind = values.kind ?? "eoa";
  if (kind !== "eoa" && kind !== "erc1271")
    throw new UsageError(
      `--kind must be eoa or erc1271 ("contract" and "none" need no signature), got "${kind.slice(0, 40)}"`,
    );
  const modes = [
    hasSignerKey(values) || values.key !== undefined,
    values["print-message"] === true,
    values.signature !== undefined,
  ].filter(Boolean).length;
  if (modes === 0)
    throw new UsageError("say how to sign: --key-file FILE, --key-env NAME, or --print-message then --signature 0x…");
  if (modes > 1) throw new UsageError("give one of --key-file/--key-env, --print-message or --signature");
  if (values.rpc !== undefined && kind !== "erc1271")
    throw new UsageError("--rpc asks a contract wallet (--kind erc1271); an eoa signature is checked offline");

  const message = ownershipMessage(claim);
  const hash = ownershipMessageHash(claim);
  if (values["print-message"]) {
    if (values.json) {
      io.out(JSON.stringify({ message, messageHex: toHex(message), hash }));
    } else {
      io.out(`message (UTF-8, 4 lines, no trailing newline):\n${message}`);
      io.out(`\nas hex:        ${toHex(message)}`);
      io.out(`EIP-191 hash:  ${hash}`);
    }
    io.err(
      `Sign the message with personal_sign (${kind === "eoa" ? "the holder's own key" : "an owner of the wallet"}), then run the same command with --signature 0x… in place of --print-message.`,
    );
    return EXIT_OK;
  }

  const signer = values.signature === undefined ? await readSignerKey(values, io) : null;
  const signature = signer ? await signer.signMessage({ message }) : parseSignatureOption(values.signature!);
  const address = getAddress(claim.address);
  let check: { ok: boolean; detail: string };
  if (kind === "eoa") {
    check = (await verifyOwnershipSignature(claim, signature))
      ? { ok: true, detail: `the signature recovers to ${address}` }
      : {
          ok: false,
          detail: `the signature does not recover to ${address}${signer ? ` (the key is ${signer.address}); sign with the holder's own key, or use --kind erc1271 for a contract wallet` : ""}`,
        };
  } else if (values.rpc !== undefined) {
    check = await askWallet(values.rpc, claim, signature);
  } else {
    check = {
      ok: true,
      detail:
        "not checked here (give --rpc URL to ask the wallet now); the publisher asks isValidSignature at every tick",
    };
  }
  const entry = { kind, signature };
  if (values.json) {
    io.out(
      JSON.stringify({
        message,
        hash,
        signer: signer?.address ?? null,
        ownership: entry,
        valid: check.ok,
        detail: check.detail,
      }),
    );
    return check.ok ? EXIT_OK : EXIT_INVALID;
  }
  if (!check.ok) {
    io.err(`INVALID: ${check.detail}`);
    return EXIT_INVALID;
  }
  io.out(`holder ${address} on chain ${claim.chainId}, issuer ${claim.issuerId}: ${check.detail}`);
  io.out(`put this in the holder's entry (reserves.holders[…] with "address": "${address}"):`);
  io.out(`"ownership": ${JSON.stringify(entry)}`);
  return EXIT_OK;
}
