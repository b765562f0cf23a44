import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { SolventError } from "../../core/errors.js";
import {
  type BalanceReceipt,
  parseReceipt,
  parseSignedReceipt,
  receiptDigest,
  signReceipt,
  verifyReceipt,
} from "../../core/receipt.js";
import { configuredIssuer, readValidConfig } from "./configFile.js";
import { EXIT_INVALID, EXIT_OK, EXIT_UNUSABLE, type Output, UsageError } from "./io.js";
import { readJsonInput } from "./readInput.js";
import { readSignerKey, SIGNER_KEY_OPTIONS } from "./signerKey.js";
import { parseTime } from "./statement.js";

export const receiptHelp = `solvent receipt sign --issuer ID --commitment 0x… --assets A,B --balances N,N --as-of TIME
                     (--key-file FILE | --key-env NAME) [--config FILE] [--out FILE] [--json]
solvent receipt verify --receipt FILE (--keys FILE|URL | --publisher URL) [--json]

A balance receipt (SPEC §12, EIP-712) is what an issuer's account system hands
each user with their salt: "in the ledger of asOf, commitment c holds these
balances", signed by a receipts key of the issuer (role "receipts" in the keys
document, listed in the configuration under liabilities.ledger.receiptKeys).
If a published ledger of that asOf then omits the user, or shows other
balances, the receipt and the publisher's own answer make a dispute
(solvent dispute make).

sign: --commitment is the user's SPEC §2 commitment in that ledger;
--assets the ledger's asset ids in its order; --balances the user's balances
in base units (integers), one per asset in the same order; --as-of the
ledger's asOf (unix seconds or ISO 8601 with a zone). The key: --key-file FILE
or --key-env NAME, never on the command line. --config FILE checks the
issuer's ledger assets and that the key is one of its receipts keys valid at
--as-of. Writes { receipt, signature } to --out FILE or prints it.

verify: checks the signature against a receipts key of the receipt's issuer
valid at its asOf, from --keys (a file or URL of the keys document) or
--publisher URL (its /.well-known/solvent/keys.json).
Exit status: 0 signed / valid, 1 not valid, 2 unusable input.`;

const SIGN_OPTIONS = {
  issuer: { type: "string" },
  commitment: { type: "string" },
  assets: { type: "string" },
  balances: { type: "string" },
  "as-of": { type: "string" },
  config: { type: "string" },
  ...SIGNER_KEY_OPTIONS,
  out: { type: "string" },
  json: { type: "boolean" },
} as const;

const VERIFY_OPTIONS = {
  receipt: { type: "string" },
  keys: { type: "string" },
  publisher: { type: "string" },
  json: { type: "boolean" },
} as const;

/** `solvent receipt <sign|verify>`. */
export async function receipt(args: string[], io: Output): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "sign") return sign(rest, io);
  if (sub === "verify") return verify(rest, io);
  io.err(`solvent receipt: unknown subcommand "${sub ?? ""}"\n\n${receiptHelp}`);
  return EXIT_UNUSABLE;
}

function required(values: Record<string, unknown>, names: string[]): void {
  const missing = names.filter((n) => values[n] === undefined || values[n] === "");
  if (missing.length > 0) throw new UsageError(`missing ${missing.map((n) => `--${n}`).join(", ")}`);
}

