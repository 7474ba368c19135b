-- When a level's recomputation became due: the oldest ratings work not yet
-- done. /readyz and `ledger projections status` report its age, so a
-- recompute that keeps failing or trails far behind is seen (the ratings'
-- checkpoint alone only says that the facts are stored).
ALTER TABLE rm_rating_pending_levels ADD COLUMN pending_since timestamptz NOT NULL DEFAULT now();
