-- SPEC §12 dispute log: every valid dispute bundle as it was filed, one per
-- receipt (its EIP-712 digest), append-only like every published fact. The
-- triggers refuse UPDATE and DELETE, and a second filing of the same receipt
-- is answered from the stored row (worker/disputes/disputeStore.ts uses
-- INSERT OR IGNORE on the primary key, and the insert trigger makes even
-- INSERT OR REPLACE unable to overwrite a row).
--
-- as_of is the asOf of the disputed ledger (the receipt's): DISPUTED (SPEC §6
-- bit 11) stands on the issuer's attestations while a dispute's as_of is at or
-- after the attested ledger's asOf. bundle_json holds the exact bundle text
-- received, so anyone can re-check it offline with `solvent dispute verify`.

CREATE TABLE disputes (
  issuer_id          TEXT    NOT NULL,
  receipt_digest     TEXT    NOT NULL,
  commitment         TEXT    NOT NULL,
  as_of              INTEGER NOT NULL CHECK (as_of >= 0),
  kind               TEXT    NOT NULL CHECK (kind IN ('absent', 'balance-differs')),
  sequence           INTEGER NOT NULL CHECK (sequence >= 1),
  attestation_digest TEXT    NOT NULL,
  ledger_id          TEXT    NOT NULL,
  summary_json       TEXT    NOT NULL,
  bundle_json        TEXT    NOT NULL,
  filed_at           INTEGER NOT NULL,
  PRIMARY KEY (issuer_id, receipt_digest)
);

CREATE INDEX disputes_by_as_of ON disputes (issuer_id, as_of);
CREATE INDEX disputes_by_filing ON disputes (issuer_id, filed_at, receipt_digest);

CREATE TRIGGER disputes_insert_once
BEFORE INSERT ON disputes
WHEN EXISTS (SELECT 1 FROM disputes WHERE issuer_id = NEW.issuer_id AND receipt_digest = NEW.receipt_digest)
BEGIN
  SELECT RAISE(IGNORE);
END;

CREATE TRIGGER disputes_no_update
BEFORE UPDATE ON disputes
BEGIN
  SELECT RAISE(ABORT, 'disputes are append-only');
END;

CREATE TRIGGER disputes_no_delete
BEFORE DELETE ON disputes
BEGIN
  SELECT RAISE(ABORT, 'disputes are append-only');
END;
