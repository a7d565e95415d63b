-- Records of synced feeds, as unified entities (JSON), and the history of syncs.
-- Written in the SQL that SQLite and PostgreSQL share.

CREATE TABLE feed_records (
    partner    TEXT   NOT NULL,
    entity     TEXT   NOT NULL,
    partner_id TEXT   NOT NULL,
    payload    TEXT   NOT NULL,
    sync_id    BIGINT NOT NULL,
    PRIMARY KEY (partner, entity, partner_id)
);

CREATE TABLE sync_runs (
    id          BIGINT NOT NULL PRIMARY KEY,
    partner     TEXT   NOT NULL,
    entity      TEXT   NOT NULL,
    started_at  TEXT   NOT NULL,
    duration_ms BIGINT NOT NULL,
    outcome     TEXT   NOT NULL,
    records     BIGINT NOT NULL,
    rejected    BIGINT NOT NULL,
    rejects     TEXT   NOT NULL,
    error       TEXT,
    etag        TEXT
);

CREATE INDEX sync_runs_by_feed ON sync_runs (partner, entity, id);
