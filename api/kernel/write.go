package kernel

import (
	"net/http"
	"time"

	"github.com/google/uuid"

	"promiseledger/commands"
	"promiseledger/domain"
)

// WriteCommon holds the fields every write body may carry.
type WriteCommon struct {
	// Reason says why; some commands require it.
	Reason string `json:"reason,omitempty" doc:"Why. Some commands require it (closing, unassigning, correcting, cancelling, withdrawing, re-targeting, backward status changes)."`
	// ExpectedVersion pins the write to the version the client read; an
	// If-Match header wins over it.
	ExpectedVersion *int64 `json:"expected_version,omitempty" minimum:"0" doc:"The version you read; If-Match wins over it."`
	// EffectiveAt is when the fact became true (RFC 3339); default now.
	EffectiveAt string `json:"effective_at,omitempty" format:"date-time" doc:"When the fact became true in the world (RFC 3339); default now. Not after now, not before the record took effect."`
}

// Common returns the common fields of a body that embeds them.
func (c *WriteCommon) Common() *WriteCommon { return c }

// CommandBody is a pointer to a write body.
type CommandBody[T any] interface {
	*T
	Common() *WriteCommon
}

// Claim turns an Idempotency-Key into the event id the write records
// under (Idempotency.Claim, with the token and route bound).
type Claim func(r *http.Request, key string, body []byte) (uuid.UUID, error)

// ReadCommand reads a write's body into body (within max bytes, strictly)
// and the parts of the command's header the request carries: the reason,
// the effective time, the pinned version (If-Match wins over
// expected_version) and, for an Idempotency-Key, the event id claim gives.
// The caller adds the actor (from the credentials, never the body) and the
// correlation id. A request refused here appends nothing.
func ReadCommand[T any, B CommandBody[T]](w http.ResponseWriter, r *http.Request, max int64, body B, claim Claim) (commands.Header, error) {
	raw, err := DecodeBody(w, r, max, body)
	if err != nil {
		return commands.Header{}, err
	}
	c := body.Common()
	h := commands.Header{Reason: c.Reason, ExpectedVersion: c.ExpectedVersion}
	if r.Header.Get("If-Match") != "" {
		if h.ExpectedVersion, err = IfMatch(r.Header); err != nil {
			return h, err
		}
	}
	var errs domain.ValidationErrors
	if h.ExpectedVersion != nil && *h.ExpectedVersion < 0 {
		errs = append(errs, &domain.ValidationError{Field: "expected_version", Problem: "must not be negative"})
	}
	if c.EffectiveAt != "" {
		t, err := time.Parse(time.RFC3339Nano, c.EffectiveAt)
		if err != nil {
			errs = append(errs, &domain.ValidationError{Field: "effective_at", Problem: "must be a time in RFC 3339, e.g. 2021-06-01T09:00:00+05:00"})
		}
		h.EffectiveAt = t.UTC()
	}
	if len(errs) > 0 {
		return h, errs
	}
	key, ok, err := IdempotencyKey(r.Header)
	if err != nil || !ok {
		return h, err
	}
	h.EventID, err = claim(r, key, raw)
	return h, err
}

// WriteResult is the answer to every successful write.
type WriteResult struct {
	ID        string      `json:"id" doc:"The id of the aggregate the command changed or created (a UUID, or a KATO code)."`
	Stream    string      `json:"stream" doc:"Its stream."`
	Version   int64       `json:"version" doc:"The stream's version after the command: the new ETag."`
	EventIDs  []uuid.UUID `json:"event_ids" doc:"The events recorded (one)."`
	Duplicate bool        `json:"duplicate" doc:"true when this repeats an earlier request with the same Idempotency-Key: nothing new was recorded. The only difference from the first answer."`
	// ReportID is set on reports and corrections: the event id of the
	// report.
	ReportID string `json:"report_id,omitempty" format:"uuid" doc:"Reports and corrections: the new report's id (its event id)."`
}

// Written says how a write route answers success.
type Written struct {
	Created bool // 201 rather than 200
	// Location, if set, names the created resource.
	Location func(commands.Result) string
	// ReportID: the event recorded a report, whose id is its event id.
	ReportID bool
}

// Answer answers a successful write. A replay (the same Idempotency-Key
// and request again) answers exactly as the first time, with
// Idempotent-Replayed: true and duplicate: true.
func (a Written) Answer(w http.ResponseWriter, res commands.Result) {
	out := WriteResult{ID: res.ID, Stream: res.Stream, Version: res.Version, EventIDs: res.EventIDs, Duplicate: res.Duplicate}
	if out.EventIDs == nil {
		out.EventIDs = []uuid.UUID{}
	}
	if a.ReportID && len(res.EventIDs) > 0 {
		out.ReportID = res.EventIDs[0].String()
	}
	w.Header().Set("ETag", ETag(res.Version))
	if a.Location != nil {
		w.Header().Set("Location", a.Location(res))
	}
	if res.Duplicate {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	status := http.StatusOK
	if a.Created {
		status = http.StatusCreated
	}
	WriteJSON(w, status, out)
}
