-- Levels whose ratings wait for recomputation: a catch-up or a rebuild
-- stores each page's facts and marks the levels they feed here, and
-- recomputes each marked level once when it reaches the head of the log
-- (a level's ratings depend only on the stored facts, not on how they
-- were batched).
CREATE TABLE rm_rating_pending_levels (
	generation int  NOT NULL,
	level      text NOT NULL,
	PRIMARY KEY (generation, level)
);
