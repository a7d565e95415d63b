-- Offers pushed to candidates: the offers already announced, the batches
-- of new offers (which replicas that did not detect them read), the saved
-- alerts and the outbox of their webhook deliveries. Written in the SQL
-- that SQLite and PostgreSQL share.

-- A partner record already announced, as `partner:identifier`: an offer
-- is new when none of its records is here. `batch` is the batch that
-- announced it, so that a replica reads only what it has not seen.
CREATE TABLE offers_seen (
    source  TEXT   NOT NULL PRIMARY KEY,
    batch   BIGINT NOT NULL
);

CREATE INDEX offers_seen_by_batch ON offers_seen (batch);

-- One detection's new offers: whole, as JSON (for the other replicas'
-- subscribers), and as webhooks show them (`rendered`, a JSON array the
-- deliveries point into). `id` increases (microseconds).
CREATE TABLE offer_batches (
    id           BIGINT NOT NULL PRIMARY KEY,
    detected_at  TEXT   NOT NULL,
    replica      TEXT   NOT NULL,
    offers       TEXT   NOT NULL,
    rendered     TEXT   NOT NULL
);

-- A candidate's saved alert, owned by the partner frontend that made it.
CREATE TABLE offer_alerts (
    id             TEXT   NOT NULL PRIMARY KEY,
    client_id      TEXT   NOT NULL,
    candidate_ref  TEXT   NOT NULL,
    filter         TEXT   NOT NULL,
    webhook_url    TEXT   NOT NULL,
    secret         TEXT   NOT NULL,
    digest         TEXT   NOT NULL,
    active         BIGINT NOT NULL,
    disabled_why   TEXT,
    created_us     BIGINT NOT NULL
);

CREATE INDEX offer_alerts_by_client ON offer_alerts (client_id, created_us);

-- Bumped whenever an alert is created, deleted or disabled: a replica
-- rebuilds its index of alerts when the number moves.
CREATE TABLE offer_alerts_generation (
    one  BIGINT NOT NULL PRIMARY KEY,
    n    BIGINT NOT NULL
);

INSERT INTO offer_alerts_generation (one, n) VALUES (1, 0);

-- The outbox: one webhook delivery, what it carries fixed when written: the
-- offers it holds (`refs`, a JSON array of [batch, position in the batch's
-- `rendered`]), whose batches never change, so that a retry sends the same
-- bytes under the same `webhook-id`; a daily digest gathers refs until its
-- first attempt. `state` is
-- `pending`, `delivered`, `dead` or `cancelled`; `due_us` is when it may be
-- tried next, `first_due_us` when it first was (retries stop `retry_for`
-- after it), `claimed_us` until when a replica holds it.
CREATE TABLE webhook_deliveries (
    id            TEXT   NOT NULL PRIMARY KEY,
    alert_id      TEXT   NOT NULL,
    refs          TEXT   NOT NULL,
    offers        BIGINT NOT NULL,
    state         TEXT   NOT NULL,
    attempts      BIGINT NOT NULL,
    created_us    BIGINT NOT NULL,
    due_us        BIGINT NOT NULL,
    first_due_us  BIGINT NOT NULL,
    claimed_us    BIGINT NOT NULL,
    claimed_by    TEXT,
    last_status   BIGINT,
    last_error    TEXT,
    delivered_us  BIGINT,
    delivered_by  TEXT
);

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, due_us);
CREATE INDEX webhook_deliveries_by_alert ON webhook_deliveries (alert_id, created_us);
