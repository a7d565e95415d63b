-- The taxe d'apprentissage campaign: allocations pushed by OPCOs, the
-- batches they came in (for idempotent retries), and aggregates kept up to
-- date as allocations arrive so that campaign figures never scan them.
-- Written in the SQL that SQLite and PostgreSQL share.

-- One allocation, stored once per OPCO and reference.
CREATE TABLE allocations (
    opco                 TEXT   NOT NULL,
    reference            TEXT   NOT NULL,
    campaign             BIGINT NOT NULL,
    employer_siret       TEXT   NOT NULL,
    employer_commune     TEXT   NOT NULL,
    establishment_uai    TEXT   NOT NULL,
    amount_cents         BIGINT NOT NULL,
    allocated_at         TEXT   NOT NULL,
    batch_key            TEXT   NOT NULL,
    PRIMARY KEY (opco, reference)
);

-- A CFA reads its own allocations. On the UAI alone: new entries then
-- land at the end of their establishment's range (the table's row order),
-- a few hot pages, where a key with the date in it lands anywhere and makes
-- a large upload's inserts miss the page cache; a CFA's page is sorted
-- from its own allocations.
CREATE INDEX allocations_by_establishment
    ON allocations (establishment_uai);

-- One pushed batch: its idempotency key, a fingerprint of its content and
-- the report it was answered with.
CREATE TABLE allocation_batches (
    opco            TEXT   NOT NULL,
    idempotency_key TEXT   NOT NULL,
    campaign        BIGINT NOT NULL,
    fingerprint     TEXT,
    report          TEXT,
    received_at     TEXT   NOT NULL,
    PRIMARY KEY (opco, idempotency_key)
);

-- The employers of a campaign, counted once each.
CREATE TABLE campaign_employers (
    campaign    BIGINT NOT NULL,
    siret       TEXT   NOT NULL,
    departement TEXT   NOT NULL,
    PRIMARY KEY (campaign, siret)
);

-- Which employers gave to which establishment, counted once each.
CREATE TABLE campaign_establishment_employers (
    campaign BIGINT NOT NULL,
    uai      TEXT   NOT NULL,
    siret    TEXT   NOT NULL,
    PRIMARY KEY (campaign, uai, siret)
);

-- Sums by dimension: `total`, `flow` (employer in Normandy or not, then
-- establishment: NN, NO, ON, OO), `opco`, `employer_departement`, `week`,
-- `establishment`.
CREATE TABLE campaign_figures (
    campaign     BIGINT NOT NULL,
    dimension    TEXT   NOT NULL,
    key          TEXT   NOT NULL,
    amount_cents BIGINT NOT NULL,
    allocations  BIGINT NOT NULL,
    employers    BIGINT NOT NULL,
    PRIMARY KEY (campaign, dimension, key)
);

CREATE INDEX campaign_figures_by_amount
    ON campaign_figures (campaign, dimension, amount_cents);
