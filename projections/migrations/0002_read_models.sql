-- Read models. Every table is keyed by the generation of the projector that
-- writes it; readers join projectors.active_generation.

-- catalog.v1: programs, territories, roadmaps.
CREATE TABLE rm_programs (
	generation   int   NOT NULL,
	program_id   text  NOT NULL,
	name         jsonb NOT NULL,
	kind         text  NOT NULL,
	period_start date,
	period_end   date,
	PRIMARY KEY (generation, program_id)
);

CREATE TABLE rm_territories (
	generation  int   NOT NULL,
	kato        text  NOT NULL,
	name        jsonb NOT NULL,
	kind        text  NOT NULL,
	parent_kato text,
	PRIMARY KEY (generation, kato)
);
CREATE INDEX rm_territories_parent ON rm_territories (generation, parent_kato);

CREATE TABLE rm_roadmaps (
	generation   int         NOT NULL,
	roadmap_id   text        NOT NULL,
	program_id   text        NOT NULL,
	kato         text        NOT NULL,
	level        text        NOT NULL,
	title        jsonb       NOT NULL,
	status       text        NOT NULL,
	period_start date,
	period_end   date,
	responsibles jsonb       NOT NULL DEFAULT '[]',
	version      bigint      NOT NULL,
	registered_at timestamptz NOT NULL,
	updated_at   timestamptz NOT NULL,
	PRIMARY KEY (generation, roadmap_id)
);
CREATE INDEX rm_roadmaps_scope ON rm_roadmaps (generation, level, kato);
CREATE INDEX rm_roadmaps_program ON rm_roadmaps (generation, program_id);

-- indicators.v1: each indicator's events (for folding as of any time on
-- either axis), its current state, and per-roadmap sums of both methods.
CREATE TABLE rm_indicator_events (
	generation   int         NOT NULL,
	indicator_id text        NOT NULL,
	version      bigint      NOT NULL,
	event_id     uuid        NOT NULL,
	type         text        NOT NULL,
	data         bytea       NOT NULL,
	metadata     bytea       NOT NULL,
	effective_at timestamptz NOT NULL,
	recorded_at  timestamptz NOT NULL,
	PRIMARY KEY (generation, indicator_id, version)
);

CREATE TABLE rm_indicators (
	generation     int         NOT NULL,
	indicator_id   text        NOT NULL,
	roadmap_id     text        NOT NULL,
	version        bigint      NOT NULL,
	kind           text        NOT NULL,
	status         text        NOT NULL,
	weight         float8      NOT NULL,
	completion     float8      NOT NULL,
	deadline       date        NOT NULL,
	latest_value   float8,
	responsible_id text,
	reports        int         NOT NULL,
	corrections    int         NOT NULL,
	has_evidence   boolean     NOT NULL,
	state          jsonb       NOT NULL,
	updated_at     timestamptz NOT NULL,
	PRIMARY KEY (generation, indicator_id)
);
CREATE INDEX rm_indicators_roadmap ON rm_indicators (generation, roadmap_id);
CREATE INDEX rm_indicators_responsible ON rm_indicators (generation, responsible_id);

CREATE TABLE rm_roadmap_figures (
	generation    int    NOT NULL,
	roadmap_id    text   NOT NULL,
	measures      int    NOT NULL, -- not cancelled: the denominator of share-done
	done          int    NOT NULL,
	cancelled     int    NOT NULL,
	weight_total  float8 NOT NULL, -- the denominator of weighted-progress
	weighted_done float8 NOT NULL,
	PRIMARY KEY (generation, roadmap_id)
);
