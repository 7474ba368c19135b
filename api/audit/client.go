package audit

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"filippo.io/torchwood"
	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"promiseledger/eventstore"
	"promiseledger/projections/translog"
)

// Finding is one thing a client found wrong. Kind is one of translog's
// mismatch kinds (changed, missing, moved, ...) or one of the kinds below.
type Finding = translog.Mismatch

// Finding kinds only a client can see.
const (
	// KindSignature: the checkpoint is not validly signed by the pinned key.
	KindSignature translog.MismatchKind = "signature"
	// KindWitness: too few trusted witnesses cosigned the checkpoint.
	KindWitness translog.MismatchKind = "witness"
	// KindInconsistent: the new checkpoint does not extend one seen before
	// (the log was rewritten); two signed checkpoints prove it.
	KindInconsistent translog.MismatchKind = "inconsistent"
	// KindRollback: the log is now smaller than a checkpoint seen before.
	KindRollback translog.MismatchKind = "rollback"
	// KindProof: an inclusion proof the server gave does not verify.
	KindProof translog.MismatchKind = "proof"
	// KindRoot: the leaf hashes served do not add up to the signed root.
	KindRoot translog.MismatchKind = "root"
	// KindGap: events the history should hold are absent from it.
	KindGap translog.MismatchKind = "gap"
	// KindIncomplete: the download ended early or is malformed.
	KindIncomplete translog.MismatchKind = "incomplete"
	// KindOrder: the export served a leaf at or before one it had served
	// already (repeated or out of order); the download was stopped there.
	KindOrder translog.MismatchKind = "order"
)

// ErrVerificationFailed is returned (wrapped) by Verify when anything did
// not verify; the report lists what.
var ErrVerificationFailed = errors.New("audit: verification failed")

// VerifyConfig configures Verify.
type VerifyConfig struct {
	// BaseURL is where the audit API is mounted, e.g.
	// https://ledger.example.kz/v1/audit.
	BaseURL string
	// VerifierKey is the log's public key, pinned: checkpoints signed by
	// any other key are rejected.
	VerifierKey string
	// Origin, when set, must be the checkpoints' first line (default: the
	// origin of the checkpoints in the state file, if any).
	Origin string
	// StateFile keeps the checkpoints verified before; it is updated only
	// when everything verified. Empty: remember nothing.
	StateFile string
	// Stream, when set, verifies only that stream's history, event by
	// event with inclusion proofs, instead of the whole log.
	Stream string
	// RequireWitnesses is how many of WitnessKeys must have cosigned the
	// checkpoint.
	RequireWitnesses int
	WitnessKeys      []string
	HTTPClient       *http.Client
	// Now is the clock for the state file (default time.Now).
	Now func() time.Time
	// Progress, when set, is called as the whole-log download advances
	// (every ProgressEvery events, and once at the end), from Verify's
	// goroutine.
	Progress func(VerifyProgress)
	// Tiles reads the whole log as C2SP tlog-tiles (under TilesPrefix)
	// with torchwood's client instead of the NDJSON export, and proves
	// consistency from the tiles too. Every entry is checked against the
	// signed root; after a checkpoint the state file says was verified
	// whole, only the leaves after it are downloaded and checked.
	Tiles bool
	// TileCache, with Tiles, is a directory that keeps the verified full
	// tiles between runs (created if need be): a later run downloads only
	// the tiles that are new since.
	TileCache string
}

// VerifyProgress is how far a whole-log verification has come.
type VerifyProgress struct {
	// Checked is the events checked so far, Total the checkpoint's size.
	Checked, Total int64
	// Done is set on the last call.
	Done bool
}

// ProgressEvery is how many events pass between two Progress calls.
const ProgressEvery = 1000

// VerifyReport says what was verified and what did not match.
type VerifyReport struct {
	Checkpoint CheckpointRef
	// Note is the checkpoint as served, with cosignatures.
	Note string
	// Witnesses are the trusted witnesses whose cosignatures verified.
	Witnesses []string
	// ConsistentWith lists the earlier tree sizes proved to be prefixes of
	// the checkpoint.
	ConsistentWith []int64
	EventsChecked  int64
	// FirstChecked is the first leaf whose event was checked: 0, or with
	// Tiles the end of the log a previous run verified whole.
	FirstChecked int64
	// Downloads counts the HTTP requests the verification made (with
	// Tiles: the checkpoint and the tiles not in the cache).
	Downloads    int64
	Findings     []Finding
	Warnings     []string
	StateUpdated bool
}

