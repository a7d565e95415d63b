-- One row the store's watch writes every few seconds, to know that a write
-- commits (a full disk, a read-only directory or replica, a lock held).

CREATE TABLE store_probe (
    id INTEGER PRIMARY KEY,
    at BIGINT NOT NULL
);
INSERT INTO store_probe (id, at) VALUES (1, 0);
