import { access, writeFile } from "node:fs/promises";
import { createInterface } from "node:readline/promises";
import type { Readable, Writable } from "node:stream";
import { parseArgs } from "node:util";
import type { SolventConfigInput } from "../../core/config/schema.js";
import { checkFile } from "./config.js";
import {
  HOLDING_SYNTAX,
  parseAsset,
  parseChain,
  parseCustodian,
  parseHolder,
  parseHolding,
  parseLedger,
  parsePolicy,
  parsePrice,
  parseSupply,
  parseSupplyToken,
} from "./initSpec.js";
import { type Output, UsageError } from "./io.js";

export const initHelp = `solvent init --issuer ID --name NAME --asset ID:DECIMALS[:peg]… (--supply ASSET:PEGUSD | --ledger ASSET,…)
             [--chain CHAINID=RPC-URL…] [--price ASSET=SOURCE…] [--holder CHAINID:ADDRESS[:NAME]…]
             [--holding [CHAINID:]ADDRESS=KIND:ASSET[:CONTRACT]…] [--supply-token CHAINID:TOKEN[:ESCROW,…]…]
             [--custodian ID:SIGNER[,…]:ACCOUNT/ASSET[,…][:NAME]…] [--policy KEY=N…]
             [--out FILE] [--force] [--yes] [--rpc]

Writes a new issuer configuration (JSON; notes for people in "$comment",
which Solvent ignores) and checks it with solvent config check (--rpc: with a
dry tick). On a terminal, when a required flag is missing, the parts the flags leave
out are asked for, one question each, with the flag syntax and a default in
[brackets]; with every required flag, with --yes, or when stdin is not a
terminal, nothing is asked and a missing required flag is an error (exit 2)
naming it. Repeat a flag for more of the same.
  --issuer ID, --name NAME     the issuer (id: a-z, 0-9, '.', '_', '-')
  --chain CHAINID=URL          an RPC URL of a chain; repeat for fallbacks; \${NAME} = a secret
  --asset ID:DECIMALS[:peg]    a reserve asset; :peg marks the currency owed (it defaults to a
                               fixed $1 price)
  --price ASSET=SOURCE         fixed:USD | chainlink:CHAINID:FEED[:MAXAGESECONDS] |
                               uniswapV3:CHAINID:POOL:TOKEN:QUOTEASSET | http:URL#dot.path
  --supply ASSET:PEGUSD        liabilities = the supply of your token (e.g. MYUSD:1), with
  --supply-token CHAINID:TOKEN[:ESCROW,…]   its token per chain, minus escrow balances
  --ledger ASSET,…             liabilities = a user ledger over these assets, in this order
  --holder CHAINID:ADDRESS[:NAME]           an address holding reserves (ownership "none"
                               until you add a proof: solvent ownership sign prints it)
  --holding [CHAINID:]ADDRESS=${HOLDING_SYNTAX}
  --custodian ID:SIGNER[,…]:ACCOUNT/ASSET[,…][:NAME]  off-chain reserves and who signs for them
  --policy KEY=N               ttlSeconds, statementMaxAgeSeconds, priceDivergenceBps, … (README)
  --out FILE                   default solvent.config.json; an existing file needs --force
Exit status: that of the check (0 valid, 1 problems found), 2 unusable input.`;

const OPTIONS = {
  issuer: { type: "string" },
  name: { type: "string" },
  chain: { type: "string", multiple: true },
  asset: { type: "string", multiple: true },
  price: { type: "string", multiple: true },
  supply: { type: "string" },
  "supply-token": { type: "string", multiple: true },
  ledger: { type: "string" },
  holder: { type: "string", multiple: true },
  holding: { type: "string", multiple: true },
  custodian: { type: "string", multiple: true },
  policy: { type: "string", multiple: true },
  out: { type: "string" },
  force: { type: "boolean" },
  yes: { type: "boolean" },
  rpc: { type: "boolean" },
} as const;

