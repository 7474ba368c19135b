// Package provenance names the log state a published number was computed
// at: the signed checkpoint (tree size, root hash, the signed note), the
// method and version, and the instants on both time axes it answers for
// (docs/methodology.md, "Provenance"). Every figure, series, roadmap
// summary, league table and rating answer carries one; the pages' "cite
// this" reads the same value (Provenance.Cite).
//
// It sits beside projections, not in it, because it reads the
// transparency log (projections/translog), which imports projections.
package provenance

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"promiseledger/eventstore"
	"promiseledger/projections"
	"promiseledger/projections/translog"
)

// Basis says how an answer was computed.
type Basis string

const (
	// BasisCheckpoint: from exactly the events of the log's leaves below
	// the checkpoint's tree size (the caller asked ?checkpoint=N). Anyone
	// holding those leaves recomputes the same digits.
	BasisCheckpoint Basis = "checkpoint"
	// BasisLive: from the read models at computed_at. The checkpoint named
	// is the latest signed one at that instant; the answer may include
	// events logged after it. Ask again with ?checkpoint= its tree size
	// for a number anyone can recompute.
	BasisLive Basis = "live"
)

// Checkpoint is a signed state of the transparency log.
type Checkpoint struct {
	TreeSize int64 `json:"tree_size" doc:"Leaves in the log at the checkpoint."`
	// RootHash is standard base64, as the note states it.
	RootHash string `json:"root_hash" doc:"The Merkle tree hash, standard base64."`
	// Note is the checkpoint as the log signed it (C2SP signed note).
	Note     string    `json:"note" doc:"The checkpoint as the log signed it (a signed note; verify with the log's public key)."`
	SignedAt time.Time `json:"signed_at" doc:"When the log signed it."`
}

// MethodRef names a published method version.
type MethodRef struct {
	Name    string `json:"name" doc:"The method's name."`
	Version int    `json:"version" doc:"Its version."`
}

// Provenance is where a published number came from.
type Provenance struct {
	Basis Basis `json:"basis" enum:"checkpoint,live" doc:"checkpoint: computed from exactly the events of the log's leaves below checkpoint.tree_size (asked with checkpoint=N); live: from the read models at computed_at, which may hold events logged after the checkpoint named — ask again with checkpoint= its tree_size for a number anyone can recompute."`
	// Checkpoint is null only before the log's first checkpoint.
	Checkpoint *Checkpoint `json:"checkpoint" doc:"The signed checkpoint (null only before the log's first)."`
	// ComputedAt is when the server computed the answer.
	ComputedAt time.Time `json:"computed_at" doc:"When the server computed the answer."`
	// AsOf and KnownAt are the instants the answer is for on the effective
	// and recorded axes: the ones asked for, or, when none was asked,
	// computed_at (live) or the checkpoint's signing time (checkpoint).
	AsOf    projections.AxisTime `json:"as_of" doc:"The effective-time instant answered for: as asked, else computed_at (live) or the checkpoint's signing time."`
	KnownAt projections.AxisTime `json:"known_at" doc:"The recorded-time instant answered for, likewise."`
	Methods []MethodRef          `json:"methods" doc:"The methods and versions behind the numbers."`
}

// Errors of At.
var (
	// ErrNotSigned: no signed checkpoint has that tree size (beyond the
	// latest, or between two checkpoints). A client error (400).
	ErrNotSigned = errors.New("not a signed checkpoint")
	// ErrNotProjected: the read models have not yet applied every event
	// below the checkpoint; retry shortly (503).
	ErrNotProjected = errors.New("the read models have not reached that checkpoint yet")
)

func checkpointOf(c translog.Checkpoint) *Checkpoint {
	return &Checkpoint{TreeSize: c.TreeSize, RootHash: base64.StdEncoding.EncodeToString(c.RootHash[:]),
		Note: c.Note, SignedAt: c.CreatedAt.UTC()}
}

func orAt(t *time.Time, at time.Time) projections.AxisTime {
	if t != nil {
		return projections.AxisTime(t.UTC())
	}
	return projections.AxisTime(at.UTC())
}

// Live is the provenance of an answer computed from the read models at
// now, on the axes asked for (nil: now).
func Live(ctx context.Context, db translog.Querier, now time.Time, asOf, knownAt *time.Time, methods ...MethodRef) (Provenance, error) {
	p := Provenance{Basis: BasisLive, ComputedAt: now.UTC(), AsOf: orAt(asOf, now), KnownAt: orAt(knownAt, now), Methods: nonNil(methods)}
	c, err := translog.LatestCheckpoint(ctx, db)
	switch {
	case errors.Is(err, translog.ErrNotFound):
	case err != nil:
		return p, fmt.Errorf("provenance: %w", err)
	default:
		p.Checkpoint = checkpointOf(c)
	}
	return p, nil
}