// OK reports whether everything verified.
func (r VerifyReport) OK() bool { return len(r.Findings) == 0 }

func (r *VerifyReport) find(kind translog.MismatchKind, leaf int64, format string, args ...any) *Finding {
	if len(r.Findings) >= translog.MaxMismatches {
		return &Finding{}
	}
	r.Findings = append(r.Findings, Finding{Kind: kind, LeafIndex: leaf, Count: 1, Detail: fmt.Sprintf(format, args...)})
	return &r.Findings[len(r.Findings)-1]
}

// client talks to one audit API.
type client struct {
	base string
	http *http.Client
	// tiles, when set, serves consistency proofs from tlog-tiles.
	tiles torchwood.TileReader
}

func newClient(base string, hc *http.Client) client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return client{base: strings.TrimSuffix(base, "/"), http: hc}
}

func (c client) get(ctx context.Context, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		return nil, responseError(req, resp)
	}
	return resp, nil
}

// StatusError is a non-success answer of the audit API.
type StatusError struct {
	URL    string
	Status int
	Detail string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s: HTTP %d: %s", e.URL, e.Status, e.Detail)
}

func responseError(req *http.Request, resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	detail := strings.TrimSpace(string(b))
	var p problem
	if json.Unmarshal(b, &p) == nil && p.Title != "" {
		detail = p.Title
		if p.Detail != "" {
			detail += ": " + p.Detail
		}
	}
	return &StatusError{URL: req.URL.String(), Status: resp.StatusCode, Detail: detail}
}

func (c client) getJSON(ctx context.Context, path string, v any) error {
	resp, err := c.get(ctx, path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("%s%s: %w", c.base, path, err)
	}
	return nil
}

func (c client) getText(ctx context.Context, path string) ([]byte, error) {
	resp, err := c.get(ctx, path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("%s%s: %w", c.base, path, err)
	}
	return b, nil
}

// fetchCheckpoint gets a signed checkpoint and checks the log's signature
// and the trusted witnesses' cosignatures.
func (c client) fetchCheckpoint(ctx context.Context, path string, log note.Verifier, witnesses []note.Verifier) (translog.Checkpoint, []string, error) {
	msg, err := c.getText(ctx, path)
	if err != nil {
		return translog.Checkpoint{}, nil, err
	}
	n, cp, err := translog.OpenCheckpoint(msg, log, witnesses...)
	if err != nil {
		return cp, nil, &signatureError{err: err}
	}
	var names []string
	for _, s := range n.Sigs {
		for _, w := range witnesses {
			// A witness counts once, whichever form it cosigned in.
			if s.Name == w.Name() && s.Hash == w.KeyHash() && !slices.Contains(names, s.Name) {
				names = append(names, s.Name)
			}
		}
	}
	return cp, names, nil
}

type signatureError struct{ err error }

func (e *signatureError) Error() string { return e.err.Error() }
func (e *signatureError) Unwrap() error { return e.err }