type Values = {
  issuer?: string;
  name?: string;
  chain?: string[];
  asset?: string[];
  price?: string[];
  supply?: string;
  "supply-token"?: string[];
  ledger?: string;
  holder?: string[];
  holding?: string[];
  custodian?: string[];
  policy?: string[];
  out?: string;
  force?: boolean;
  yes?: boolean;
  rpc?: boolean;
};

export interface InitDeps {
  /** Where answers come from; default stdin. */
  input?: Readable;
  /** Where questions go; default stderr (stdout stays for results). */
  prompts?: Writable;
  /** Ask for what is missing; default: stdin is a terminal and --yes is not given. */
  interactive?: boolean;
  /** For the check that follows; default the environment. */
  secrets?: Record<string, unknown>;
}

/** `solvent init`; returns the exit status. */
export async function init(args: string[], io: Output, deps: InitDeps = {}): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: true });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}" (every part is a --flag)`);
  const v = values as Values;
  // A script that gives every required flag is never asked anything, terminal or not.
  const interactive =
    deps.interactive ?? (process.stdin.isTTY === true && v.yes !== true && missingRequired(v).length > 0);
  if (interactive) await ask(v, deps);
  const missing = missingRequired(v);
  if (missing.length > 0) throw new UsageError(`missing ${missing.join(", ")} (solvent init --help shows each)`);

  const out = v.out ?? "solvent.config.json";
  if (
    !v.force &&
    (await access(out).then(
      () => true,
      () => false,
    ))
  )
    throw new UsageError(`${out} exists; choose another --out or pass --force to replace it`);
  const config = build(v);
  try {
    await writeFile(out, `${JSON.stringify(config, null, 2)}\n`);
  } catch (e) {
    throw new UsageError(`--out: cannot write ${out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  io.out(`wrote ${out}`);
  const code = await checkFile(
    out,
    { rpc: v.rpc === true, json: false, ...(deps.secrets ? { secrets: deps.secrets } : {}) },
    io,
  );
  for (const step of nextSteps(config, out)) io.out(step);
  return code;
}

function missingRequired(v: Values): string[] {
  return [
    v.issuer === undefined && "--issuer",
    v.name === undefined && "--name",
    (v.asset ?? []).length === 0 && "--asset",
    v.supply === undefined && v.ledger === undefined && "--supply or --ledger",
  ].filter((x): x is string => typeof x === "string");
}

/** The configuration the flags describe; every reference is left for the check to judge, so its messages apply. */
function build(v: Values): SolventConfigInput {
  const chains = new Map<number, string[]>();
  for (const c of (v.chain ?? []).map(parseChain)) chains.set(c.chainId, [...(chains.get(c.chainId) ?? []), c.url]);
  const prices = (v.price ?? []).map(parsePrice);
  const assets = (v.asset ?? []).map(parseAsset).map((a) => {
    const own = prices.filter((p) => p.asset === a.id).map((p) => p.source);
    const sources =
      own.length > 0 ? own : a.pegCurrency ? [{ kind: "fixed" as const, priceUsd: (10n ** 18n).toString() }] : [];
    return { id: a.id, decimals: a.decimals, ...(a.pegCurrency ? { pegCurrency: true } : {}), prices: sources };
  });
  for (const p of prices)
    if (!assets.some((a) => a.id === p.asset))
      throw new UsageError(`--price ${p.asset}=…: ${p.asset} is not an --asset`);

  const holders = (v.holder ?? []).map(parseHolder);
  for (const h of (v.holding ?? []).map(parseHolding)) {
    const matches = holders.filter(
      (x) => x.address.toLowerCase() === h.holder.toLowerCase() && (h.chainId === null || x.chainId === h.chainId),
    );
    if (matches.length === 0)
      throw new UsageError(`--holding for ${h.holder}: add the holder first with --holder CHAINID:${h.holder}`);
    if (matches.length > 1)
      throw new UsageError(`--holding for ${h.holder}: it is a holder on several chains; write CHAINID:${h.holder}=…`);
    matches[0]!.holdings.push(h.holding);
  }

  const liabilities: SolventConfigInput["issuers"][number]["liabilities"] = {};
  if (v.supply !== undefined)
    liabilities.supply = { ...parseSupply(v.supply), tokens: (v["supply-token"] ?? []).map(parseSupplyToken) };
  else if ((v["supply-token"] ?? []).length > 0)
    throw new UsageError("--supply-token belongs to --supply ASSET:PEGUSD");
  if (v.ledger !== undefined) liabilities.ledger = { assets: parseLedger(v.ledger) };

  const policy = Object.fromEntries((v.policy ?? []).map(parsePolicy));
  return {
    $comment: [
      `Solvent configuration for issuer "${v.issuer}", written by solvent init. Solvent ignores this note; JSON has no comments.`,
      "chains: RPC URLs are tried in order; ${NAME} in a URL is filled from the secret NAME (wrangler secret put NAME; an environment variable for solvent config check --rpc).",
      "issuers[].assets: every reserve asset, its decimals (for statements and ledger balances) and at least one price source; three or more give a median.",
      "issuers[].liabilities: supply = your token's totalSupply minus escrows, valued at pegUsd (usd18); ledger = user balances uploaded with solvent ledger upload.",
      'issuers[].reserves.holders: ownership starts as "none" (read, never counted); replace it with what solvent ownership sign prints.',
      "issuers[].reserves.custodians: statements are signed with solvent statement sign by one of the signers and POSTed to the publisher.",
      "Check after every edit: solvent config check FILE (add --rpc to read the chains). Every field: README, Configuring an issuer.",
    ],
    version: 1,
    chains: [...chains].map(([chainId, rpcUrls]) => ({ chainId, rpcUrls })),
    issuers: [
      {
        id: v.issuer!,
        name: v.name!,
        assets,
        liabilities,
        reserves: { holders, custodians: (v.custodian ?? []).map(parseCustodian) },
        ...(Object.keys(policy).length > 0 ? { policy } : {}),
      },
    ],
  };
}

function nextSteps(config: SolventConfigInput, out: string): string[] {
  const issuer = config.issuers[0]!;
  const steps: string[] = [];
  for (const h of issuer.reserves.holders ?? []) {
    if (h.ownership.kind === "none") {
      steps.push(
        `  solvent ownership sign --issuer ${issuer.id} --chain-id ${h.chainId} --address ${h.address} --key-file HOLDER.key   # then put its "ownership" in ${out}`,
      );
    }
  }
  for (const c of issuer.reserves.custodians ?? []) {
    for (const a of c.accounts)
      steps.push(
        `  solvent statement sign --config ${out} --issuer ${issuer.id} --custodian ${c.id} --account ${a.account} --asset ${a.asset} --amount … --key-file CUSTODIAN.key`,
      );
  }
  if (issuer.liabilities.ledger)
    steps.push(
      `  solvent ledger upload ledger.csv --issuer ${issuer.id} --url PUBLISHER   # CSV header: userId,salt,${issuer.liabilities.ledger.assets.join(",")}`,
    );
  return steps.length > 0 ? ["next:", ...steps] : [];
}

