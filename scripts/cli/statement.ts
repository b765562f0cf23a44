import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import type { Address } from "viem";
import type { CustodianConfig, IssuerConfig } from "../../core/config/schema.js";
import {
  type CustodianStatement,
  custodianStatementDigest,
  custodianStatementToJson,
  custodianStatementTypedData,
  FUTURE_SKEW_SECONDS,
  recoverCustodianStatementSigner,
  signCustodianStatement,
} from "../../core/custodianStatement.js";
import { SolventError } from "../../core/errors.js";
import { decimalToBaseUnits, formatUnits, UINT64_MAX, UINT256_MAX } from "../../core/numbers.js";
import { configuredIssuer, readValidConfig } from "./configFile.js";
import { EXIT_INVALID, EXIT_OK, EXIT_UNUSABLE, type Output, UsageError } from "./io.js";
import { hasSignerKey, parseSignatureOption, readSignerKey, SIGNER_KEY_OPTIONS } from "./signerKey.js";

export const statementHelp = `solvent statement sign --issuer ID --custodian ID --account ACCOUNT --asset ASSET --amount DECIMAL
                       (--config FILE | --decimals N) [--as-of TIME] [--nonce N]
                       (--key-file FILE | --key-env NAME | --print-typed-data | --signature 0x…)
                       [--url URL] [--out FILE] [--json]

A custodian signs a statement of one account's balance (SPEC §9, EIP-712) for
an issuer; the issuer POSTs it to its publisher. --amount is a decimal in the
asset's units ("1250000.50"), converted to base units with the asset's
decimals exactly (more decimal places than the asset has are refused); the
decimals come from the issuer's configuration (--config, which also checks the
custodian, the account and that the key is a registered signer) or --decimals.
--as-of is unix seconds or an ISO 8601 time with a zone (default: now); it must
be within the issuer's policy.statementMaxAgeSeconds when it is published.
--nonce must grow for each (custodian, account, asset): the default is the
current unix time in milliseconds, so successive statements always grow.
The key: --key-file FILE (a file holding the 0x private key) or --key-env NAME
(an environment variable holding it); never on the command line. With a
hardware wallet: --print-typed-data prints the EIP-712 JSON to sign
(eth_signTypedData_v4) and the exact --as-of and --nonce to repeat; run the
same command again with them and --signature 0x… to check the signature and
get the body.
Prints the JSON body to POST to /v1/admin/issuers/ID/statements and a curl
line (--url: the publisher's base URL); --out FILE writes the body to FILE;
--json prints { body, signer, digest, amount } for scripts.
Exit status: 0 signed, 1 the signature is not by a registered signer, 2 unusable input.`;

const OPTIONS = {
  issuer: { type: "string" },
  custodian: { type: "string" },
  account: { type: "string" },
  asset: { type: "string" },
  amount: { type: "string" },
  decimals: { type: "string" },
  config: { type: "string" },
  "as-of": { type: "string" },
  nonce: { type: "string" },
  ...SIGNER_KEY_OPTIONS,
  "print-typed-data": { type: "boolean" },
  signature: { type: "string" },
  url: { type: "string" },
  out: { type: "string" },
  json: { type: "boolean" },
} as const;

/** `solvent statement <sign>`. */
export async function statement(args: string[], io: Output): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "sign") return sign(rest, io);
  io.err(`solvent statement: unknown subcommand "${sub ?? ""}"\n\n${statementHelp}`);
  return EXIT_UNUSABLE;
}

function required(values: Record<string, unknown>, names: string[]): void {
  const missing = names.filter((n) => values[n] === undefined || values[n] === "");
  if (missing.length > 0) throw new UsageError(`missing ${missing.map((n) => `--${n}`).join(", ")}`);
}

/** Unix seconds from digits or an ISO 8601 time that names its zone (a zoneless time means different things on different machines). */
export function parseTime(text: string, flag: string): bigint {
  if (/^[0-9]{1,19}$/.test(text)) {
    const n = BigInt(text);
    if (n > UINT64_MAX) throw new UsageError(`${flag} ${text} is beyond uint64`);
    return n;
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) {
    throw new UsageError(
      `${flag} must be unix seconds or an ISO 8601 time with a zone, like 2026-12-01T00:00:00Z; got "${text.slice(0, 60)}"`,
    );
  }
  const ms = Date.parse(text);
  if (!Number.isFinite(ms) || ms < 0) throw new UsageError(`${flag} "${text}" is not a time after 1970`);
  return BigInt(Math.floor(ms / 1000));
}

