package audit

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"promiseledger/api/kernel"
	"promiseledger/api/params"
	"promiseledger/projections/translog"
)

// feedFilter reads the filters GET /events and the exports share.
func feedFilter(r *http.Request) (translog.FeedFilter, error) {
	q := r.URL.Query()
	f := translog.FeedFilter{After: -1, Stream: q.Get("stream"), Type: q.Get("type"), Actor: q.Get("actor")}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{
		{"effective_from", &f.EffectiveFrom}, {"effective_to", &f.EffectiveTo},
		{"recorded_from", &f.RecordedFrom}, {"recorded_to", &f.RecordedTo},
	} {
		s := q.Get(p.name)
		if s == "" {
			continue
		}
		t, err := parseInstant(s)
		if err != nil {
			return f, badRequest("%s must be an RFC 3339 time or a date (YYYY-MM-DD), not %q", p.name, s)
		}
		*p.dst = t
	}
	return f, nil
}

func parseInstant(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	return time.Parse(time.DateOnly, s)
}

// GET /events: one page of the log, oldest first, with filters. cursor is
// the leaf index of the last event of the previous page.
func (h *handler) events(w http.ResponseWriter, r *http.Request) error {
	f, err := feedFilter(r)
	if err != nil {
		return err
	}
	paged, limit, err := h.pageParams(r)
	if err != nil {
		return err
	}
	f.After, f.Limit = paged.After, paged.Limit
	page := EventsPage{Items: []Event{}}
	cp, err := h.latest(r.Context())
	if err != nil {
		return err
	}
	if cp != nil {
		ref := refOf(*cp)
		page.Checkpoint = &ref
	}
	err = translog.ScanFeed(r.Context(), h.cfg.DB, f, func(fe translog.FeedEvent) error {
		page.Items = append(page.Items, eventOf(fe))
		return nil
	})
	if err != nil {
		return err
	}
	if len(page.Items) == limit {
		page.NextCursor = nextCursor(w, r, page.Items)
	}
	return writeJSON(w, http.StatusOK, page)
}

// nextCursor continues a full page after its last event, by the kernel's
// convention: next_cursor in the body, a Link rel=next header.
func nextCursor(w http.ResponseWriter, r *http.Request, page []Event) *string {
	next := strconv.FormatInt(page[len(page)-1].LeafIndex, 10)
	kernel.LinkNext(w, r, next)
	return &next
}

// pageParams reads a paged list's cursor and limit (between 1 and
// MaxPageSize, default DefaultPageSize). cursor is the leaf index of the
// last event of the previous page.
func (h *handler) pageParams(r *http.Request) (translog.FeedFilter, int, error) {
	f := translog.FeedFilter{After: -1}
	limit, err := params.Limit(r.URL.Query().Get("limit"), h.cfg.DefaultPageSize, h.cfg.MaxPageSize)
	if err != nil {
		p := badRequest("limit %s", err)
		p.Errors = []params.Problem{{Field: "limit", Problem: err.Error()}}
		return f, 0, p
	}
	if c := r.URL.Query().Get("cursor"); c != "" {
		after, err := strconv.ParseInt(c, 10, 64)
		if err != nil || after < 0 {
			return f, 0, newProblem(http.StatusBadRequest, "invalid-cursor", "Invalid cursor", "the cursor was not issued by this list; start again without one")
		}
		f.After = after
	}
	f.Limit = limit
	return f, f.Limit, nil
}

