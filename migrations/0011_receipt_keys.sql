-- SPEC §7 receipts keys (role "receipts", SPEC §12), recorded as the
-- configuration names them so that the keys document never loses one: a key
-- taken out of the configuration stays published, closed at the time the
-- publisher first ran without it, and receipts it signed inside its window
-- stay verifiable (worker/disputes/receiptKeys.ts). Rows are never deleted;
-- the only change a row may take is closing an open window once.

CREATE TABLE receipt_keys (
  issuer_id   TEXT    NOT NULL,
  address     TEXT    NOT NULL,
  valid_from  INTEGER NOT NULL CHECK (valid_from >= 0),
  valid_until INTEGER CHECK (valid_until IS NULL OR valid_until >= valid_from),
  position    INTEGER NOT NULL,
  PRIMARY KEY (issuer_id, address)
);

CREATE TRIGGER receipt_keys_close_once
BEFORE UPDATE ON receipt_keys
WHEN OLD.valid_until IS NOT NULL
  OR NEW.issuer_id IS NOT OLD.issuer_id
  OR NEW.address IS NOT OLD.address
  OR NEW.valid_from IS NOT OLD.valid_from
  OR NEW.position IS NOT OLD.position
BEGIN
  SELECT RAISE(ABORT, 'a receipts key only ever has its open window closed');
END;

CREATE TRIGGER receipt_keys_no_delete
BEFORE DELETE ON receipt_keys
BEGIN
  SELECT RAISE(ABORT, 'receipts keys are never deleted (SPEC §7)');
END;
