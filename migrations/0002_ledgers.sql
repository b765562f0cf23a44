-- User ledgers (SPEC §2 liabilities) uploaded by an issuer's admin.
--
-- A ledger moves validating -> building -> complete, or to failed from any
-- state before complete. Only a complete ledger is ever used by the publisher
-- or served as proofs. Once complete it is immutable, and no ledger row is
-- ever deleted (an attestation may name it by ledger_id forever).
--
-- rows is the number of users; assets_json the ordered asset list; root and
-- root_sums_json (decimal strings) are set when complete; error_json holds
-- { errors: [{ row, reason }], errorCount } or { reason } when failed.
-- build_id names the build attempt whose R2 objects the complete ledger uses
-- (see worker/ledger/ledgerStore.ts); progress_json is for the status route.
-- Times are unix seconds.

CREATE TABLE ledgers (
  ledger_id      TEXT    NOT NULL PRIMARY KEY,
  issuer_id      TEXT    NOT NULL,
  status         TEXT    NOT NULL CHECK (status IN ('validating', 'building', 'complete', 'failed')),
  format         TEXT    NOT NULL CHECK (format IN ('csv', 'ndjson')),
  rows           INTEGER NOT NULL DEFAULT 0,
  assets_json    TEXT    NOT NULL,
  root           TEXT    NULL,
  root_sums_json TEXT    NULL,
  error_json     TEXT    NULL,
  build_id       TEXT    NULL,
  progress_json  TEXT    NULL,
  created_at     INTEGER NOT NULL,
  completed_at   INTEGER NULL,
  CHECK (status <> 'complete' OR (root IS NOT NULL AND root_sums_json IS NOT NULL AND build_id IS NOT NULL AND completed_at IS NOT NULL))
);

CREATE INDEX ledgers_issuer_status_completed ON ledgers (issuer_id, status, completed_at);

-- Matched by worker/ledger/ledgerStore.ts.
CREATE TRIGGER ledgers_complete_immutable
BEFORE UPDATE ON ledgers
WHEN OLD.status = 'complete'
BEGIN
  SELECT RAISE(ABORT, 'LEDGER_IMMUTABLE: a complete ledger cannot change');
END;

-- failed is final too: a late build attempt cannot revive a ledger.
CREATE TRIGGER ledgers_failed_final
BEFORE UPDATE ON ledgers
WHEN OLD.status = 'failed'
BEGIN
  SELECT RAISE(ABORT, 'LEDGER_FINAL: a failed ledger cannot change');
END;

CREATE TRIGGER ledgers_no_delete
BEFORE DELETE ON ledgers
BEGIN
  SELECT RAISE(ABORT, 'LEDGER_IMMUTABLE: ledgers are never deleted');
END;

-- INSERT OR REPLACE deletes without firing DELETE triggers: refuse a colliding insert.
CREATE TRIGGER ledgers_insert_once
BEFORE INSERT ON ledgers
WHEN EXISTS (SELECT 1 FROM ledgers WHERE ledger_id = NEW.ledger_id)
BEGIN
  SELECT RAISE(ABORT, 'LEDGER_IMMUTABLE: ledger ids are never reused');
END;