/** Asks, on a terminal, for every part the flags left out; each answer is parsed as its flag would be, and asked again when it does not parse. */
async function ask(v: Values, deps: InitDeps): Promise<void> {
  const rl = createInterface({
    input: deps.input ?? process.stdin,
    output: deps.prompts ?? process.stderr,
    terminal: false,
  });
  const lines = rl[Symbol.asyncIterator]();
  const question = async (text: string, fallback = ""): Promise<string> => {
    (deps.prompts ?? process.stderr).write(`${text}${fallback ? ` [${fallback}]` : ""}: `);
    const next = await lines.next();
    if (next.done) throw new UsageError(`no answer to "${text}" (stdin ended); give it as a flag`);
    return next.value.trim() || fallback;
  };
  /** A list: one item per answer, an empty answer ends it. */
  const list = async (text: string, parse: (s: string) => unknown): Promise<string[]> => {
    const items: string[] = [];
    for (;;) {
      const answer = await question(`${text}${items.length > 0 ? " (empty: done)" : ""}`);
      if (answer === "") return items;
      if (valid(answer, parse)) items.push(answer);
    }
  };
  const valid = (answer: string, parse: (s: string) => unknown): boolean => {
    try {
      parse(answer);
      return true;
    } catch (e) {
      (deps.prompts ?? process.stderr).write(`  ${(e as Error).message}\n`);
      return false;
    }
  };
  const one = async (text: string, parse: (s: string) => unknown, fallback = ""): Promise<string> => {
    for (;;) {
      const answer = await question(text, fallback);
      if (answer !== "" && valid(answer, parse)) return answer;
      if (answer === "") (deps.prompts ?? process.stderr).write("  an answer is needed\n");
    }
  };
  try {
    v.issuer ??= await one("Issuer id (a-z, 0-9, '.', '_', '-')", (s) => s, "my-issuer");
    v.name ??= await one("Issuer name, as shown on the page", (s) => s, v.issuer);
    if ((v.chain ?? []).length === 0)
      v.chain = await list("Chain RPC URL as CHAINID=URL (${NAME} for a secret)", parseChain);
    if ((v.asset ?? []).length === 0)
      v.asset = await list("Reserve asset as ID:DECIMALS, or ID:DECIMALS:peg for the currency owed", parseAsset);
    const assets = (v.asset ?? []).map(parseAsset);
    if ((v.price ?? []).length === 0) {
      v.price = [];
      for (const a of assets) {
        const answer = await question(
          `Price source for ${a.id}: fixed:USD | chainlink:CHAINID:FEED | uniswapV3:CHAINID:POOL:TOKEN:QUOTE | http:URL#path`,
          a.pegCurrency ? "fixed:1" : "",
        );
        if (answer !== "" && valid(`${a.id}=${answer}`, parsePrice)) v.price.push(`${a.id}=${answer}`);
      }
    }
    if (v.supply === undefined && v.ledger === undefined) {
      const kind = await one(
        "Liabilities: supply (your token on chain) or ledger (user balances)",
        (s) => {
          if (s !== "supply" && s !== "ledger") throw new UsageError("answer supply or ledger");
          return s;
        },
        "ledger",
      );
      if (kind === "supply") {
        v.supply = await one("Your token as ASSET:PEGUSD", parseSupply, "MYUSD:1");
        v["supply-token"] = await list("Its token as CHAINID:TOKEN[:ESCROW,…]", parseSupplyToken);
      } else {
        v.ledger = await one(
          "Ledger assets, in order, comma-separated",
          parseLedger,
          assets.map((a) => a.id).join(","),
        );
      }
    }
    if ((v.holder ?? []).length === 0) {
      v.holder = await list("Reserve holder as CHAINID:ADDRESS[:NAME]", parseHolder);
      v.holding = [...(v.holding ?? [])];
      for (const h of v.holder.map(parseHolder)) {
        v.holding.push(
          ...(
            await list(`What ${h.address} holds: ${HOLDING_SYNTAX}`, (s) =>
              parseHolding(`${h.chainId}:${h.address}=${s}`),
            )
          ).map((s) => `${h.chainId}:${h.address}=${s}`),
        );
      }
    }
    if ((v.custodian ?? []).length === 0)
      v.custodian = await list("Custodian as ID:SIGNER[,SIGNER]:ACCOUNT/ASSET[,…][:NAME]", parseCustodian);
    if ((v.policy ?? []).length === 0) {
      const ttl = await one(
        "Attestation lifetime policy.ttlSeconds (above your cron interval)",
        (s) => parsePolicy(`ttlSeconds=${s}`),
        "3600",
      );
      v.policy = [`ttlSeconds=${ttl}`];
    }
    v.out ??= await one("Write the configuration to", (s) => s, "solvent.config.json");
  } finally {
    rl.close();
  }
}