// Verify checks the log at cfg.BaseURL against the pinned key and what
// was verified before: the latest checkpoint's signature (and witnesses'),
// its consistency with every checkpoint in the state file, and every event
// (or one stream's events) against it. It returns the report and, when
// anything failed, an error wrapping ErrVerificationFailed; the state file
// is updated only when everything verified. Other errors (network, a
// server that answers nonsense) leave the state file alone too.
func Verify(ctx context.Context, cfg VerifyConfig) (rep VerifyReport, err error) {
	log, err := translog.LoadVerifier(cfg.VerifierKey)
	if err != nil {
		return rep, err
	}
	var witnesses []note.Verifier
	for _, k := range cfg.WitnessKeys {
		ws, err := witnessVerifiers(k)
		if err != nil {
			return rep, fmt.Errorf("witness key: %w", err)
		}
		witnesses = append(witnesses, ws...)
	}
	if cfg.RequireWitnesses > len(cfg.WitnessKeys) {
		return rep, fmt.Errorf("audit: %d witnesses required, %d witness keys given", cfg.RequireWitnesses, len(cfg.WitnessKeys))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	st, seen, err := loadState(cfg.StateFile, log)
	if err != nil {
		return rep, err
	}
	origin := cmp.Or(cfg.Origin, st.Origin)
	counter := &countingTransport{}
	hc := counter.wrap(cfg.HTTPClient)
	defer func() { rep.Downloads = counter.n.Load() }()
	c := newClient(cfg.BaseURL, hc)
	tiles := cfg.Tiles && cfg.Stream == ""
	if tiles {
		if c.tiles, err = newTileReader(c, cfg.TileCache); err != nil {
			return rep, err
		}
	}

	path := "/checkpoint"
	switch {
	case cfg.RequireWitnesses > 0:
		// Only this route picks the latest checkpoint enough witnesses
		// cosigned; the tiles serve its (older) tree all the same.
		path += "?cosigned=" + strconv.Itoa(cfg.RequireWitnesses)
	case tiles:
		path = TilesPrefix + "/checkpoint"
	}
	cp, names, err := c.fetchCheckpoint(ctx, path, log, witnesses)
	var sigErr *signatureError
	if errors.As(err, &sigErr) {
		rep.find(KindSignature, -1, "the checkpoint is not validly signed by the pinned key %s: %v", log.Name(), sigErr.err)
		return rep, fmt.Errorf("%w: %v", ErrVerificationFailed, sigErr.err)
	}
	if err != nil {
		return rep, err
	}
	rep.Checkpoint, rep.Note, rep.Witnesses = refOf(cp), cp.Note, names
	if origin != "" && cp.Origin != origin {
		rep.find(KindSignature, -1, "the checkpoint is of log %q, not %q", cp.Origin, origin)
	}
	if len(names) < cfg.RequireWitnesses {
		rep.find(KindWitness, -1, "checkpoint %d is cosigned by %d trusted witnesses (%s), %d required",
			cp.TreeSize, len(names), strings.Join(names, ", "), cfg.RequireWitnesses)
	}
	if err := c.checkConsistency(ctx, &rep, seen, cp); err != nil {
		return rep, err
	}
	var verified int64
	switch {
	case cfg.Stream != "":
		err = c.verifyStream(ctx, &rep, cp, cfg.Stream)
	case tiles:
		err = c.verifyTiles(ctx, &rep, cp, incrementalStart(st, rep.ConsistentWith, cp), cfg.Progress)
		verified = cp.TreeSize
	default:
		err = c.verifyAll(ctx, &rep, cp, cfg.Progress)
		verified = cp.TreeSize
	}
	if err != nil {
		return rep, err
	}
	if !rep.OK() {
		return rep, fmt.Errorf("%w: %d findings", ErrVerificationFailed, len(rep.Findings))
	}
	if err := st.remember(cfg.StateFile, cp, cfg.VerifierKey, cfg.Now(), verified); err != nil {
		return rep, err
	}
	rep.StateUpdated = cfg.StateFile != ""
	return rep, nil
}

// checkConsistency proves every checkpoint seen before to be a prefix of
// cp (with the server's consistency proofs, checked here).
func (c client) checkConsistency(ctx context.Context, rep *VerifyReport, seen []translog.Checkpoint, cp translog.Checkpoint) error {
	for _, old := range seen {
		switch {
		case old.TreeSize == cp.TreeSize:
			if old.RootHash != cp.RootHash {
				rep.find(KindInconsistent, -1, "two signed checkpoints of size %d with different roots: %s before, %s now", cp.TreeSize, old.RootHash, cp.RootHash).TreeSize = old.TreeSize
				continue
			}
		case old.TreeSize < cp.TreeSize:
			ok, err := c.proveConsistent(ctx, old, cp)
			if err != nil {
				return err
			}
			if !ok {
				rep.find(KindInconsistent, -1, "checkpoint %d (root %s, seen before) is not a prefix of checkpoint %d (root %s): the log was rewritten",
					old.TreeSize, old.RootHash, cp.TreeSize, cp.RootHash).TreeSize = old.TreeSize
				continue
			}
		default:
			ok, err := c.proveConsistent(ctx, cp, old)
			if err != nil || !ok {
				rep.find(KindRollback, -1, "checkpoint %d was seen before, but the log now offers only %d leaves and does not prove it contains them",
					old.TreeSize, cp.TreeSize).TreeSize = old.TreeSize
				continue
			}
			// The smaller tree is a prefix, but the log no longer serves what
			// it signed before: entries after it may have been removed. That
			// is a rollback, whatever the reason; a lagging replica must not
			// be verified against.
			rep.find(KindRollback, -1, "checkpoint %d was seen before, but the log now serves only checkpoint %d: it went backwards",
				old.TreeSize, cp.TreeSize).TreeSize = old.TreeSize
			continue
		}
		rep.ConsistentWith = append(rep.ConsistentWith, old.TreeSize)
	}
	return nil
}

// proveConsistent asks for a consistency proof of old in new and checks it.
// A proof the server cannot or will not give is a failed proof.
func (c client) proveConsistent(ctx context.Context, old, new translog.Checkpoint) (bool, error) {
	if c.tiles != nil {
		return c.proveConsistentFromTiles(ctx, old, new)
	}
	var p ConsistencyProof
	err := c.getJSON(ctx, fmt.Sprintf("/proof/consistency?old=%d&new=%d", old.TreeSize, new.TreeSize), &p)
	var se *StatusError
	if errors.As(err, &se) && se.Status < 500 {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	proof, err := parseHashes(p.Proof)
	if err != nil {
		return false, nil
	}
	return tlog.CheckTree(proof, new.TreeSize, new.RootHash, old.TreeSize, old.RootHash) == nil, nil
}

// verifyAll downloads the whole log at cp and checks every event: its
// place, its bytes against its leaf, and all leaves against the root. At
// the first break in leaf order (a leaf repeated, out of order, skipped or
// beyond the checkpoint) it reports that one finding and stops reading:
// nothing after it can be placed in the tree, and a server that repeats
// itself could otherwise keep the download going for ever.
func (c client) verifyAll(ctx context.Context, rep *VerifyReport, cp translog.Checkpoint, progress func(VerifyProgress)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the download when the checker stops early
	resp, err := c.get(ctx, fmt.Sprintf("/events.ndjson?checkpoint=%d", cp.TreeSize))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 1<<20), 1<<30)
	if !sc.Scan() {
		rep.find(KindIncomplete, -1, "the export is empty: %v", sc.Err())
		return nil
	}
	var head ExportHeader
	if err := json.Unmarshal(sc.Bytes(), &head); err != nil || head.Checkpoint.TreeSize != cp.TreeSize || head.Checkpoint.RootHash != cp.RootHash.String() {
		rep.find(KindIncomplete, -1, "the export does not say it is of checkpoint %d", cp.TreeSize)
		return nil
	}
	v := newLeafChecker(rep, cp)
	report := func(done bool) {
		if progress != nil {
			progress(VerifyProgress{Checked: rep.EventsChecked, Total: cp.TreeSize, Done: done})
		}
	}
	var end *ExportEnd
	for sc.Scan() {
		line := sc.Bytes()
		if end != nil {
			rep.find(KindIncomplete, -1, "lines after the end of the export")
			break
		}
		if bytes.HasPrefix(line, []byte(`{"end":`)) {
			var e struct {
				End ExportEnd `json:"end"`
			}
			if err := json.Unmarshal(line, &e); err != nil {
				rep.find(KindIncomplete, -1, "malformed end line: %v", err)
				break
			}
			end = &e.End
			continue
		}
		var e Event
		if err := json.Unmarshal(line, &e); err != nil {
			rep.find(KindIncomplete, v.next, "malformed line after leaf %d: %v", v.next-1, err)
			break
		}
		if !v.check(e) {
			report(true)
			v.finishBroken()
			return nil
		}
		if rep.EventsChecked%ProgressEvery == 0 {
			report(false)
		}
	}
	report(true)
	if err := sc.Err(); err != nil {
		return fmt.Errorf("audit: download: %w", err)
	}
	if end == nil {
		rep.find(KindIncomplete, v.next, "the export ended after %d events, without its end line", v.next)
	} else if end.Events != v.next {
		rep.find(KindIncomplete, -1, "the export's end line counts %d events, it held %d", end.Events, v.next)
	}
	v.finish()
	return nil
}

