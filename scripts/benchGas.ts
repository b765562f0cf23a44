/**
 * Gas of the Solidity contracts (SolvencyOracle.submit and isHealthy, the
 * staleness-safe reads, mints through SolventMintGuard), measured on a fresh
 * anvil. Prints one JSON line per operation:
 *
 *   {"bench":"gas","op":"submit-first","gasUsed":…,"executionGas":…,…}
 *
 *   npx tsx scripts/benchGas.ts
 *
 * `gasUsed` is the transaction's receipt gas; `executionGas` is gasUsed minus
 * the 21,000 base and the calldata cost (16 per non-zero byte, 4 per zero byte).
 * The EIP-7623 calldata floor (10 per token) is reported and never binds here.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import solc from "solc";
import {
  type Abi,
  type Account,
  type Address,
  type Chain,
  createPublicClient,
  createWalletClient,
  decodeFunctionResult,
  defineChain,
  encodeFunctionData,
  type Hex,
  http,
  keccak256,
  type PublicClient,
  type Transport,
  toHex,
  type WalletClient,
} from "viem";
import { type LocalAccount, mnemonicToAccount, privateKeyToAccount } from "viem/accounts";
import {
  type Attestation,
  type AttestationFields,
  issuerKey,
  nextAttestation,
  signAttestation,
} from "../core/attestation.js";
import { compilerSettings } from "./contracts/compile.js";
import { startAnvil } from "./lib/anvil.js";
import { deployContract, loadArtifact } from "./lib/artifacts.js";

export const TX_BASE_GAS = 21_000n;

/** Pre-EIP-7623 calldata cost: 16 gas per non-zero byte, 4 per zero byte. */
export function calldataGas(data: Hex): bigint {
  let gas = 0n;
  for (let i = 2; i < data.length; i += 2) gas += data.slice(i, i + 2) === "00" ? 4n : 16n;
  return gas;
}

/** EIP-7623 floor: 10 gas per calldata token (zero byte = 1 token, non-zero = 4) on top of the base. */
export function calldataFloorGas(data: Hex): bigint {
  return (calldataGas(data) / 4n) * 10n;
}

/** What the transaction spent beyond the base cost and its calldata. */
export function executionGas(gasUsed: bigint, data: Hex): bigint {
  return gasUsed - TX_BASE_GAS - calldataGas(data);
}

/**
 * Source of a probe that measures a static call from a contract: `gasleft()`
 * around `target.staticcall(data)`. With `warm` the target account is touched
 * first, so the figure excludes EIP-2929's 2,500 extra for a cold account.
 */
