-- Every alert raised for an issuer (flag raised or cleared, ratio crossing a
-- threshold, stale publisher, failed signing), appended once: the same event
-- (issuer, dedupe_key) is never stored twice, which is how a stale episode or
-- a run of failed signings alerts once. Listed at GET /v1/issuers/{issuer}/alerts.
CREATE TABLE alerts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  issuer_id TEXT NOT NULL,
  event TEXT NOT NULL CHECK (event IN ('flag_raised', 'flag_cleared', 'ratio_crossed', 'publisher_stale', 'signing_failed')),
  severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
  dedupe_key TEXT NOT NULL,
  -- the attestation the event is about (the new one; the latest for stale and signing), if any
  sequence INTEGER,
  title TEXT NOT NULL,
  text TEXT NOT NULL,
  -- event-specific fields (flag, reason, thresholdBps, …) as JSON
  details_json TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (issuer_id, dedupe_key)
);

CREATE INDEX alerts_by_issuer ON alerts (issuer_id, id DESC);

-- Every step of delivering one alert to one destination, appended as it
-- happens; the latest row per (alert_id, destination) is its status.
-- destination is the index in the issuer's alerts.destinations when queued;
-- kind and host say which it was (never the full URL: it may hold a token).
CREATE TABLE alert_deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  alert_id INTEGER NOT NULL REFERENCES alerts (id),
  destination INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('webhook', 'slack', 'discord')),
  host TEXT NOT NULL,
  -- 0 when queued, then the queue's delivery attempt (1, 2, …)
  attempt INTEGER NOT NULL,
  -- queued: message sent to the queue; delivered: 2xx; retrying: failed, will be retried; failed: given up (dead-lettered or never queued)
  status TEXT NOT NULL CHECK (status IN ('queued', 'delivered', 'retrying', 'failed')),
  http_status INTEGER,
  reason TEXT NOT NULL,
  at INTEGER NOT NULL
);

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
