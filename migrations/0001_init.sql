-- Solvent storage, version 1.
--
-- Published facts are append-only and the database itself enforces it: the
-- triggers below refuse UPDATE and DELETE, and BEFORE INSERT triggers refuse a
-- row that would collide with an existing one, so that even
-- `INSERT OR REPLACE` (whose implicit delete does not fire DELETE triggers
-- unless recursive_triggers is on) cannot overwrite history.
--
-- Integers that can exceed 2^53 (usd18 values, flags) are decimal TEXT.
-- sequence / observed_at / valid_until are uint64 in SPEC §5 but are stored
-- as INTEGER: the store refuses values above 2^53 - 1, which no real sequence
-- or unix time reaches. attestation_json is the full §10 form and the source
-- of truth; the other columns exist for queries.

CREATE TABLE attestations (
  issuer_id        TEXT    NOT NULL,
  sequence         INTEGER NOT NULL CHECK (sequence >= 1),
  digest           TEXT    NOT NULL,
  previous         TEXT    NOT NULL,
  signer           TEXT    NOT NULL,
  signature        TEXT    NOT NULL,
  attestation_json TEXT    NOT NULL,
  observed_at      INTEGER NOT NULL,
  valid_until      INTEGER NOT NULL,
  ratio_bps        INTEGER NOT NULL,
  flags            TEXT    NOT NULL,
  reserves_usd     TEXT    NOT NULL,
  liabilities_usd  TEXT    NOT NULL,
  report_key       TEXT    NOT NULL,
  report_hash      TEXT    NOT NULL,
  ledger_id        TEXT    NULL,
  published_at     INTEGER NOT NULL,
  PRIMARY KEY (issuer_id, sequence),
  UNIQUE (digest)
);

-- SEQUENCE_TAKEN / CHAIN_BROKEN are matched by worker/storage/attestationStore.ts.
CREATE TRIGGER attestations_insert_once
BEFORE INSERT ON attestations
WHEN EXISTS (SELECT 1 FROM attestations WHERE issuer_id = NEW.issuer_id AND sequence = NEW.sequence)
  OR EXISTS (SELECT 1 FROM attestations WHERE digest = NEW.digest)
BEGIN
  SELECT RAISE(ABORT, 'SEQUENCE_TAKEN: attestations are append-only');
END;

-- SPEC §5: sequence 1 has a zero previous; every later one commits to the
-- digest of sequence - 1, which must already be stored (no gaps, no forks).
-- `IS`, not `=`: a missing predecessor yields NULL, and NOT (x = NULL) would
-- be NULL, which a WHEN treats as false.
CREATE TRIGGER attestations_insert_chained
BEFORE INSERT ON attestations
WHEN NOT (
  (NEW.sequence = 1 AND NEW.previous = '0x0000000000000000000000000000000000000000000000000000000000000000')
  OR (NEW.sequence > 1 AND NEW.previous IS (
        SELECT digest FROM attestations WHERE issuer_id = NEW.issuer_id AND sequence = NEW.sequence - 1))
)
BEGIN
  SELECT RAISE(ABORT, 'CHAIN_BROKEN: previous is not the digest of the stored sequence - 1');
END;

CREATE TRIGGER attestations_no_update
BEFORE UPDATE ON attestations
BEGIN
  SELECT RAISE(ABORT, 'attestations are append-only');
END;

CREATE TRIGGER attestations_no_delete
BEFORE DELETE ON attestations
BEGIN
  SELECT RAISE(ABORT, 'attestations are append-only');
END;

-- SPEC §9 statements as accepted. nonce is a uint64; SQLite INTEGER is signed
-- 64-bit, so it is stored as TEXT zero-padded to 20 digits (2^64 - 1 has 20),
-- which makes text order equal numeric order for MAX() and comparisons and
-- keeps the whole uint64 range. as_of is INTEGER: a statement whose asOf is
-- beyond now + skew is refused before it is stored.
CREATE TABLE custodian_statements (
  issuer_id      TEXT    NOT NULL,
  custodian      TEXT    NOT NULL,
  account        TEXT    NOT NULL,
  asset          TEXT    NOT NULL,
  nonce          TEXT    NOT NULL CHECK (length(nonce) = 20 AND nonce NOT GLOB '*[^0-9]*'),
  amount         TEXT    NOT NULL,
  as_of          INTEGER NOT NULL,
  signer         TEXT    NOT NULL,
  signature      TEXT    NOT NULL,
  digest         TEXT    NOT NULL,
  statement_json TEXT    NOT NULL,
  received_at    INTEGER NOT NULL,
  PRIMARY KEY (issuer_id, custodian, account, asset, nonce)
);

-- Nonces only move forward per (issuer, custodian, account, asset): checked
-- inside the INSERT itself, so two concurrent requests cannot both pass.
-- NONCE_NOT_NEWER is matched by worker/storage/statementStore.ts.
CREATE TRIGGER custodian_statements_nonce_newer
BEFORE INSERT ON custodian_statements
WHEN EXISTS (
  SELECT 1 FROM custodian_statements
  WHERE issuer_id = NEW.issuer_id AND custodian = NEW.custodian AND account = NEW.account
    AND asset = NEW.asset AND nonce >= NEW.nonce
)
BEGIN
  SELECT RAISE(ABORT, 'NONCE_NOT_NEWER: custodian statements are append-only and nonces only grow');
END;

CREATE TRIGGER custodian_statements_no_update
BEFORE UPDATE ON custodian_statements
BEGIN
  SELECT RAISE(ABORT, 'custodian statements are append-only');
END;

CREATE TRIGGER custodian_statements_no_delete
BEFORE DELETE ON custodian_statements
BEGIN
  SELECT RAISE(ABORT, 'custodian statements are append-only');
END;

-- SPEC §7 keys document, in `position` order. A key is closed once and never
-- deleted; at most one key is open. A retired address cannot come back (the
-- primary key), which also stops an isolate still holding an old secret from
-- reopening its key.
CREATE TABLE signing_keys (
  address     TEXT    NOT NULL PRIMARY KEY CHECK (address GLOB '0x[0-9a-f]*' AND length(address) = 42),
  valid_from  INTEGER NOT NULL,
  valid_until INTEGER NULL CHECK (valid_until IS NULL OR valid_until > valid_from),
  position    INTEGER NOT NULL UNIQUE
);

CREATE UNIQUE INDEX signing_keys_one_open ON signing_keys ((valid_until IS NULL)) WHERE valid_until IS NULL;

CREATE TRIGGER signing_keys_insert_once
BEFORE INSERT ON signing_keys
WHEN EXISTS (SELECT 1 FROM signing_keys WHERE address = NEW.address)
BEGIN
  SELECT RAISE(ABORT, 'signing keys are never replaced');
END;

CREATE TRIGGER signing_keys_close_once
BEFORE UPDATE ON signing_keys
WHEN NOT (
  OLD.valid_until IS NULL AND NEW.valid_until IS NOT NULL
  AND NEW.address = OLD.address AND NEW.valid_from = OLD.valid_from AND NEW.position = OLD.position
)
BEGIN
  SELECT RAISE(ABORT, 'signing keys only ever get validUntil set, once');
END;

CREATE TRIGGER signing_keys_no_delete
BEFORE DELETE ON signing_keys
BEGIN
  SELECT RAISE(ABORT, 'signing keys are never deleted');
END;
