-- Replicas sharing a store: which one ran each sync, and the code of a
-- failure, so that a replica following another's sync reports it alike.

ALTER TABLE sync_runs ADD COLUMN error_code TEXT;
ALTER TABLE sync_runs ADD COLUMN replica TEXT;
