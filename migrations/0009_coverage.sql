-- Verification coverage (issue #17): which user commitments of a ledger had
-- their inclusion proof served, so the publisher can say how many distinct
-- users looked themselves up in it. Nothing about who asked is kept: no
-- address, no header, no time. Only commitments found in the ledger are
-- written (worker/coverage/countProofs.ts records 200 answers), so a row per
-- leaf at most.
--
-- A commitment is written once (INSERT OR IGNORE on the key: a repeated fetch
-- writes nothing); the trigger keeps the per-ledger total in coverage_counts,
-- so the public figure is read as one row, not counted over every check.
-- Published counts only grow: rows are never deleted and a total never falls.

CREATE TABLE coverage_checks (
  ledger_id  TEXT NOT NULL,
  commitment TEXT NOT NULL CHECK (length(commitment) = 66 AND commitment GLOB '0x*' AND substr(commitment, 3) NOT GLOB '*[^0-9a-f]*'),
  PRIMARY KEY (ledger_id, commitment)
) WITHOUT ROWID;

CREATE TABLE coverage_counts (
  ledger_id TEXT    NOT NULL PRIMARY KEY,
  checked   INTEGER NOT NULL CHECK (checked >= 0)
) WITHOUT ROWID;

CREATE TRIGGER coverage_checks_counted
AFTER INSERT ON coverage_checks
BEGIN
  INSERT OR IGNORE INTO coverage_counts (ledger_id, checked) VALUES (NEW.ledger_id, 0);
  UPDATE coverage_counts SET checked = checked + 1 WHERE ledger_id = NEW.ledger_id;
END;

CREATE TRIGGER coverage_checks_no_update
BEFORE UPDATE ON coverage_checks
BEGIN
  SELECT RAISE(ABORT, 'coverage checks are append-only');
END;

CREATE TRIGGER coverage_checks_no_delete
BEFORE DELETE ON coverage_checks
BEGIN
  SELECT RAISE(ABORT, 'coverage checks are append-only');
END;

CREATE TRIGGER coverage_counts_only_grow
BEFORE UPDATE ON coverage_counts
WHEN NEW.checked < OLD.checked OR NEW.ledger_id IS NOT OLD.ledger_id
BEGIN
  SELECT RAISE(ABORT, 'coverage counts only grow');
END;

CREATE TRIGGER coverage_counts_no_delete
BEFORE DELETE ON coverage_counts
BEGIN
  SELECT RAISE(ABORT, 'coverage counts only grow');
END;
