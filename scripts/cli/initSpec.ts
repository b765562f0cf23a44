import type { SolventConfigInput } from "../../core/config/schema.js";
import { policySchema } from "../../core/config/schema.js";
import { SolventError } from "../../core/errors.js";
import { decimalToBaseUnits, UINT256_MAX } from "../../core/numbers.js";
import { HOLDING_KINDS } from "../../core/sources/holdingKinds.js";
import { UsageError } from "./io.js";

/**
 * The flag syntax of `solvent init`, one parser per flag, shared by the
 * flags and the interactive prompts (a prompt's answer is read exactly as
 * the flag would be). Each parser throws a UsageError naming its flag.
 */

type IssuerInput = SolventConfigInput["issuers"][number];
type AssetInput = IssuerInput["assets"][number];
type PriceInput = AssetInput["prices"][number];
type HolderInput = NonNullable<IssuerInput["reserves"]["holders"]>[number];
type HoldingInput = HolderInput["holdings"][number];
type CustodianInput = NonNullable<IssuerInput["reserves"]["custodians"]>[number];

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const CHAIN_ID = /^[1-9][0-9]{0,15}$/;

function chainId(text: string | undefined, flag: string, value: string): number {
  if (text === undefined || !CHAIN_ID.test(text))
    throw new UsageError(`${flag} "${value}": the chain id must be a positive integer`);
  return Number(text);
}

function address(text: string | undefined, flag: string, value: string, what: string): string {
  if (text === undefined || !ADDRESS.test(text))
    throw new UsageError(`${flag} "${value}": ${what} must be a 0x address (40 hex digits)`);
  return text;
}

/** A USD price as people write it ("1", "3150.25") in the usd18 the configuration holds. */
export function usd18(text: string, flag: string): string {
  try {
    return decimalToBaseUnits(text, 18, flag, UINT256_MAX, { ignoreTrailingZeros: true }).toString();
  } catch (e) {
    if (e instanceof SolventError) throw new UsageError(`${flag}: ${e.reason}`);
    throw e;
  }
}

/** `--chain CHAINID=URL`: repeat it for fallback URLs of one chain. */
export function parseChain(value: string): { chainId: number; url: string } {
  const at = value.indexOf("=");
  const url = value.slice(at + 1);
  if (at < 0 || !/^https?:\/\/\S+$/.test(url))
    throw new UsageError(`--chain "${value}": expected CHAINID=http(s)://RPC-URL (\${SECRET} placeholders allowed)`);
  return { chainId: chainId(value.slice(0, at), "--chain", value), url };
}

/** `--asset ID:DECIMALS[:peg]`: `peg` marks the currency liabilities are owed in (e.g. USD). */
export function parseAsset(value: string): { id: string; decimals: number; pegCurrency: boolean } {
  const [id, decimals, peg, ...rest] = value.split(":");
  if (
    !id ||
    decimals === undefined ||
    !/^[0-9]{1,2}$/.test(decimals) ||
    Number(decimals) > 36 ||
    (peg !== undefined && peg !== "peg") ||
    rest.length > 0
  ) {
    throw new UsageError(`--asset "${value}": expected ID:DECIMALS or ID:DECIMALS:peg, e.g. USDC:6 or USD:6:peg`);
  }
  return { id, decimals: Number(decimals), pegCurrency: peg === "peg" };
}

/**
 * `--price ASSET=SOURCE`, SOURCE one of `fixed:USD` (peg currency only),
 * `chainlink:CHAINID:FEED[:MAXAGESECONDS]`, `uniswapV3:CHAINID:POOL:TOKEN:QUOTEASSET`,
 * `http:URL#DOT.PATH`.
 */
export function parsePrice(value: string): { asset: string; source: PriceInput } {
  const at = value.indexOf("=");
  const asset = value.slice(0, at);
  const spec = value.slice(at + 1);
  const bad = () =>
    new UsageError(
      `--price "${value}": expected ASSET=fixed:USD, ASSET=chainlink:CHAINID:FEED[:MAXAGESECONDS], ASSET=uniswapV3:CHAINID:POOL:TOKEN:QUOTEASSET or ASSET=http:URL#dot.path`,
    );
  if (at <= 0) throw bad();
  if (spec.startsWith("http:http")) {
    const url = spec.slice("http:".length);
    const hash = url.lastIndexOf("#");
    if (hash < 0) throw bad();
    return { asset, source: { kind: "http", url: url.slice(0, hash), path: url.slice(hash + 1) } };
  }
  const [kind, ...parts] = spec.split(":");
  if (kind === "fixed" && parts.length === 1)
    return { asset, source: { kind: "fixed", priceUsd: usd18(parts[0]!, "--price") } };
  if (kind === "chainlink" && (parts.length === 2 || parts.length === 3)) {
    const maxAge = parts[2] ?? "3600";
    if (!/^[1-9][0-9]{0,8}$/.test(maxAge)) throw bad();
    return {
      asset,
      source: {
        kind: "chainlink",
        chainId: chainId(parts[0], "--price", value),
        feed: address(parts[1], "--price", value, "the feed"),
        maxAgeSeconds: Number(maxAge),
      },
    };
  }
  if (kind === "uniswapV3" && parts.length === 4) {
    return {
      asset,
      source: {
        kind: "uniswapV3",
        chainId: chainId(parts[0], "--price", value),
        pool: address(parts[1], "--price", value, "the pool"),
        token: address(parts[2], "--price", value, "the token"),
        quoteAsset: parts[3]!,
      },
    };
  }
  throw bad();
}