// leafChecker checks served events in log order against a checkpoint.
type leafChecker struct {
	rep     *VerifyReport
	cp      translog.Checkpoint
	next    int64                 // the leaf index expected next
	claimed translog.CompactRange // the leaf hashes the server says were logged
	// positions of the present events, to find moved ones.
	positions []eventstore.Position
	leaves    []int64
	ids       []string
	// missing holds the missing events since the last present one: if
	// nothing present follows, the log was truncated.
	missing []Event
}

func newLeafChecker(rep *VerifyReport, cp translog.Checkpoint) *leafChecker {
	return &leafChecker{rep: rep, cp: cp}
}

// check checks the next served event. It returns false, having reported
// it, when the event breaks the leaf order: the caller stops there.
func (v *leafChecker) check(e Event) bool {
	switch {
	case e.LeafIndex < v.next:
		f := v.rep.find(KindOrder, e.LeafIndex, "the export serves leaf %d again after leaf %d: it repeats or reorders the log; the download was stopped there", e.LeafIndex, v.next-1)
		f.EventID, _ = uuid.Parse(e.EventID)
		f.Stream, f.Version = e.Stream, e.Version
		return false
	case e.LeafIndex >= v.cp.TreeSize:
		v.rep.find(KindIncomplete, e.LeafIndex, "the export serves leaf %d after leaf %d, but checkpoint %d has only %d leaves; the download was stopped there",
			e.LeafIndex, v.next-1, v.cp.TreeSize, v.cp.TreeSize)
		return false
	case e.LeafIndex > v.next:
		f := v.rep.find(KindGap, v.next, "the export skips %d leaves from leaf %d on (it serves leaf %d after leaf %d); the download was stopped there",
			e.LeafIndex-v.next, v.next, e.LeafIndex, v.next-1)
		f.Count = e.LeafIndex - v.next
		return false
	}
	v.next++
	v.rep.EventsChecked++
	claimed, err := tlog.ParseHash(e.LeafHash)
	if err != nil {
		v.rep.find(KindIncomplete, e.LeafIndex, "malformed leaf hash %q", e.LeafHash)
		return true
	}
	v.claimed.Push(claimed)
	if e.Missing {
		v.missing = append(v.missing, e)
		return true
	}
	for _, m := range v.missing {
		checkEvent(v.rep, m, tlog.Hash{})
	}
	v.missing = v.missing[:0]
	finding := checkEvent(v.rep, e, claimed)
	if !e.Missing && finding == "" {
		pos, _ := eventstore.ParsePosition(e.Position)
		v.positions = append(v.positions, pos)
		v.leaves = append(v.leaves, e.LeafIndex)
		v.ids = append(v.ids, e.EventID)
	}
	return true
}

