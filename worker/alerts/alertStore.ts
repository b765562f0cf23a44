import type { AlertEvent } from "../../core/config/alertsSchema.js";
import type { DestinationLabel } from "./destinations.js";
import type { AlertDetails, AlertDraft, AlertSeverity } from "./detectAlerts.js";

/** One stored alert (migrations/0004_alerts.sql `alerts`). */
export interface StoredAlert {
  id: number;
  issuerId: string;
  event: AlertEvent;
  severity: AlertSeverity;
  sequence: bigint | null;
  title: string;
  text: string;
  details: AlertDetails;
  /** Unix seconds. */
  createdAt: number;
}

export type DeliveryStatus = "queued" | "delivered" | "retrying" | "failed";

/** One appended step of delivering an alert to one destination (`alert_deliveries`). */
export interface DeliveryRecord extends DestinationLabel {
  alertId: number;
  destination: number;
  /** 0 when queued, else the queue's delivery attempt. */
  attempt: number;
  status: DeliveryStatus;
  httpStatus: number | null;
  reason: string;
  at: number;
}

/** Where one alert stands with one destination: its latest record and how many deliveries were tried. */
export interface DeliveryState extends DestinationLabel {
  destination: number;
  status: DeliveryStatus;
  attempts: number;
  httpStatus: number | null;
  reason: string;
  at: number;
}

interface AlertRow {
  id: number;
  issuer_id: string;
  event: AlertEvent;
  severity: AlertSeverity;
  sequence: number | null;
  title: string;
  text: string;
  details_json: string;
  created_at: number;
}

interface DeliveryRow {
  alert_id: number;
  destination: number;
  kind: DestinationLabel["kind"];
  host: string;
  attempt: number;
  status: DeliveryStatus;
  http_status: number | null;
  reason: string;
  at: number;
}

const ALERT_COLUMNS = "id, issuer_id, event, severity, sequence, title, text, details_json, created_at";

function alertFromRow(row: AlertRow): StoredAlert {
  return {
    id: row.id,
    issuerId: row.issuer_id,
    event: row.event,
    severity: row.severity,
    sequence: row.sequence === null ? null : BigInt(row.sequence),
    title: row.title,
    text: row.text,
    details: JSON.parse(row.details_json) as AlertDetails,
    createdAt: row.created_at,
  };
}

/**
 * Appends the alert unless the same event (issuer, dedupeKey) is already
 * stored; returns it when new, null when it was a duplicate. The UNIQUE
 * constraint decides, so two racing watchdogs still store one.
 */
export async function insertAlert(
  db: D1Database,
  issuerId: string,
  draft: AlertDraft,
  createdAt: number,
): Promise<StoredAlert | null> {
  const row = await db
    .prepare(
      `INSERT INTO alerts (issuer_id, event, severity, dedupe_key, sequence, title, text, details_json, created_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
       ON CONFLICT (issuer_id, dedupe_key) DO NOTHING
       RETURNING ${ALERT_COLUMNS}`,
    )
    .bind(
      issuerId,
      draft.event,
      draft.severity,
      draft.dedupeKey,
      draft.sequence === null ? null : Number(draft.sequence),
      draft.title.slice(0, 500),
      draft.text.slice(0, 4000),
      JSON.stringify(draft.details),
      createdAt,
    )
    .first<AlertRow>();
  return row ? alertFromRow(row) : null;
}

export async function alertById(db: D1Database, id: number): Promise<StoredAlert | null> {
  const row = await db.prepare(`SELECT ${ALERT_COLUMNS} FROM alerts WHERE id = ?1`).bind(id).first<AlertRow>();
  return row ? alertFromRow(row) : null;
}

export async function recordDeliveries(db: D1Database, records: readonly DeliveryRecord[]): Promise<void> {
  if (records.length === 0) return;
  const insert = db.prepare(
    "INSERT INTO alert_deliveries (alert_id, destination, kind, host, attempt, status, http_status, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
  );
  await db.batch(
    records.map((r) =>
      insert.bind(
        r.alertId,
        r.destination,
        r.kind,
        r.host,
        r.attempt,
        r.status,
        r.httpStatus,
        r.reason.slice(0, 1000),
        r.at,
      ),
    ),
  );
}

export interface AlertWithDeliveries extends StoredAlert {
  deliveries: DeliveryState[];
}

export interface AlertPage {
  /** Newest first. */
  alerts: AlertWithDeliveries[];
  /** Pass as `before` for the next (older) page; null on the last page. */
  nextBefore: number | null;
}

/** Up to `limit` alerts of the issuer with id < `before` (all when absent), newest first, each with its delivery state per destination. */
export async function alertPage(
  db: D1Database,
  issuerId: string,
  options: { before?: number; limit: number },
): Promise<AlertPage> {
  const { before, limit } = options;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`limit ${limit} must be a positive integer`);
  const { results } = await db
    .prepare(
      `SELECT ${ALERT_COLUMNS} FROM alerts WHERE issuer_id = ?1 AND (?2 IS NULL OR id < ?2) ORDER BY id DESC LIMIT ?3`,
    )
    .bind(issuerId, before ?? null, limit + 1)
    .all<AlertRow>();
  const rows = results.slice(0, limit);
  const nextBefore = results.length > limit ? (rows.at(-1)?.id ?? null) : null;
  if (rows.length === 0) return { alerts: [], nextBefore };
  const newest = rows[0]!.id;
  const oldest = rows.at(-1)!.id;
  const { results: deliveryRows } = await db
    .prepare(
      `SELECT d.alert_id, d.destination, d.kind, d.host, d.attempt, d.status, d.http_status, d.reason, d.at
       FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id
       WHERE a.issuer_id = ?1 AND d.alert_id BETWEEN ?2 AND ?3
       ORDER BY d.id`,
    )
    .bind(issuerId, oldest, newest)
    .all<DeliveryRow>();
  const states = new Map<number, Map<number, DeliveryState>>();
  for (const d of deliveryRows) {
    let byDestination = states.get(d.alert_id);
    if (!byDestination) {
      byDestination = new Map();
      states.set(d.alert_id, byDestination);
    }
    const attempts = Math.max(byDestination.get(d.destination)?.attempts ?? 0, d.attempt);
    byDestination.set(d.destination, {
      destination: d.destination,
      kind: d.kind,
      host: d.host,
      status: d.status,
      attempts,
      httpStatus: d.http_status,
      reason: d.reason,
      at: d.at,
    });
  }
  return {
    alerts: rows.map((row) => ({
      ...alertFromRow(row),
      deliveries: [...(states.get(row.id)?.values() ?? [])].sort((a, b) => a.destination - b.destination),
    })),
    nextBefore,
  };
}
