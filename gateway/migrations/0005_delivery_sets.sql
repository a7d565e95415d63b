-- The offers a delivery carries, stored once per batch for every delivery
-- that carries the same ones: a batch's `sets` is a JSON array of sets of
-- places in its `rendered` offers; a delivery's `sets` a JSON array of
-- [batch, set] (one for an immediate delivery, one per batch for a daily
-- digest). Deliveries written before keep their `refs` of [batch, place];
-- those written from now on leave it empty.
ALTER TABLE offer_batches ADD COLUMN sets TEXT NOT NULL DEFAULT '[]';
ALTER TABLE webhook_deliveries ADD COLUMN sets TEXT NOT NULL DEFAULT '[]';
