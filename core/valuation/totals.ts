import { ratioBps } from "../numbers.js";
import { ReserveStatus } from "../reservesTree.js";
import type { Liabilities } from "./liabilities.js";
import type { ValuedLineItem } from "./lineItems.js";

/** The counted sums of one snapshot: what the attestation signs and the flag rules compare. */
export interface SnapshotTotals {
  /** Status 0 + status 2 values. */
  reservesUsd: bigint;
  onchainReservesUsd: bigint;
  offchainReservesUsd: bigint;
  liabilitiesUsd: bigint;
  ratioBps: number;
}

function sumWhere(items: readonly ValuedLineItem[], status: ReserveStatus): bigint {
  return items.reduce((sum, { item }) => (item.status === status ? sum + item.valueUsd : sum), 0n);
}

/** Counts proven on-chain (status 0) and statement-backed (status 2) items against the liabilities; every other status counts zero. */
export function snapshotTotals(items: readonly ValuedLineItem[], liabilities: Liabilities): SnapshotTotals {
  const onchainReservesUsd = sumWhere(items, ReserveStatus.ON_CHAIN_PROVEN);
  const offchainReservesUsd = sumWhere(items, ReserveStatus.OFF_CHAIN_STATEMENT);
  const reservesUsd = onchainReservesUsd + offchainReservesUsd;
  return {
    reservesUsd,
    onchainReservesUsd,
    offchainReservesUsd,
    liabilitiesUsd: liabilities.totalUsd,
    ratioBps: ratioBps(reservesUsd, liabilities.totalUsd),
  };
}