const GAS_PROBE_SOURCE = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;
contract GasProbe {
    function measure(address target, bytes calldata data, bool warm) external view returns (uint256 used, bytes memory result) {
        if (warm && target.code.length == 0) revert();
        bool ok;
        uint256 before = gasleft();
        (ok, result) = target.staticcall(data);
        used = before - gasleft();
        require(ok);
    }
}
`;

export interface GasProbe {
  abi: Abi;
  bytecode: Hex;
}

/** Compiles the probe in memory with the repository's compiler settings (it is not a committed artifact). */
export function compileGasProbe(): GasProbe {
  const input = {
    language: "Solidity",
    sources: { "GasProbe.sol": { content: GAS_PROBE_SOURCE } },
    settings: compilerSettings,
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as {
    errors?: { severity: string; message: string }[];
    contracts?: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string } } }>>;
  };
  const errors = (output.errors ?? []).filter((e) => e.severity === "error");
  const compiled = output.contracts?.["GasProbe.sol"]?.GasProbe;
  if (errors.length > 0 || !compiled) throw new Error(`GasProbe: ${errors.map((e) => e.message).join("; ")}`);
  return { abi: compiled.abi, bytecode: `0x${compiled.evm.bytecode.object}` };
}

/** Gas a contract spends on `data` sent to `target` by static call, read through the deployed probe. */
export async function probeStaticCallGas(
  client: PublicClient,
  probe: { address: Address; abi: Abi },
  target: Address,
  data: Hex,
  warm: boolean,
): Promise<bigint> {
  const callData = encodeFunctionData({ abi: probe.abi, functionName: "measure", args: [target, data, warm] });
  const { data: returned } = await client.call({ to: probe.address, data: callData });
  const [used] = decodeFunctionResult({ abi: probe.abi, functionName: "measure", data: returned! }) as readonly [
    bigint,
    Hex,
  ];
  return used;
}

export interface GasFigure {
  bench: "gas";
  op: string;
  gasUsed: number;
  executionGas: number;
  calldataGas: number;
  calldataFloorGas?: number;
  note: string;
}

const MNEMONIC = "test test test test test test test test test test test junk";
/** A deploy-like ring: the last 256 rounds answer getRoundData. */
const ROUND_HISTORY = 256n;
const USD = 10n ** 18n;
const SIGNER_KEY: Hex = keccak256(toHex("solvent benchGas signer"));

function fieldsAt(issuer: Hex, now: bigint, i: bigint, sameRoots: boolean): AttestationFields {
  const reservesUsd = (5_000_000n + i) * USD;
  const liabilitiesUsd = 4_000_000n * USD;
  const tag = sameRoots ? "fixed" : String(i);
  return {
    issuer,
    observedAt: now - 30n,
    validUntil: now + 3_600n,
    reservesUsd,
    onchainReservesUsd: reservesUsd - 1_000_000n * USD,
    offchainReservesUsd: 1_000_000n * USD,
    liabilitiesUsd,
    ratioBps: Number((reservesUsd * 10_000n) / liabilitiesUsd),
    reservesRoot: keccak256(toHex(`reserves ${tag}`)),
    liabilitiesRoot: keccak256(toHex(`liabilities ${tag}`)),
    flags: i % 2n === 0n ? 0n : 16n,
    reportHash: keccak256(toHex(`report ${i}`)),
  };
}

/** Deploys a SolvencyOracle on a fresh anvil and measures submit in each storage state, and isHealthy. */
export async function measureGas(): Promise<GasFigure[]> {
  const anvil = await startAnvil();
  try {
    const chain = defineChain({
      id: anvil.chainId,
      name: "anvil",
      nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
      rpcUrls: { default: { http: [anvil.rpcUrl] } },
    });
    const client = createPublicClient({ chain, transport: http(anvil.rpcUrl), pollingInterval: 20 });
    const wallet = createWalletClient({ account: mnemonicToAccount(MNEMONIC), chain, transport: http(anvil.rpcUrl) });
    const signer: LocalAccount = privateKeyToAccount(SIGNER_KEY);
    const oracleArtifact = await loadArtifact("SolvencyOracle");
    const abi = oracleArtifact.abi;
    const oracle = await deployContract(wallet, client, oracleArtifact, [ROUND_HISTORY]);
    const issuer = issuerKey("bench-gas-issuer");
    await client.waitForTransactionReceipt({
      hash: await wallet.writeContract({
        address: oracle,
        abi,
        functionName: "addSigner",
        args: [issuer, signer.address],
      }),
    });

    const figures: GasFigure[] = [];
    const record = (op: string, gasUsed: bigint, data: Hex, note: string): void => {
      const floor = calldataFloorGas(data);
      const figure: GasFigure = {
        bench: "gas",
        op,
        gasUsed: Number(gasUsed),
        executionGas: Number(executionGas(gasUsed, data)),
        calldataGas: Number(calldataGas(data)),
        note,
      };
      if (op.startsWith("submit")) figure.calldataFloorGas = Number(floor);
      figures.push(figure);
    };

    let previous: Attestation | null = null;
    const submit = async (
      options: { skip?: bigint; sameRoots?: boolean } = {},
    ): Promise<{ gasUsed: bigint; data: Hex }> => {
      const block = await client.getBlock();
      const i = (previous?.sequence ?? 0n) + 1n + (options.skip ?? 0n);
      let next = nextAttestation(previous, fieldsAt(issuer, block.timestamp, i, options.sameRoots ?? false));
      if (options.skip)
        next = { ...next, sequence: next.sequence + options.skip, previous: keccak256(toHex(`gap ${i}`)) };
      const signature = await signAttestation(next, signer);
      const data = encodeFunctionData({ abi, functionName: "submit", args: [next, signature] });
      const hash = await wallet.sendTransaction({ to: oracle, data });
      const receipt = await client.waitForTransactionReceipt({ hash });
      if (receipt.status !== "success") throw new Error(`submit ${next.sequence} reverted`);
      previous = next;
      return { gasUsed: receipt.gasUsed, data };
    };

    let r = await submit();
    record(
      "submit-first",
      r.gasUsed,
      r.data,
      "sequence 1: every slot of the issuer and its first round slot go from zero to non-zero",
    );
    await submit(); // sequence 2 fills the other digest slot
    r = await submit();
    record(
      "submit-ring-fresh",
      r.gasUsed,
      r.data,
      "sequence 3: issuer slots non-zero, this round's ring slot still zero",
    );
    for (let sequence = 4n; sequence <= ROUND_HISTORY; sequence++) await submit();
    r = await submit();
    record(
      "submit-steady",
      r.gasUsed,
      r.data,
      `sequence ${ROUND_HISTORY + 1n}: every slot non-zero, every field changed`,
    );
    r = await submit({ sameRoots: true });
    await submit({ sameRoots: true });
    r = await submit({ sameRoots: true });
    record(
      "submit-steady-same-roots",
      r.gasUsed,
      r.data,
      "as submit-steady with reservesRoot and liabilitiesRoot unchanged",
    );
    r = await submit({ skip: ROUND_HISTORY });
    record(
      "submit-steady-unlinked",
      r.gasUsed,
      r.data,
      "skips ahead: previous is stored unchecked, one more slot write",
    );

    const healthData = encodeFunctionData({ abi, functionName: "isHealthy", args: [issuer, 10_000, 3_600n, 1n] });
    const estimate = await client.estimateGas({ account: wallet.account, to: oracle, data: healthData });
    record("isHealthy-tx", estimate, healthData, "eth_estimateGas of isHealthy sent as a transaction");

    const probeSource = compileGasProbe();
    const probeAddress = await deployContract(wallet, client, {
      contractName: "GasProbe",
      sourceName: "GasProbe.sol",
      abi: probeSource.abi,
      bytecode: probeSource.bytecode,
      deployedBytecode: "0x",
    });
    const probe = { address: probeAddress, abi: probeSource.abi };
    for (const warm of [false, true]) {
      const used = await probeStaticCallGas(client, probe, oracle, healthData, warm);
      figures.push({
        bench: "gas",
        op: warm ? "isHealthy-call-warm" : "isHealthy-call-cold",
        gasUsed: Number(used),
        executionGas: Number(used),
        calldataGas: 0,
        note: warm
          ? "gasleft() around a staticcall from a contract that already touched the oracle"
          : "gasleft() around a consumer's first staticcall to the oracle in a tx (incl. 2,600 cold account access)",
      });
    }
    figures.push(...(await measureGuardGas({ client, wallet, oracle, issuer, probe })));
    return figures;
  } finally {
    await anvil.stop();
  }
}

interface GuardBench {
  client: PublicClient;
  wallet: WalletClient<Transport, Chain, Account>;
  oracle: Address;
  issuer: Hex;
  probe: { address: Address; abi: Abi };
}

/**
 * Steady-state mints (supply and the recipient's balance already non-zero) of a
 * plain DemoToken, of a token guarding its own mint (GuardedStablecoin) and of a
 * DemoToken behind the standalone SolventMintGuard (without and with one excluded
 * escrow), plus the checked reads, all against the issuer's fresh attestation.
 */
async function measureGuardGas({ client, wallet, oracle, issuer, probe }: GuardBench): Promise<GasFigure[]> {
  const figures: GasFigure[] = [];
  const holder: Address = "0x000000000000000000000000000000000000b0b0";
  const escrow: Address = "0x000000000000000000000000000000000000e5c0";
  const policy = { oracle, issuer, pegUsd18: USD, marginBps: 0n, maxAgeSeconds: 600n, denyFlags: 0b10_0011n };
  const [tokenArt, coinArt, guardArt, oracleArt, feedArt] = await Promise.all(
    ["DemoToken", "GuardedStablecoin", "SolventMintGuard", "SolvencyOracle", "ReserveFeed"].map((n) => loadArtifact(n)),
  );
  const send = async (address: Address, abi: Abi, functionName: string, args: readonly unknown[]) => {
    const data = encodeFunctionData({ abi, functionName, args });
    const receipt = await client.waitForTransactionReceipt({
      hash: await wallet.sendTransaction({ to: address, data }),
    });
    if (receipt.status !== "success") throw new Error(`${functionName} on ${address} reverted`);
    return { gasUsed: receipt.gasUsed, data };
  };
  /** The second of two equal mints: every slot it writes is already non-zero. */
  const steadyMint = async (op: string, address: Address, abi: Abi, note: string) => {
    await send(address, abi, "mint", [holder, 1_000n]);
    const { gasUsed, data } = await send(address, abi, "mint", [holder, 1_000n]);
    figures.push({
      bench: "gas",
      op,
      gasUsed: Number(gasUsed),
      executionGas: Number(executionGas(gasUsed, data)),
      calldataGas: Number(calldataGas(data)),
      note,
    });
  };

  const plain = await deployContract(wallet, client, tokenArt!, ["Plain", "PLN", 6]);
  await steadyMint("mint-unguarded", plain, tokenArt!.abi, "DemoToken.mint by its owner, no guard: the baseline");

  const coin = await deployContract(wallet, client, coinArt!, ["Guarded", "GRD", 6, policy]);
  await steadyMint(
    "mint-guarded-modifier",
    coin,
    coinArt!.abi,
    "GuardedStablecoin.mint with onlyWithinReserves: one call to the oracle (cold)",
  );

  for (const [op, excluded] of [
    ["mint-guard-standalone", []],
    ["mint-guard-standalone-1-escrow", [escrow]],
  ] as const) {
    const token = await deployContract(wallet, client, tokenArt!, ["Existing", "EXT", 6]);
    await send(token, tokenArt!.abi, "mint", [escrow, 5_000n]);
    const guard = await deployContract(wallet, client, guardArt!, [policy, token, excluded]);
    await send(guard, guardArt!.abi, "addMinter", [wallet.account.address]);
    await send(token, tokenArt!.abi, "transferOwnership", [guard]);
    const note =
      excluded.length === 0
        ? "SolventMintGuard.mint over a DemoToken it owns: oracle call, totalSupply, the token's mint, an event"
        : "as mint-guard-standalone, with one excluded escrow (a storage read and a balanceOf more)";
    await steadyMint(op, guard, guardArt!.abi, note);
  }

  const feed = await deployContract(wallet, client, feedArt!, [oracle, issuer, "bench reserves"]);
  const staticCall = async (
    op: string,
    target: Address,
    abi: Abi,
    functionName: string,
    args: readonly unknown[],
    warm: boolean,
    note: string,
  ) => {
    const used = await probeStaticCallGas(client, probe, target, encodeFunctionData({ abi, functionName, args }), warm);
    figures.push({ bench: "gas", op, gasUsed: Number(used), executionGas: Number(used), calldataGas: 0, note });
  };
  for (const warm of [false, true]) {
    const when = warm ? "warm" : "cold";
    await staticCall(
      `latestReservesChecked-call-${when}`,
      oracle,
      oracleArt!.abi,
      "latestReservesChecked",
      [issuer, 600n],
      warm,
      `staticcall from a contract, oracle ${when}`,
    );
  }
  await staticCall(
    "latestChecked-call-cold",
    oracle,
    oracleArt!.abi,
    "latestChecked",
    [issuer, 600n],
    false,
    "the whole attestation (8 slots), oracle cold",
  );
  await staticCall(
    "latestRoundData-call-cold",
    feed,
    feedArt!.abi,
    "latestRoundData",
    [],
    false,
    "ReserveFeed.latestRoundData (unchecked), feed and oracle cold",
  );
  await staticCall(
    "latestRoundDataChecked-call-cold",
    feed,
    feedArt!.abi,
    "latestRoundDataChecked",
    [600n],
    false,
    "ReserveFeed.latestRoundDataChecked, feed and oracle cold",
  );
  return figures;
}

async function main(): Promise<void> {
  for (const figure of await measureGas()) console.log(JSON.stringify(figure));
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await main();
}
