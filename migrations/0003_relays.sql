-- Every attempt to put an attestation on-chain, appended as it happens.
-- The relayer's status (GET /v1/issuers/{issuer}/relayer) is the latest rows.
CREATE TABLE relay_attempts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  issuer_id TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  chain_id INTEGER NOT NULL,
  oracle TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  -- submitted: tx sent and mined; skipped: nothing to do (no change, superseded, expired); failed: will be retried or gave up
  status TEXT NOT NULL CHECK (status IN ('submitted', 'skipped', 'failed')),
  tx_hash TEXT,
  gas_used TEXT,
  reason TEXT NOT NULL,
  at INTEGER NOT NULL
);

CREATE INDEX relay_attempts_by_issuer ON relay_attempts (issuer_id, id DESC);

CREATE TRIGGER relay_attempts_no_update BEFORE UPDATE ON relay_attempts
BEGIN
  SELECT RAISE(ABORT, 'relay_attempts is append-only');
END;

CREATE TRIGGER relay_attempts_no_delete BEFORE DELETE ON relay_attempts
BEGIN
  SELECT RAISE(ABORT, 'relay_attempts is append-only');
END;