// checkEvent re-hashes a served event and compares it with its leaf hash.
func checkEvent(rep *VerifyReport, e Event, leaf tlog.Hash) translog.MismatchKind {
	set := func(f *Finding) {
		f.EventID, _ = uuid.Parse(e.EventID)
		f.Stream, f.Version = e.Stream, e.Version
	}
	if e.Missing {
		set(rep.find(translog.KindMissing, e.LeafIndex, "the log has this event, the server no longer has it: it was deleted"))
		return translog.KindMissing
	}
	r, err := e.Recorded()
	if err != nil {
		set(rep.find(KindIncomplete, e.LeafIndex, "%v", err))
		return KindIncomplete
	}
	if h := translog.LeafHash(r); h != leaf {
		set(rep.find(translog.KindChanged, e.LeafIndex, "the event as served hashes to %s, the log has %s: it was changed after it was logged", h, leaf))
		return translog.KindChanged
	}
	return ""
}

// finishBroken ends a check stopped at a break in leaf order: what was
// checked before it stands (missing and moved events), but nothing can be
// said of the tree or its end.
func (v *leafChecker) finishBroken() {
	for _, m := range v.missing {
		checkEvent(v.rep, m, tlog.Hash{})
	}
	v.missing = v.missing[:0]
	v.moved()
}

func (v *leafChecker) finish() {
	if len(v.missing) > 0 {
		first := v.missing[0]
		f := v.rep.find(translog.KindTruncated, first.LeafIndex, "the server's events end before the log: leaves %d to %d have no events", first.LeafIndex, v.next-1)
		f.Count = int64(len(v.missing))
		f.EventID, _ = uuid.Parse(first.EventID)
		f.Stream, f.Version = first.Stream, first.Version
	}
	if v.next != v.cp.TreeSize {
		v.rep.find(translog.KindTruncated, v.next, "the export holds %d leaves, checkpoint %d has %d", v.next, v.cp.TreeSize, v.cp.TreeSize).Count = v.cp.TreeSize - v.next
	}
	if v.next == v.cp.TreeSize && v.claimed.Root() != v.cp.RootHash {
		v.rep.find(KindRoot, -1, "the leaf hashes served hash to %s, the signed checkpoint %d says %s: the server's leaves are not the logged ones",
			v.claimed.Root(), v.cp.TreeSize, v.cp.RootHash)
	}
	v.moved()
}

