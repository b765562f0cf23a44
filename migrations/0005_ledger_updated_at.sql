-- When a ledger last moved: set by every upload, claim and build step
-- (worker/ledger/ledgerStore.ts). The cron's sweep (worker/ledger/sweepLedgers.ts)
-- resumes a build that has not moved for a while and fails a ledger that is
-- still unfinished a day after its creation. NULL on rows from before this
-- column: the sweep then goes by created_at.
ALTER TABLE ledgers ADD COLUMN updated_at INTEGER NULL;

CREATE INDEX ledgers_unfinished ON ledgers (status, updated_at) WHERE status IN ('validating', 'building');