// latest returns the latest checkpoint, or nil before the first one.
func (h *handler) latest(ctx context.Context) (*translog.Checkpoint, error) {
	cp, err := translog.LatestCheckpoint(ctx, h.cfg.DB)
	if errors.Is(err, translog.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &cp, nil
}

// exportCheckpoint is the checkpoint an export covers: ?checkpoint=SIZE or
// the latest.
func (h *handler) exportCheckpoint(r *http.Request) (translog.Checkpoint, string, error) {
	size, err := h.treeSizeParam(r, "checkpoint")
	if err != nil {
		return translog.Checkpoint{}, "", err
	}
	cp, err := translog.CheckpointAt(r.Context(), h.cfg.DB, size)
	if err != nil {
		return cp, "", err
	}
	cosigs, err := translog.Cosignatures(r.Context(), h.cfg.DB, size)
	if err != nil {
		return cp, "", err
	}
	return cp, translog.WithCosignatures(cp, cosigs), nil
}

// flushEvery is how many events an export writes between flushes.
const flushEvery = 500

// GET /events.ndjson: every event of a checkpoint (filters allowed), one
// JSON object a line: a header naming the checkpoint, the events in log
// order, and an end line with the count.
func (h *handler) eventsNDJSON(w http.ResponseWriter, r *http.Request) error {
	noWriteDeadline(w)
	f, err := feedFilter(r)
	if err != nil {
		return err
	}
	cp, signed, err := h.exportCheckpoint(r)
	if err != nil {
		return err
	}
	f.Before, f.PageSize = cp.TreeSize, h.cfg.FeedPageSize
	h.exportHeaders(w, cp, "application/x-ndjson", "ndjson")
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ExportHeader{Format: exportFormat, Checkpoint: refOf(cp), Note: signed}); err != nil {
		return nil // the client went away
	}
	var n int64
	err = translog.ScanFeed(r.Context(), h.cfg.DB, f, func(fe translog.FeedEvent) error {
		if err := enc.Encode(eventOf(fe)); err != nil {
			return err
		}
		if n++; n%flushEvery == 0 {
			return flush(bw, w)
		}
		return nil
	})
	if err != nil {
		// The status is sent: the missing end line tells the client.
		h.streamFailed(r, err)
		return nil
	}
	enc.Encode(struct { //nolint:errcheck // flushed and checked below
		End ExportEnd `json:"end"`
	}{ExportEnd{Events: n}})
	flush(bw, w) //nolint:errcheck // the client went away
	return nil
}

// csvHeader names the columns of GET /events.csv.
var csvHeader = []string{"leaf_index", "event_id", "stream", "version", "type", "stored_at", "stored_at_ns", "position",
	"actor_id", "effective_at", "recorded_at", "missing", "leaf_hash", "data", "metadata", "data_base64", "metadata_base64"}

// GET /events.csv: the same as the NDJSON export, as a spreadsheet. The
// first line is a comment naming the checkpoint, the last a comment
// "# end events=N" (read with comment="#"); data and metadata appear as
// text and, exactly, as base64.
func (h *handler) eventsCSV(w http.ResponseWriter, r *http.Request) error {
	noWriteDeadline(w)
	f, err := feedFilter(r)
	if err != nil {
		return err
	}
	cp, _, err := h.exportCheckpoint(r)
	if err != nil {
		return err
	}
	f.Before, f.PageSize = cp.TreeSize, h.cfg.FeedPageSize
	h.exportHeaders(w, cp, "text/csv; charset=utf-8", "csv")
	bw := bufio.NewWriterSize(w, 64<<10)
	fmt.Fprintf(bw, "# %s checkpoint origin=%s tree_size=%d root_hash=%s\n", exportFormat, cp.Origin, cp.TreeSize, cp.RootHash)
	cw := csv.NewWriter(bw)
	cw.Write(csvHeader) //nolint:errcheck // checked at the flush
	var n int64
	err = translog.ScanFeed(r.Context(), h.cfg.DB, f, func(fe translog.FeedEvent) error {
		e := eventOf(fe)
		actor, effective, recorded := "", "", ""
		if fe.Present {
			actor, effective, recorded = translog.FeedFields(fe.Event.Metadata)
		}
		rec := []string{strconv.FormatInt(e.LeafIndex, 10), e.EventID, e.Stream, strconv.FormatInt(e.Version, 10), e.Type,
			e.StoredAt, e.StoredAtNS, e.Position, actor, effective, recorded, strconv.FormatBool(e.Missing), e.LeafHash,
			csvText(fe.Event.Data), csvText(fe.Event.Metadata), e.DataBase64, e.MetadataBase64}
		if err := cw.Write(rec); err != nil {
			return err
		}
		if n++; n%flushEvery == 0 {
			cw.Flush()
			if err := cw.Error(); err != nil {
				return err
			}
			return flush(bw, w)
		}
		return nil
	})
	if err != nil {
		// The status is sent: the missing end line tells the client.
		h.streamFailed(r, err)
		return nil
	}
	cw.Flush()
	// The end marker, like the NDJSON end line: a download without it was
	// cut short. A comment line, as the first one, so readers that skip
	// comments (pandas comment="#") ignore both.
	fmt.Fprintf(bw, "%s%d\n", csvEndPrefix, n)
	flush(bw, w) //nolint:errcheck // the client went away
	return nil
}

