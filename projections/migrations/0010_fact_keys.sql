-- The facts tables kept two unique orders of the same rows: the primary
-- key (generation, stream, version) and the index (generation, kind,
-- aggregate_id, version) the queries read by. A stream names exactly one
-- kind and aggregate (its prefix and the rest: see streamKindID), so the
-- index is as unique as the key; it becomes the key, and every fact
-- written updates one B-tree fewer (docs/performance.md, "6 December,
-- night"). Nothing reads the facts by stream.
CREATE UNIQUE INDEX rm_council_events_key ON rm_council_events (generation, kind, aggregate_id, version);
ALTER TABLE rm_council_events DROP CONSTRAINT rm_council_events_pkey,
	ADD CONSTRAINT rm_council_events_pkey PRIMARY KEY USING INDEX rm_council_events_key;
DROP INDEX rm_council_events_aggregate;

CREATE UNIQUE INDEX rm_rating_events_key ON rm_rating_events (generation, kind, aggregate_id, version);
ALTER TABLE rm_rating_events DROP CONSTRAINT rm_rating_events_pkey,
	ADD CONSTRAINT rm_rating_events_pkey PRIMARY KEY USING INDEX rm_rating_events_key;
DROP INDEX rm_rating_events_aggregate;
