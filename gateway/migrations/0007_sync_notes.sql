-- What a sync did to records it kept, that is not a rejection: an
-- identifier derived for a record without one, a calendar of one site
-- served as last read (a JSON array of sentences).

ALTER TABLE sync_runs ADD COLUMN notes TEXT NOT NULL DEFAULT '[]';
