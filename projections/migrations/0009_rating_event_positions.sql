-- Where each rating fact stands in the global log, so that the live
-- settle can read only the facts stored since the level it keeps in memory
-- was computed (rating_cache.go). Facts stored before this migration keep
-- NULL: a level is first loaded whole, and only later facts are read by
-- position. Adding nullable columns rewrites nothing.
ALTER TABLE rm_rating_events ADD COLUMN position_commit bigint, ADD COLUMN position_prepare bigint;
CREATE INDEX rm_rating_events_position ON rm_rating_events (generation, position_commit, position_prepare);