/** The keys document from --keys (file or URL) or --publisher; exactly one. */
export async function keysFrom(values: { keys?: string; publisher?: string }): Promise<unknown> {
  if ((values.keys === undefined) === (values.publisher === undefined)) {
    throw new UsageError("give --keys FILE|URL (the publisher's keys document) or --publisher URL, one of them");
  }
  if (values.keys !== undefined) return readJsonInput(values.keys, "keys");
  if (!/^https?:\/\//.test(values.publisher!)) throw new UsageError("--publisher must be an http(s) URL");
  return readJsonInput(`${values.publisher!.replace(/\/+$/, "")}/.well-known/solvent/keys.json`, "keys");
}

async function sign(args: string[], io: Output): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: SIGN_OPTIONS, strict: true, allowPositionals: true });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  required(values, ["issuer", "commitment", "assets", "balances", "as-of"]);
  const assets = values.assets!.split(",");
  const balances = values.balances!.split(",");
  if (balances.length !== assets.length)
    throw new UsageError(
      `--balances has ${balances.length} values and --assets ${assets.length}: give one balance per asset, in the same order`,
    );
  let parsed: BalanceReceipt;
  try {
    parsed = parseReceipt({
      issuer: values.issuer,
      commitment: values.commitment,
      assets,
      balances,
      asOf: parseTime(values["as-of"]!, "--as-of").toString(),
    });
  } catch (e) {
    if (e instanceof SolventError)
      throw new UsageError(e.message.replace(/^receipt\./, "--").replace(/^--asOf/, "--as-of"));
    throw e;
  }
  const account = await readSignerKey(values, io);
  const signed = await signReceipt(parsed, account);
  if (values.config !== undefined) {
    const config = await readValidConfig(values.config);
    const issuer = configuredIssuer(config, parsed.issuer, values.config);
    const ledger = issuer.liabilities.ledger;
    if (!ledger)
      throw new UsageError(
        `issuer "${issuer.id}" publishes no user ledger in ${values.config}: there is nothing a receipt could be checked against`,
      );
    if (ledger.assets.join(",") !== parsed.assets.join(",")) {
      throw new UsageError(
        `--assets ${parsed.assets.join(",")} is not the ledger's asset list ${ledger.assets.join(",")} in ${values.config}: list them in the ledger's order`,
      );
    }
    const keys = { keys: (ledger.receiptKeys ?? []).map((k) => ({ ...k, role: "receipts", issuer: issuer.id })) };
    if (keys.keys.length === 0)
      throw new UsageError(
        `issuer "${issuer.id}" lists no receipts keys in ${values.config} (liabilities.ledger.receiptKeys)`,
      );
    const check = await verifyReceipt(signed, keys);
    if (!check.ok) {
      io.err(
        `the receipt would not verify against ${values.config}: ${check.reason}. Sign with a key listed in liabilities.ledger.receiptKeys that is valid at --as-of.`,
      );
      return EXIT_INVALID;
    }
  }
  if (values.out !== undefined) {
    try {
      await writeFile(values.out, `${JSON.stringify(signed, null, 2)}\n`);
    } catch (e) {
      throw new UsageError(
        `--out: cannot write ${values.out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
  }
  const digest = receiptDigest(parsed);
  if (values.json) {
    io.out(JSON.stringify({ ...signed, signer: account.address, digest }));
    return EXIT_OK;
  }
  io.out(
    `receipt:  ${parsed.assets.map((a, i) => `${a} ${parsed.balances[i]}`).join(", ")} (base units) for commitment ${parsed.commitment}`,
  );
  io.out(
    `issuer:   ${parsed.issuer}, ledger asOf ${parsed.asOf} (${new Date(Number(parsed.asOf) * 1000).toISOString()})`,
  );
  io.out(`signer:   ${account.address}${values.config ? " (a receipts key of the issuer at asOf)" : ""}`);
  io.out(`digest:   ${digest}`);
  if (values.out !== undefined)
    io.out(`wrote the signed receipt to ${values.out}; hand it to the user with their salt`);
  else io.out(JSON.stringify(signed, null, 2));
  return EXIT_OK;
}

async function verify(args: string[], io: Output): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: VERIFY_OPTIONS, strict: true, allowPositionals: true });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  required(values, ["receipt"]);
  const signed = await readJsonInput(values.receipt!, "receipt");
  try {
    parseSignedReceipt(signed);
  } catch (e) {
    if (e instanceof SolventError) throw new UsageError(`--receipt ${values.receipt}: ${e.message}`);
    throw e;
  }
  const keys = await keysFrom(values);
  const check = await verifyReceipt(signed, keys);
  if (values.json) {
    io.out(
      JSON.stringify(
        check.ok
          ? {
              valid: true,
              signer: check.signer,
              digest: check.digest,
              issuer: check.receipt.issuer,
              commitment: check.receipt.commitment,
              asOf: check.receipt.asOf.toString(),
            }
          : { valid: false, record: check.record, reason: check.reason },
      ),
    );
  } else if (check.ok) {
    const r = check.receipt;
    io.out(`VALID RECEIPT: signed by ${check.signer}, a receipts key of "${r.issuer}" valid at asOf ${r.asOf}`);
    io.out(`  commitment ${r.commitment}: ${r.assets.map((a, i) => `${a} ${r.balances[i]}`).join(", ")} (base units)`);
  } else {
    io.out(`INVALID RECEIPT: ${check.reason}`);
  }
  return check.ok ? EXIT_OK : EXIT_INVALID;
}
