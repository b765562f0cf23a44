-- Widens the alert events that may be stored: ledger lifecycle (switched,
-- superseded, failed, stale), an on-chain copy that expired while a fresher
-- attestation was published, a configuration that cannot be used, a filed
-- dispute, and a stale publisher that recovered. SQLite cannot alter a CHECK,
-- so both alert tables are rebuilt with the same rows and ids: copies first,
-- then the child table is dropped before its parent (DROP TABLE fires no
-- triggers, and no foreign key is ever left dangling), then the copies take
-- the old names (the rename rewrites the child's reference).

CREATE TABLE alerts_v2 (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  issuer_id TEXT NOT NULL,
  event TEXT NOT NULL CHECK (event IN (
    'flag_raised', 'flag_cleared', 'ratio_crossed', 'publisher_stale', 'signing_failed',
    'publisher_recovered',
    'ledger_switched', 'ledger_superseded', 'ledger_failed', 'ledger_stale',
    'onchain_copy_expired',
    'config_invalid',
    'dispute_filed'
  )),
  severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
  dedupe_key TEXT NOT NULL,
  sequence INTEGER,
  title TEXT NOT NULL,
  text TEXT NOT NULL,
  details_json TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (issuer_id, dedupe_key)
);

CREATE TABLE alert_deliveries_v2 (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  alert_id INTEGER NOT NULL REFERENCES alerts_v2 (id),
  destination INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('webhook', 'slack', 'discord')),
  host TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'delivered', 'retrying', 'failed')),
  http_status INTEGER,
  reason TEXT NOT NULL,
  at INTEGER NOT NULL
);

INSERT INTO alerts_v2 (id, issuer_id, event, severity, dedupe_key, sequence, title, text, details_json, created_at)
  SELECT id, issuer_id, event, severity, dedupe_key, sequence, title, text, details_json, created_at FROM alerts;
INSERT INTO alert_deliveries_v2 (id, alert_id, destination, kind, host, attempt, status, http_status, reason, at)
  SELECT id, alert_id, destination, kind, host, attempt, status, http_status, reason, at FROM alert_deliveries;

DROP TABLE alert_deliveries;
DROP TABLE alerts;
ALTER TABLE alerts_v2 RENAME TO alerts;
ALTER TABLE alert_deliveries_v2 RENAME TO alert_deliveries;

CREATE INDEX alerts_by_issuer ON alerts (issuer_id, id DESC);
CREATE INDEX alert_deliveries_by_alert ON alert_deliveries (alert_id, destination, id DESC);

CREATE TRIGGER alerts_no_update BEFORE UPDATE ON alerts
BEGIN
  SELECT RAISE(ABORT, 'alerts is append-only');
END;

CREATE TRIGGER alerts_no_delete BEFORE DELETE ON alerts
BEGIN
  SELECT RAISE(ABORT, 'alerts is append-only');
END;

CREATE TRIGGER alert_deliveries_no_update BEFORE UPDATE ON alert_deliveries
BEGIN
  SELECT RAISE(ABORT, 'alert_deliveries is append-only');
END;

CREATE TRIGGER alert_deliveries_no_delete BEFORE DELETE ON alert_deliveries
BEGIN
  SELECT RAISE(ABORT, 'alert_deliveries is append-only');
END;