func (v *leafChecker) moved() {
	moved := translog.Displaced(len(v.positions), func(i, j int) bool { return v.positions[i].Less(v.positions[j]) })
	for _, i := range moved {
		f := v.rep.find(translog.KindMoved, v.leaves[i], "the store has this event at %s, out of the log's order", v.positions[i])
		f.EventID, _ = uuid.Parse(v.ids[i])
	}
}

// verifyStream checks one stream's history at cp, page by page: every
// event with its inclusion proof, and its versions without gaps.
func (c client) verifyStream(ctx context.Context, rep *VerifyReport, cp translog.Checkpoint, stream string) error {
	var version int64
	var positions []eventstore.Position
	var present []Event // only the fields a finding names
	var current *int64
	last := int64(-1) // the leaf index of the last event seen
	for cursor := ""; ; {
		path := fmt.Sprintf("/streams/%s/history?checkpoint=%d", url.PathEscape(stream), cp.TreeSize)
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		var h StreamHistory
		if err := c.getJSON(ctx, path, &h); err != nil {
			return err
		}
		if h.Checkpoint.TreeSize != cp.TreeSize || h.Checkpoint.RootHash != cp.RootHash.String() {
			rep.find(KindIncomplete, -1, "the history is not of checkpoint %d", cp.TreeSize)
			return nil
		}
		current = h.CurrentVersion
		for _, e := range h.Items {
			if e.LeafIndex <= last || e.LeafIndex >= cp.TreeSize {
				// Out of order, repeated, or outside the checkpoint: the
				// pages cannot be trusted to end.
				rep.find(KindIncomplete, e.LeafIndex, "the history of %q serves leaf %d after leaf %d, in a checkpoint of %d leaves", stream, e.LeafIndex, last, cp.TreeSize)
				return nil
			}
			last = e.LeafIndex
			rep.EventsChecked++
			if e.Stream != stream {
				rep.find(KindIncomplete, e.LeafIndex, "the history of %q holds an event of %q", stream, e.Stream)
				continue
			}
			leaf, err := tlog.ParseHash(e.LeafHash)
			if err != nil {
				rep.find(KindIncomplete, e.LeafIndex, "malformed leaf hash %q", e.LeafHash)
				continue
			}
			proof, err := parseHashes(e.Proof)
			if err != nil || tlog.CheckRecord(proof, cp.TreeSize, cp.RootHash, e.LeafIndex, leaf) != nil {
				// Whatever the event says, it is not the logged leaf.
				f := rep.find(KindProof, e.LeafIndex, "the inclusion proof of leaf %d in checkpoint %d does not verify", e.LeafIndex, cp.TreeSize)
				f.EventID, _ = uuid.Parse(e.EventID)
				continue
			}
			if e.Version != version+1 {
				f := rep.find(KindGap, e.LeafIndex, "versions %d to %d of %s are not in the history", version+1, e.Version-1, stream)
				f.Count = e.Version - version - 1
			}
			version = e.Version
			if checkEvent(rep, e, leaf) == "" {
				pos, _ := eventstore.ParsePosition(e.Position)
				positions = append(positions, pos)
				present = append(present, Event{LeafIndex: e.LeafIndex, EventID: e.EventID, Stream: e.Stream, Version: e.Version})
			}
		}
		if h.NextCursor == nil {
			break
		}
		if len(h.Items) == 0 {
			rep.find(KindIncomplete, -1, "the history of %q offers a next page after an empty one", stream)
			return nil
		}
		cursor = *h.NextCursor
	}
	for _, i := range translog.Displaced(len(positions), func(i, j int) bool { return positions[i].Less(positions[j]) }) {
		e := present[i]
		f := rep.find(translog.KindMoved, e.LeafIndex, "the store has this event at %s, out of the stream's logged order", positions[i])
		f.EventID, _ = uuid.Parse(e.EventID)
		f.Stream, f.Version = e.Stream, e.Version
	}
	if current != nil && *current < version {
		rep.find(translog.KindTruncated, -1, "the store says %s is at version %d, the log has version %d", stream, *current, version)
	}
	return nil
}