// At resolves ?checkpoint=size: the provenance of an answer computed from
// the events below that signed checkpoint, and the cut to compute it on.
// It fails with ErrNotSigned unless a checkpoint of that size was signed,
// and with ErrNotProjected unless every projector named has applied the
// event of leaf size-1.
func At(ctx context.Context, db translog.Querier, now time.Time, size int64, asOf, knownAt *time.Time, projectors []string, methods ...MethodRef) (Provenance, *projections.LogCut, error) {
	c, err := translog.CheckpointAt(ctx, db, size)
	if errors.Is(err, translog.ErrNotFound) {
		return Provenance{}, nil, fmt.Errorf("checkpoint %d: %w", size, ErrNotSigned)
	}
	if err != nil {
		return Provenance{}, nil, fmt.Errorf("provenance: %w", err)
	}
	last, err := translog.LeafAt(ctx, db, size-1)
	if err != nil {
		return Provenance{}, nil, fmt.Errorf("provenance: last leaf of checkpoint %d: %w", size, err)
	}
	lastPos, err := eventstore.ParsePosition(last.Position)
	if err != nil {
		return Provenance{}, nil, fmt.Errorf("provenance: leaf %d: %w", last.Index, err)
	}
	for _, name := range projectors {
		pos, err := projections.Checkpoint(ctx, db, name)
		if err != nil {
			return Provenance{}, nil, fmt.Errorf("provenance: %w", err)
		}
		if pos.Less(lastPos) {
			return Provenance{}, nil, fmt.Errorf("checkpoint %d: projector %s is at %s, before %s: %w", size, name, pos, lastPos, ErrNotProjected)
		}
	}
	p := Provenance{Basis: BasisCheckpoint, Checkpoint: checkpointOf(c), ComputedAt: now.UTC(),
		AsOf: orAt(asOf, c.CreatedAt), KnownAt: orAt(knownAt, c.CreatedAt), Methods: nonNil(methods)}
	return p, &projections.LogCut{TreeSize: size, Leaves: Leaves{DB: db}}, nil
}

func nonNil(m []MethodRef) []MethodRef {
	if m == nil {
		return []MethodRef{}
	}
	return m
}

// FigureMethods names the figure methods the answer shows.
func FigureMethods(figs []projections.Figure) []MethodRef {
	out := []MethodRef{}
	for _, f := range figs {
		m := MethodRef{Name: f.Method, Version: f.MethodVersion}
		found := false
		for _, o := range out {
			found = found || o == m
		}
		if !found {
			out = append(out, m)
		}
	}
	return out
}

// AllFigureMethods names every published figure method.
func AllFigureMethods() []MethodRef {
	out := make([]MethodRef, 0, len(projections.Methods))
	for _, m := range projections.Methods {
		out = append(out, MethodRef{Name: m.Name, Version: m.Version})
	}
	return out
}

// Cite is one line to quote under a number: the log state, the methods and
// the instants.
func (p Provenance) Cite() string {
	var b strings.Builder
	if p.Checkpoint != nil {
		fmt.Fprintf(&b, "checkpoint %d (root %s, signed %s)", p.Checkpoint.TreeSize, p.Checkpoint.RootHash, p.Checkpoint.SignedAt.Format(time.RFC3339))
	} else {
		b.WriteString("no signed checkpoint yet")
	}
	if p.Basis == BasisLive {
		b.WriteString(", live read at " + p.ComputedAt.Format(time.RFC3339))
	}
	for i, m := range p.Methods {
		if i == 0 {
			b.WriteString("; ")
		} else {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s v%d", m.Name, m.Version)
	}
	fmt.Fprintf(&b, "; as of %s, known at %s", p.AsOf.String(), p.KnownAt.String())
	return b.String()
}

// CSVHeader is the provenance line a CSV download starts with: a comment
// ("#"), key=value pairs separated by spaces, no value containing a space.
func (p Provenance) CSVHeader() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# provenance basis=%s", p.Basis)
	if p.Checkpoint != nil {
		fmt.Fprintf(&b, " tree_size=%d root_hash=%s signed_at=%s", p.Checkpoint.TreeSize, p.Checkpoint.RootHash, p.Checkpoint.SignedAt.Format(time.RFC3339Nano))
	}
	fmt.Fprintf(&b, " computed_at=%s as_of=%s known_at=%s", p.ComputedAt.Format(time.RFC3339Nano), p.AsOf.String(), p.KnownAt.String())
	var ms []string
	for _, m := range p.Methods {
		ms = append(ms, fmt.Sprintf("%s/%d", m.Name, m.Version))
	}
	if len(ms) > 0 {
		b.WriteString(" methods=" + strings.Join(ms, ","))
	}
	return b.String()
}

// Leaves implements projections.LogLeaves over the transparency log.
type Leaves struct{ DB translog.Querier }

var _ projections.LogLeaves = Leaves{}

// Logged implements projections.LogLeaves.
func (l Leaves) Logged(ctx context.Context, size int64, events []uuid.UUID) (map[uuid.UUID]bool, error) {
	leaves, err := translog.EventLeaves(ctx, l.DB, events, size)
	if err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID]bool, len(leaves))
	for id := range leaves {
		out[id] = true
	}
	return out, nil
}

// StreamsOfType implements projections.LogLeaves.
func (l Leaves) StreamsOfType(ctx context.Context, size int64, typ string) (map[string]bool, error) {
	out := map[string]bool{}
	err := translog.ScanFeed(ctx, l.DB, translog.FeedFilter{After: -1, Before: size, Type: typ}, func(fe translog.FeedEvent) error {
		out[fe.Leaf.Stream] = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