// csvEndPrefix starts the last line of a complete CSV export, followed by
// the number of events.
const csvEndPrefix = "# end events="

// csvText is the bytes as text when they are valid UTF-8 text.
func csvText(b []byte) string {
	s := string(b)
	if !utf8Text(s) {
		return ""
	}
	return s
}

func utf8Text(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

func (h *handler) exportHeaders(w http.ResponseWriter, cp translog.Checkpoint, contentType, ext string) {
	hd := w.Header()
	hd.Set("Content-Type", contentType)
	hd.Set("Audit-Tree-Size", strconv.FormatInt(cp.TreeSize, 10))
	hd.Set("Audit-Root-Hash", cp.RootHash.String())
	hd.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="events-%d.%s"`, cp.TreeSize, ext))
	w.WriteHeader(http.StatusOK)
}

func flush(bw *bufio.Writer, w http.ResponseWriter) error {
	if err := bw.Flush(); err != nil {
		return err
	}
	return http.NewResponseController(w).Flush()
}

func (h *handler) streamFailed(r *http.Request, err error) {
	if r.Context().Err() != nil {
		return
	}
	h.cfg.Logger.ErrorContext(r.Context(), "audit export cut short", "err", err, "path", r.URL.Path)
}

// GET /streams/{stream}/history?checkpoint=SIZE&cursor=&limit=: one page
// of a stream's events in the checkpoint, oldest first, each with its
// inclusion proof. cursor is the leaf index of the last event of the
// previous page (next_cursor), as for /events; limit is capped at
// MaxPageSize, so one request makes at most that many proofs.
func (h *handler) streamHistory(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	stream := r.PathValue("stream")
	f, limit, err := h.pageParams(r)
	if err != nil {
		return err
	}
	cp, signed, err := h.exportCheckpoint(r)
	if err != nil {
		return err
	}
	out := StreamHistory{Stream: stream, Checkpoint: refOf(cp), Note: signed, Items: []Event{}}
	if h.cfg.Store != nil {
		v, err := h.cfg.Store.StreamVersion(ctx, stream)
		if err != nil {
			return err
		}
		out.CurrentVersion = &v
	}
	f.Stream, f.Before = stream, cp.TreeSize
	var leaves []translog.FeedEvent
	err = translog.ScanFeed(ctx, h.cfg.DB, f, func(fe translog.FeedEvent) error {
		leaves = append(leaves, fe)
		return nil
	})
	if err != nil {
		return err
	}
	for _, fe := range leaves {
		proof, err := translog.InclusionProof(ctx, h.cfg.DB, fe.Leaf.Index, cp.TreeSize)
		if err != nil {
			return err
		}
		e := eventOf(fe)
		e.Proof = hashesB64(proof)
		out.Items = append(out.Items, e)
	}
	if len(out.Items) == limit {
		out.NextCursor = nextCursor(w, r, out.Items)
	}
	return writeJSON(w, http.StatusOK, out)
}

// noWriteDeadline lifts the server's write timeout for a whole-log export:
// at a million events it streams for minutes, and a cut export could only
// be reported as incomplete. Idle and read timeouts still apply.
func noWriteDeadline(w http.ResponseWriter) {
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{}) // a writer that cannot is left as it is
}