function parseNonce(text: string): bigint {
  if (!/^(0|[1-9][0-9]*)$/.test(text))
    throw new UsageError(`--nonce must be a decimal integer, got "${text.slice(0, 40)}"`);
  const n = BigInt(text);
  if (n > UINT64_MAX) throw new UsageError(`--nonce ${text} is beyond uint64`);
  return n;
}

/** The custodian's configured account for the asset, checked the way the statements route checks it. */
function custodianFor(
  issuer: IssuerConfig,
  custodianId: string,
  account: string,
  asset: string,
  file: string,
): CustodianConfig {
  const custodian = issuer.reserves.custodians.find((c) => c.id === custodianId);
  if (!custodian) {
    const ids = issuer.reserves.custodians.map((c) => `"${c.id}"`).join(", ") || "none";
    throw new UsageError(
      `custodian "${custodianId}" is not configured for issuer "${issuer.id}" in ${file} (custodians: ${ids})`,
    );
  }
  if (!custodian.accounts.some((a) => a.account === account && a.asset === asset)) {
    const list = custodian.accounts.map((a) => `${a.account}/${a.asset}`).join(", ");
    throw new UsageError(
      `custodian "${custodian.id}" has no account "${account}" for asset "${asset}" in ${file} (accounts: ${list})`,
    );
  }
  return custodian;
}

/** The typed data as eth_signTypedData_v4 takes it: the domain's own type listed, integers as decimal strings. */
function typedDataV4(typed: ReturnType<typeof custodianStatementTypedData>) {
  const message = Object.fromEntries(
    Object.entries(typed.message).map(([k, v]) => [k, typeof v === "bigint" ? v.toString(10) : v]),
  );
  return {
    types: {
      EIP712Domain: [
        { name: "name", type: "string" },
        { name: "version", type: "string" },
      ],
      ...typed.types,
    },
    primaryType: typed.primaryType,
    domain: typed.domain,
    message,
  };
}

