-- Projector bookkeeping. Read-model rows carry a generation: a rebuild fills
-- generation n+1 while n keeps serving, then flips active_generation in one
-- transaction.
CREATE TABLE projectors (
	name                  text PRIMARY KEY,
	active_generation     int  NOT NULL DEFAULT 1,
	rebuilding_generation int,
	stopped               boolean NOT NULL DEFAULT false,
	last_error            text,
	last_error_at         timestamptz,
	poison_event_id       uuid,
	poison_position       text,
	poison_type           text,
	errors_total          bigint NOT NULL DEFAULT 0
);

-- One checkpoint per projector generation, written in the same transaction
-- as that generation's read-model rows.
CREATE TABLE projector_checkpoints (
	name             text   NOT NULL,
	generation       int    NOT NULL,
	position_commit  bigint NOT NULL DEFAULT 0,
	position_prepare bigint NOT NULL DEFAULT 0,
	events_total     bigint NOT NULL DEFAULT 0,
	last_stored_at   timestamptz,
	updated_at       timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (name, generation)
);
