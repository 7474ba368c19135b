-- The exact (numeric) sums behind rm_roadmap_figures' float8 sums, so that
-- a live batch adds to a roadmap's sums what its indicators changed
-- instead of adding up every indicator of the roadmap again (indicators.go,
-- saveFolds; docs/performance.md, "7 December, night"). The float8 columns
-- are these sums converted, the same bits as before. trim_scale keeps the
-- stored text of a sum the same whichever way it was reached (a rebuild
-- adds up, a live batch adds and subtracts).
ALTER TABLE rm_roadmap_figures ADD COLUMN weight_exact numeric, ADD COLUMN weighted_exact numeric;
UPDATE rm_roadmap_figures f SET weight_exact = s.w, weighted_exact = s.wd
FROM (SELECT generation, roadmap_id,
		trim_scale(COALESCE(sum(weight::numeric) FILTER (WHERE status <> 'cancelled'), 0)) AS w,
		trim_scale(COALESCE(sum((weight * completion)::numeric) FILTER (WHERE status <> 'cancelled'), 0)) AS wd
	FROM rm_indicators GROUP BY generation, roadmap_id) s
WHERE f.generation = s.generation AND f.roadmap_id = s.roadmap_id;
UPDATE rm_roadmap_figures SET weight_exact = 0, weighted_exact = 0 WHERE weight_exact IS NULL;
ALTER TABLE rm_roadmap_figures ALTER COLUMN weight_exact SET NOT NULL, ALTER COLUMN weighted_exact SET NOT NULL;
