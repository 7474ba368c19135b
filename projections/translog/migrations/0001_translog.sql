-- The transparency log (docs/audit.md). Leaves and tree hashes are a read
-- model of projector translog.v1, keyed by its generation like every other
-- read model: a rebuild recomputes them and must reproduce the same hashes.
-- Checkpoints and cosignatures are not keyed by generation: they are signed
-- statements published to the world, and every one of them is kept.

-- One row per event, in log order. leaf_index is the event's place in the
-- log; position is where the event store had it when it was logged (for
-- diagnosis only: it is not part of the leaf). The other columns are copies
-- taken when the event was logged, for the public feed's filters.
CREATE TABLE translog_leaves (
	generation   int         NOT NULL,
	leaf_index   bigint      NOT NULL CHECK (leaf_index >= 0),
	event_id     uuid        NOT NULL,
	position     text        NOT NULL,
	leaf_hash    bytea       NOT NULL CHECK (length(leaf_hash) = 32),
	stream       text        NOT NULL,
	version      bigint      NOT NULL,
	type         text        NOT NULL,
	actor_id     text,
	effective_at timestamptz,
	recorded_at  timestamptz,
	PRIMARY KEY (generation, leaf_index),
	CONSTRAINT translog_leaves_event UNIQUE (generation, event_id)
);
CREATE INDEX translog_leaves_stream ON translog_leaves (generation, stream, leaf_index);

-- The stored hashes of the tree (golang.org/x/mod/sumdb/tlog): hash_index
-- is tlog.StoredHashIndex(level, n). Every leaf adds its own hash and the
-- hashes of the subtrees it completes, two rows per leaf on average.
CREATE TABLE translog_hashes (
	generation int    NOT NULL,
	hash_index bigint NOT NULL CHECK (hash_index >= 0),
	hash       bytea  NOT NULL CHECK (length(hash) = 32),
	PRIMARY KEY (generation, hash_index)
);

-- Signed checkpoints, in the transparency-log checkpoint format: the note
-- text is "<origin>\n<tree size>\n<base64 root hash>\n", then a blank line
-- and the log's signature line.
CREATE TABLE translog_checkpoints (
	tree_size  bigint      PRIMARY KEY CHECK (tree_size > 0),
	root_hash  bytea       NOT NULL CHECK (length(root_hash) = 32),
	note       text        NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now()
);

-- Witnesses' signatures of a checkpoint's text: one note signature line
-- each ("— <name> <base64>"), appended to the checkpoint when served.
CREATE TABLE translog_cosignatures (
	tree_size  bigint      NOT NULL REFERENCES translog_checkpoints (tree_size),
	witness    text        NOT NULL,
	key_hash   bigint      NOT NULL,
	signature  text        NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tree_size, witness, key_hash)
);
