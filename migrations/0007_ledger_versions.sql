-- Ledger versions (SPEC §4 liabilities.ledger): every ledger says when its
-- balances were true (as_of), the current ledger of an issuer is its complete
-- one with the newest as_of, and a build that completes for an as_of no newer
-- than a complete ledger of its issuer ends `superseded` instead: it keeps its
-- root (for the public history) but is never attested. superseded is final,
-- like complete and failed.
--
-- as_of: unix seconds, declared at upload (default: the upload's creation
-- time). Rows from before this migration take their created_at, which is what
-- the default would have been.
-- leaf_order: 'commitment' when the leaves are in ascending commitment order
-- (SPEC §2), NULL for ledgers built before (random order); set on completion.
--
-- SQLite cannot alter a CHECK, so the table is rebuilt with the same rows:
-- no table references ledgers by foreign key (attestations name ledger_id
-- without one), and DROP TABLE fires no triggers, so the copy, drop and
-- rename below lose nothing. Indexes and triggers are made again after.

CREATE TABLE ledgers_v2 (
  ledger_id      TEXT    NOT NULL PRIMARY KEY,
  issuer_id      TEXT    NOT NULL,
  status         TEXT    NOT NULL CHECK (status IN ('validating', 'building', 'complete', 'failed', 'superseded')),
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
  updated_at     INTEGER NULL,
  as_of          INTEGER NOT NULL,
  leaf_order     TEXT    NULL CHECK (leaf_order IS NULL OR leaf_order = 'commitment'),
  CHECK (status NOT IN ('complete', 'superseded') OR (root IS NOT NULL AND root_sums_json IS NOT NULL AND build_id IS NOT NULL AND completed_at IS NOT NULL))
);

INSERT INTO ledgers_v2 (ledger_id, issuer_id, status, format, rows, assets_json, root, root_sums_json, error_json, build_id, progress_json, created_at, completed_at, updated_at, as_of, leaf_order)
  SELECT ledger_id, issuer_id, status, format, rows, assets_json, root, root_sums_json, error_json, build_id, progress_json, created_at, completed_at, updated_at, created_at, NULL
  FROM ledgers ORDER BY rowid;

DROP TABLE ledgers;
ALTER TABLE ledgers_v2 RENAME TO ledgers;

CREATE INDEX ledgers_issuer_status_completed ON ledgers (issuer_id, status, completed_at);
CREATE INDEX ledgers_unfinished ON ledgers (status, updated_at) WHERE status IN ('validating', 'building');
-- The current ledger and the upload check: newest as_of first per issuer and status.
CREATE INDEX ledgers_issuer_as_of ON ledgers (issuer_id, status, as_of);

-- The public ledger history's attested sequence range per ledger.
CREATE INDEX attestations_by_ledger ON attestations (issuer_id, ledger_id, sequence) WHERE ledger_id IS NOT NULL;

-- Matched by worker/ledger/ledgerStore.ts.
CREATE TRIGGER ledgers_complete_immutable
BEFORE UPDATE ON ledgers
WHEN OLD.status = 'complete'
BEGIN
  SELECT RAISE(ABORT, 'LEDGER_IMMUTABLE: a complete ledger cannot change');
END;

-- failed and superseded are final too: a late build attempt cannot revive a ledger.
CREATE TRIGGER ledgers_failed_final
BEFORE UPDATE ON ledgers
WHEN OLD.status = 'failed'
BEGIN
  SELECT RAISE(ABORT, 'LEDGER_FINAL: a failed ledger cannot change');
END;

CREATE TRIGGER ledgers_superseded_final
BEFORE UPDATE ON ledgers
WHEN OLD.status = 'superseded'
BEGIN
  SELECT RAISE(ABORT, 'LEDGER_FINAL: a superseded ledger cannot change');
END;

-- as_of is fixed at upload.
CREATE TRIGGER ledgers_as_of_fixed
BEFORE UPDATE OF as_of ON ledgers
WHEN NEW.as_of IS NOT OLD.as_of
BEGIN
  SELECT RAISE(ABORT, 'LEDGER_IMMUTABLE: a ledger''s asOf cannot change');
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
