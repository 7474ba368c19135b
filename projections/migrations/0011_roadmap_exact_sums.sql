-- The exact (numeric) sums behind rm_roadmap_figures' float8 sums, so that
-- a live batch adds to a roadmap's sums what its indicators changed
-- instead of adding up every indicator of the roadmap again (indicators.go,
-- saveFolds; docs/performance.md, "7 December, night"). The float8 columns
-- are these sums converted, the same bits as before. trim_scale keeps the
-- stored text of a sum the same whichever way it was reached (a rebuild
-- adds up, a live batch adds and subtracts).
--
-- Every row is added up again from the indicators, and a check keeps the
-- float8 sums equal to the exact ones: an older binary still running
-- against this schema cannot leave an exact sum behind its float8 one
-- (which the next live batch would add to); its indicators projector
-- stops on the check and retries, losing nothing, until the new version
-- takes over (docs/operations.md, "Upgrading past migration 0011").
ALTER TABLE rm_roadmap_figures ADD COLUMN weight_exact numeric, ADD COLUMN weighted_exact numeric;
UPDATE rm_roadmap_figures f SET measures = s.measures, done = s.done, cancelled = s.cancelled,
	weight_total = s.w::float8, weighted_done = s.wd::float8, weight_exact = trim_scale(s.w), weighted_exact = trim_scale(s.wd)
FROM (SELECT generation, roadmap_id,
		count(*) FILTER (WHERE status <> 'cancelled') AS measures,
		count(*) FILTER (WHERE status = 'done') AS done,
		count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
		COALESCE(sum(weight::numeric) FILTER (WHERE status <> 'cancelled'), 0) AS w,
		COALESCE(sum((weight * completion)::numeric) FILTER (WHERE status <> 'cancelled'), 0) AS wd
	FROM rm_indicators GROUP BY generation, roadmap_id) s
WHERE f.generation = s.generation AND f.roadmap_id = s.roadmap_id;
-- A row without indicators cannot exist (rows are written for roadmaps
-- with indicators); should one, it sums nothing.
UPDATE rm_roadmap_figures SET measures = 0, done = 0, cancelled = 0, weight_total = 0, weighted_done = 0, weight_exact = 0, weighted_exact = 0
WHERE weight_exact IS NULL;
ALTER TABLE rm_roadmap_figures ALTER COLUMN weight_exact SET NOT NULL, ALTER COLUMN weighted_exact SET NOT NULL,
	ADD CONSTRAINT rm_roadmap_figures_exact CHECK (weight_total = weight_exact::float8 AND weighted_done = weighted_exact::float8);
