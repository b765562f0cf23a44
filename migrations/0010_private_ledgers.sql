-- Private ledgers (SPEC §11, scheme pedersen-ristretto255-v2; issue #16).
--
-- scheme:       NULL for the SPEC §2 sum tree (sum-sha256-v1, every ledger
--               before this migration), 'pedersen-ristretto255-v2' for a
--               private one. Fixed when the ledger is admitted.
-- leaf_count:   a private ledger's padded leaf count (2^depth), set when it
--               starts building; the only count its public history, coverage
--               and report give. `rows` keeps the real user count for the
--               operator's status. NULL for plain ledgers (their leaves = rows).
-- private_json: a private ledger's build parameters, fixed at admission
--               ({ "params": { decimals, minDepth, unitDecimals } }), and once
--               complete its root facts under "result" (unitDecimals,
--               rootCommitments, totals in quantised units, totalBlindings,
--               depth, leafCount, secretId). root_sums_json holds the totals in
--               base units (totals × 10^(decimals − unitDecimals)), so
--               valuation reads every ledger alike.

ALTER TABLE ledgers ADD COLUMN scheme TEXT NULL CHECK (scheme IS NULL OR scheme = 'pedersen-ristretto255-v2');
ALTER TABLE ledgers ADD COLUMN leaf_count INTEGER NULL CHECK (leaf_count IS NULL OR leaf_count >= 1);
ALTER TABLE ledgers ADD COLUMN private_json TEXT NULL CHECK (private_json IS NULL OR json_valid(private_json));