/** `--holder CHAINID:ADDRESS[:NAME]`. */
export function parseHolder(value: string): HolderInput {
  const [chain, holder, ...name] = value.split(":");
  const entry: HolderInput = {
    chainId: chainId(chain, "--holder", value),
    address: address(holder, "--holder", value, "the holder"),
    ownership: { kind: "none" },
    holdings: [],
  };
  if (name.length > 0) entry.name = name.join(":");
  return entry;
}

/** The `--holding` syntax of each holding kind, e.g. `erc20:ASSET:TOKEN`: its type, the asset, then its contract field if it has one. */
const HOLDING_FORMS = HOLDING_KINDS.map(
  (k) => `${k.type}:ASSET${k.contractField === null ? "" : `:${k.contractField.toUpperCase()}`}`,
);

/** What `--holding` takes after `ADDRESS=`: `native:ASSET | erc20:ASSET:TOKEN | erc4626:ASSET:VAULT`. */
export const HOLDING_SYNTAX = HOLDING_FORMS.join(" | ");

/** `--holding [CHAINID:]ADDRESS=KIND:ASSET[:CONTRACT]`, one form per holding kind (HOLDING_SYNTAX). */
export function parseHolding(value: string): { chainId: number | null; holder: string; holding: HoldingInput } {
  const at = value.indexOf("=");
  const who = value.slice(0, at).split(":");
  const [type, asset, contract, ...rest] = value.slice(at + 1).split(":");
  const forms = HOLDING_FORMS.map((f) => `ADDRESS=${f}`);
  const expected = `${forms.slice(0, -1).join(", ")} or ${forms.at(-1)}`;
  const bad = () =>
    new UsageError(
      `--holding "${value}": expected ${expected} (CHAINID:ADDRESS=… when the address holds on two chains)`,
    );
  if (at <= 0 || !asset || rest.length > 0 || who.length > 2) throw bad();
  const holderChain = who.length === 2 ? chainId(who[0], "--holding", value) : null;
  const holder = address(who.at(-1), "--holding", value, "the holder");
  const kind = HOLDING_KINDS.find((k) => k.type === type);
  if (!kind || (kind.contractField === null) !== (contract === undefined)) throw bad();
  const fields =
    kind.contractField === null
      ? {}
      : { [kind.contractField]: address(contract, "--holding", value, `the ${kind.noun}`) };
  return { chainId: holderChain, holder, holding: { type: kind.type, asset, ...fields } as HoldingInput };
}

/** `--supply ASSET:PEGUSD`, e.g. MYUSD:1: the issuer's own token and what each whole one is owed at. */
export function parseSupply(value: string): { asset: string; pegUsd: string } {
  const [asset, peg, ...rest] = value.split(":");
  if (!asset || peg === undefined || rest.length > 0)
    throw new UsageError(`--supply "${value}": expected ASSET:PEGUSD, e.g. MYUSD:1`);
  return { asset, pegUsd: usd18(peg, "--supply") };
}

/** `--supply-token CHAINID:TOKEN[:ESCROW,ESCROW…]`. */
export function parseSupplyToken(value: string): { chainId: number; token: string; escrows: string[] } {
  const [chain, token, escrows, ...rest] = value.split(":");
  if (rest.length > 0)
    throw new UsageError(`--supply-token "${value}": expected CHAINID:TOKEN or CHAINID:TOKEN:ESCROW,ESCROW`);
  return {
    chainId: chainId(chain, "--supply-token", value),
    token: address(token, "--supply-token", value, "the token"),
    escrows:
      escrows === undefined || escrows === ""
        ? []
        : escrows.split(",").map((e) => address(e, "--supply-token", value, "each escrow")),
  };
}

/** `--ledger ASSET,ASSET…`: the ordered assets of the user ledger. */
export function parseLedger(value: string): string[] {
  const assets = value.split(",").map((a) => a.trim());
  if (assets.some((a) => a === ""))
    throw new UsageError(`--ledger "${value}": expected a comma-separated asset list, e.g. USD,ETH`);
  return assets;
}

/** `--custodian ID:SIGNER[,SIGNER…]:ACCOUNT/ASSET[,ACCOUNT/ASSET…][:NAME]`. */
export function parseCustodian(value: string): CustodianInput {
  const [id, signers, accounts, ...name] = value.split(":");
  const bad = () =>
    new UsageError(
      `--custodian "${value}": expected ID:SIGNER[,SIGNER]:ACCOUNT/ASSET[,ACCOUNT/ASSET][:NAME], e.g. acme-trust:0xabc…:omnibus-1/USD`,
    );
  if (!id || !signers || !accounts) throw bad();
  const parsedAccounts = accounts.split(",").map((pair) => {
    const slash = pair.lastIndexOf("/");
    if (slash <= 0 || slash === pair.length - 1) throw bad();
    return { account: pair.slice(0, slash), asset: pair.slice(slash + 1) };
  });
  const entry: CustodianInput = {
    id,
    signers: signers.split(",").map((s) => address(s, "--custodian", value, "each signer")),
    accounts: parsedAccounts,
  };
  if (name.length > 0) entry.name = name.join(":");
  return entry;
}

const POLICY_KEYS = Object.keys(policySchema.shape);

/** `--policy KEY=SECONDS_OR_BPS`, KEY a policy field (ttlSeconds, statementMaxAgeSeconds, …). */
export function parsePolicy(value: string): [string, number] {
  const [key, number, ...rest] = value.split("=");
  if (!key || !POLICY_KEYS.includes(key) || number === undefined || !/^[0-9]{1,10}$/.test(number) || rest.length > 0) {
    throw new UsageError(`--policy "${value}": expected KEY=INTEGER with KEY one of ${POLICY_KEYS.join(", ")}`);
  }
  return [key, Number(number)];
}