async function sign(args: string[], io: Output): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: true });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  required(values, ["issuer", "custodian", "account", "asset", "amount"]);
  const modes = [
    hasSignerKey(values) || values.key !== undefined,
    values["print-typed-data"] === true,
    values.signature !== undefined,
  ].filter(Boolean).length;
  if (modes === 0)
    throw new UsageError(
      "say how to sign: --key-file FILE, --key-env NAME, or --print-typed-data then --signature 0x…",
    );
  if (modes > 1) throw new UsageError("give one of --key-file/--key-env, --print-typed-data or --signature");
  if ((values.config === undefined) === (values.decimals === undefined)) {
    throw new UsageError(
      "give --config FILE (the asset's decimals and the custodian's signers come from it) or --decimals N, one of them",
    );
  }
  const issuerId = values.issuer!;
  const asset = values.asset!;

  let decimals: number;
  let custodian: CustodianConfig | null = null;
  let maxAgeSeconds: bigint | null = null;
  if (values.config !== undefined) {
    const config = await readValidConfig(values.config);
    const issuer = configuredIssuer(config, issuerId, values.config);
    custodian = custodianFor(issuer, values.custodian!, values.account!, asset, values.config);
    decimals = issuer.assets.find((a) => a.id === asset)!.decimals;
    maxAgeSeconds = BigInt(issuer.policy.statementMaxAgeSeconds);
  } else {
    if (!/^(0|[1-9][0-9]?)$/.test(values.decimals!) || Number(values.decimals) > 36)
      throw new UsageError("--decimals must be a whole number 0..36");
    decimals = Number(values.decimals);
  }

  let amount: bigint;
  try {
    amount = decimalToBaseUnits(values.amount!, decimals, "--amount", UINT256_MAX, { ignoreTrailingZeros: true });
  } catch (e) {
    if (e instanceof SolventError) throw new UsageError(`--amount: ${e.reason}`);
    throw e;
  }
  const now = BigInt(Math.floor(Date.now() / 1000));
  const asOf = values["as-of"] === undefined ? now : parseTime(values["as-of"], "--as-of");
  if (asOf > now + FUTURE_SKEW_SECONDS)
    throw new UsageError(
      `--as-of is ${asOf - now}s in the future; the publisher refuses statements more than ${FUTURE_SKEW_SECONDS}s ahead`,
    );
  if (maxAgeSeconds !== null && now - asOf > maxAgeSeconds) {
    throw new UsageError(
      `--as-of is ${now - asOf}s old; issuer "${issuerId}" counts statements for ${maxAgeSeconds}s (policy.statementMaxAgeSeconds), so the publisher would refuse it as stale`,
    );
  }
  const nonce = values.nonce === undefined ? BigInt(Date.now()) : parseNonce(values.nonce);
  const statement: CustodianStatement = {
    issuer: issuerId,
    custodian: values.custodian!,
    account: values.account!,
    asset,
    amount,
    asOf,
    nonce,
  };
  let typed;
  try {
    typed = custodianStatementTypedData(statement);
  } catch (e) {
    if (e instanceof SolventError) throw new UsageError(e.message);
    throw e;
  }

  if (values["print-typed-data"]) {
    io.out(JSON.stringify(typedDataV4(typed), null, 2));
    io.err(
      `Sign this EIP-712 typed data (eth_signTypedData_v4) with the custodian's key, then run the same command with`,
    );
    io.err(`  --as-of ${asOf} --nonce ${nonce} --signature 0x…`);
    io.err(`in place of --print-typed-data, to check the signature and get the body to POST.`);
    return EXIT_OK;
  }

  const signature =
    values.signature !== undefined
      ? parseSignatureOption(values.signature)
      : await signCustodianStatement(statement, await readSignerKey(values, io));
  let signer: Address;
  try {
    signer = await recoverCustodianStatementSigner(statement, signature);
  } catch (e) {
    io.err(`the signature does not recover to a key: ${(e as Error).message}`);
    return EXIT_INVALID;
  }
  if (custodian && !custodian.signers.some((s) => s.toLowerCase() === signer.toLowerCase())) {
    io.err(
      `the statement is signed by ${signer}, which is not a registered signer of custodian "${custodian.id}" (${custodian.signers.join(", ")}); ` +
        `the publisher would refuse it (UNKNOWN_SIGNER). Sign with a registered key, or add ${signer} to the custodian's signers.`,
    );
    return EXIT_INVALID;
  }

  const body = { statement: custodianStatementToJson(statement), signature };
  const digest = custodianStatementDigest(statement);
  const base = (values.url ?? "https://solvent.example.workers.dev").replace(/\/+$/, "");
  const target = `${base}/v1/admin/issuers/${encodeURIComponent(issuerId)}/statements`;
  const data = values.out === undefined ? `'${JSON.stringify(body).replaceAll("'", "'\\''")}'` : `@${values.out}`;
  const curl = `curl -X POST ${target} -H "authorization: Bearer $ADMIN_TOKEN" -H "content-type: application/json" -d ${data}`;
  if (values.out !== undefined) {
    try {
      await writeFile(values.out, `${JSON.stringify(body, null, 2)}\n`);
    } catch (e) {
      throw new UsageError(
        `--out: cannot write ${values.out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
  }
  const human = `${formatUnits(amount, decimals)} ${asset}`;
  if (values.json) {
    io.out(
      JSON.stringify({
        body,
        signer,
        digest,
        amount: {
          decimal: formatUnits(amount, decimals, { group: false }),
          baseUnits: amount.toString(),
          decimals,
          asset,
        },
        curl,
      }),
    );
    return EXIT_OK;
  }
  io.out(
    `statement: ${human} (${amount} base units, ${decimals} decimals) in ${statement.custodian}/${statement.account} for issuer ${issuerId}`,
  );
  io.out(`as of:     ${new Date(Number(asOf) * 1000).toISOString()} (${asOf}), nonce ${nonce}`);
  io.out(`signer:    ${signer}${custodian ? ` (registered for ${custodian.id})` : ""}`);
  io.out(`digest:    ${digest}`);
  if (values.out !== undefined) io.out(`wrote the body to ${values.out}`);
  else io.out(`body:\n${JSON.stringify(body, null, 2)}`);
  io.out(`POST it (ADMIN_TOKEN or the issuer's own token):\n${curl}`);
  return EXIT_OK;
}
