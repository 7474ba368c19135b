-- councils.v1: public councils, their members, recommendations and
-- assessments. The events are kept (rm_council_events) so that any of them
-- can be folded as of a past time; the other tables hold the current state.
CREATE TABLE rm_council_events (
	generation   int         NOT NULL,
	stream       text        NOT NULL,
	version      bigint      NOT NULL,
	kind         text        NOT NULL, -- council, recommendation, assessment
	aggregate_id text        NOT NULL,
	event_id     uuid        NOT NULL,
	type         text        NOT NULL,
	data         bytea       NOT NULL,
	metadata     bytea       NOT NULL,
	effective_at timestamptz NOT NULL,
	recorded_at  timestamptz NOT NULL,
	PRIMARY KEY (generation, stream, version)
);
CREATE INDEX rm_council_events_aggregate ON rm_council_events (generation, kind, aggregate_id, version);

CREATE TABLE rm_councils (
	generation    int         NOT NULL,
	council_id    text        NOT NULL,
	kato          text        NOT NULL,
	level         text        NOT NULL,
	name          jsonb       NOT NULL,
	members       int         NOT NULL,
	version       bigint      NOT NULL,
	registered_at timestamptz NOT NULL,
	updated_at    timestamptz NOT NULL,
	PRIMARY KEY (generation, council_id)
);
CREATE INDEX rm_councils_scope ON rm_councils (generation, level, kato);

-- Every membership period; left_at is null while it lasts.
CREATE TABLE rm_council_members (
	generation   int         NOT NULL,
	council_id   text        NOT NULL,
	seq          int         NOT NULL,
	member_id    text        NOT NULL,
	role         text        NOT NULL,
	display_name text        NOT NULL,
	joined_at    timestamptz NOT NULL,
	left_at      timestamptz,
	PRIMARY KEY (generation, council_id, seq)
);
CREATE INDEX rm_council_members_member ON rm_council_members (generation, member_id);

CREATE TABLE rm_recommendations (
	generation        int         NOT NULL,
	recommendation_id text        NOT NULL,
	council_id        text        NOT NULL,
	body_id           text        NOT NULL,
	status            text        NOT NULL,
	decision          text,
	verdict           text,
	response_deadline date,
	dissents          int         NOT NULL,
	drafted_at        timestamptz NOT NULL,
	version           bigint      NOT NULL,
	updated_at        timestamptz NOT NULL,
	state             jsonb       NOT NULL,
	PRIMARY KEY (generation, recommendation_id)
);
CREATE INDEX rm_recommendations_council ON rm_recommendations (generation, council_id);
CREATE INDEX rm_recommendations_body ON rm_recommendations (generation, body_id);
CREATE INDEX rm_recommendations_status ON rm_recommendations (generation, status, response_deadline);

CREATE TABLE rm_assessments (
	generation      int         NOT NULL,
	assessment_id   text        NOT NULL,
	council_id      text        NOT NULL,
	indicator_id    text        NOT NULL,
	roadmap_id      text        NOT NULL,
	position        text        NOT NULL,
	respondents     text[]      NOT NULL,
	replies         int         NOT NULL,
	withdrawn       boolean     NOT NULL,
	assessed_at     timestamptz NOT NULL,
	version         bigint      NOT NULL,
	state           jsonb       NOT NULL,
	PRIMARY KEY (generation, assessment_id)
);
CREATE INDEX rm_assessments_indicator ON rm_assessments (generation, indicator_id);
CREATE INDEX rm_assessments_council ON rm_assessments (generation, council_id);

-- ratings.v1: the events a rating is computed from (deputies, rating
-- methods, indicators, assessments), indexes that say which level an event
-- touches, and the live ratings of every deputy, period and method version.
CREATE TABLE rm_rating_events (
	generation   int         NOT NULL,
	stream       text        NOT NULL,
	version      bigint      NOT NULL,
	kind         text        NOT NULL, -- deputy, method, indicator, assessment
	aggregate_id text        NOT NULL,
	event_id     uuid        NOT NULL,
	type         text        NOT NULL,
	data         bytea       NOT NULL,
	metadata     bytea       NOT NULL,
	effective_at timestamptz NOT NULL,
	recorded_at  timestamptz NOT NULL,
	PRIMARY KEY (generation, stream, version)
);
CREATE INDEX rm_rating_events_aggregate ON rm_rating_events (generation, kind, aggregate_id, version);
CREATE INDEX rm_rating_events_id ON rm_rating_events (generation, event_id);

CREATE TABLE rm_rating_deputies (
	generation   int    NOT NULL,
	deputy_id    text   NOT NULL,
	display_name text   NOT NULL,
	assembly_id  text   NOT NULL,
	level        text   NOT NULL,
	version      bigint NOT NULL,
	state        jsonb  NOT NULL,
	PRIMARY KEY (generation, deputy_id)
);
CREATE INDEX rm_rating_deputies_level ON rm_rating_deputies (generation, level);
CREATE INDEX rm_rating_deputies_assembly ON rm_rating_deputies (generation, assembly_id);

-- Who was ever linked to what: a deputy's responsibilities, an
-- assessment's respondents. Never deleted: a past rating may need them.
CREATE TABLE rm_rating_links (
	generation   int  NOT NULL,
	person_id    text NOT NULL,
	subject_kind text NOT NULL, -- roadmap, indicator, assessment
	subject_id   text NOT NULL,
	PRIMARY KEY (generation, person_id, subject_kind, subject_id)
);
CREATE INDEX rm_rating_links_subject ON rm_rating_links (generation, subject_kind, subject_id);

CREATE TABLE rm_rating_indicators (
	generation   int  NOT NULL,
	indicator_id text NOT NULL,
	roadmap_id   text NOT NULL,
	PRIMARY KEY (generation, indicator_id)
);
CREATE INDEX rm_rating_indicators_roadmap ON rm_rating_indicators (generation, roadmap_id);

CREATE TABLE rm_deputy_ratings (
	generation    int     NOT NULL,
	method        text    NOT NULL,
	version       int     NOT NULL,
	period_start  date    NOT NULL,
	period_end    date    NOT NULL,
	deputy_id     text    NOT NULL,
	assembly_id   text    NOT NULL,
	level         text    NOT NULL,
	rated         boolean NOT NULL,
	score         float8,
	rank_assembly int,
	rank_level    int,
	in_force      boolean NOT NULL,
	provisional   boolean NOT NULL,
	rating        jsonb   NOT NULL,
	digest        text    NOT NULL, -- of rating: rows are rewritten only when it changes
	PRIMARY KEY (generation, method, version, period_start, deputy_id)
);
CREATE INDEX rm_deputy_ratings_deputy ON rm_deputy_ratings (generation, deputy_id);
CREATE INDEX rm_deputy_ratings_level ON rm_deputy_ratings (generation, level, method, version, period_start);
CREATE INDEX rm_deputy_ratings_assembly ON rm_deputy_ratings (generation, assembly_id, method, version, period_start);
