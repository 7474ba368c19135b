-- A rating is stored as a compact binary record (body; the layout is in
-- projections/rating_codec.go) instead of jsonb: nothing queries inside a
-- rating, and writing ~129,000 ratings of ~2.2 KB of JSON on a first start
-- made PostgreSQL parse and store 286 MB. The digest is of body.
--
-- Rows written before keep their jsonb rating (and a NULL body) and read
-- back as before; the next recomputation of their level rewrites them in
-- the new form (their digests, of the JSON, match no new rating), and
-- `ledger projections rebuild ratings.v1` rewrites them all at once.
ALTER TABLE rm_deputy_ratings ALTER COLUMN rating DROP NOT NULL, ADD COLUMN body bytea;
ALTER TABLE rm_deputy_ratings ADD CONSTRAINT rm_deputy_ratings_stored CHECK (body IS NOT NULL OR rating IS NOT NULL) NOT VALID;
