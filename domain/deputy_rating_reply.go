package domain

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// A deputy's reply to their rating: the deputy's own word, on the record
// under the rating it answers (a method's version, for one period), as a
// reply to a council's assessment is under the assessment. It changes no
// score: the rating is computed from the record, and a reply is not part
// of the formula.

// TypeDeputyRatingReplied is the stable type of DeputyRatingReplied.
const TypeDeputyRatingReplied = "deputy.rating_replied.v1"

// DeputyRatingReplied: the deputy replied to their rating under Method's
// Version for Period. The reply's id is the event id.
type DeputyRatingReplied struct {
	DeputyID string   `json:"deputy_id"`
	Method   string   `json:"method"`
	Version  int      `json:"version"`
	Period   Period   `json:"period"`
	Reply    string   `json:"reply"`
	Evidence Evidence `json:"evidence,omitzero"`
}

// EventType implements Event.
func (DeputyRatingReplied) EventType() string { return TypeDeputyRatingReplied }

func (e DeputyRatingReplied) deputyID() string { return e.DeputyID }

// RatingReply is a reply of the deputy to one of their ratings, as folded.
type RatingReply struct {
	Method     string    `json:"method"`
	Version    int       `json:"version"`
	Period     Period    `json:"period"`
	Reply      string    `json:"reply"`
	Evidence   Evidence  `json:"evidence,omitzero"`
	RepliedAt  time.Time `json:"replied_at"`
	RecordedAt time.Time `json:"recorded_at"`
	EventID    uuid.UUID `json:"event_id"`
}

// About reports whether the reply answers the rating of method's version
// for p.
func (r RatingReply) About(method string, version int, p Period) bool {
	return r.Method == method && r.Version == version && r.Period == p
}

// RatedIn is what the command found about the rating replied to: whether
// the method's version is published, and whether p is one of its periods.
type RatedIn struct {
	Published bool
	Periods   []Period
}

// ReplyToRating records the deputy's reply to their rating: only the
// deputy may reply (the actor is the deputy), once per rating (method,
// version, period), with the text rules of every free-text reply.
func (d *Deputy) ReplyToRating(e DeputyRatingReplied, rated RatedIn, m Meta) error {
	if err := d.open(); err != nil {
		return err
	}
	e.DeputyID, e.Method, e.Reply = d.state.ID, strings.TrimSpace(e.Method), cleanText(e.Reply, true)
	if m.ActorID != d.state.ID {
		return fmt.Errorf("person %q replying to the rating of deputy %s: %w", m.ActorID, d.state.ID, ErrNotRespondent)
	}
	if slices.ContainsFunc(d.state.RatingReplies, func(r RatingReply) bool { return r.About(e.Method, e.Version, e.Period) }) {
		return fmt.Errorf("reply of deputy %s to the rating %s v%d for %s: %w", d.state.ID, e.Method, e.Version, e.Period, ErrAlreadyExists)
	}
	var v validator
	m = d.stamp(m, &v)
	validateSlug(&v, "method", e.Method)
	v.check(e.Version > 0, "version", "must be above 0")
	e.Period.validate(&v, "period")
	switch {
	case !rated.Published:
		v.rule("method", ErrUnknownReference, fmt.Sprintf("rating method %s has no published version %d", e.Method, e.Version))
	case !slices.Contains(rated.Periods, e.Period):
		v.rule("period", ErrUnknownReference, fmt.Sprintf("%s is not a period rated under %s version %d", e.Period, e.Method, e.Version))
	}
	validateFreeText(&v, "reply", e.Reply, true, true, maxLongText)
	e.Evidence = evidenceOptional(&v, "evidence", e.Evidence)
	if err := v.err(); err != nil {
		return err
	}
	return d.record(e, m, d.state.Apply)
}
