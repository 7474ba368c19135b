package projections_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"promiseledger/commands"
	"promiseledger/domain"
	"promiseledger/eventstore"
	"promiseledger/eventstore/postgres"
	"promiseledger/eventstore/postgres/pgtest"
	"promiseledger/projections"
	"promiseledger/projections/pgtext"
)

// loadEveryEventType writes, through the command handlers, a small valid
// history that records every current event type at least once.
func (e *env) loadEveryEventType() {
	fx := e.loadRatingFixture()
	t, ctx := e.t, context.Background()
	do := mustDo(t)
	hd := func(date, reason string) commands.Header {
		e.at(date)
		return withReason(admin(date), reason)
	}
	asMember := func(id, date string) commands.Header {
		e.at(date)
		return member(id, date)
	}
	do(e.cmd.ActivateRoadmap.Handle(ctx, commands.ActivateRoadmap{Header: hd("2021-07-05", ""), RoadmapID: fx.roadmap}))
	do(e.cmd.AssignRoadmapResponsible.Handle(ctx, commands.AssignRoadmapResponsible{Header: hd("2021-07-05", ""), RoadmapID: fx.roadmap,
		PersonID: "deputy-A", Role: domain.RoleDeputy, DisplayName: "Deputy A"}))
	do(e.cmd.AssignRoadmapResponsible.Handle(ctx, commands.AssignRoadmapResponsible{Header: hd("2021-07-05", ""), RoadmapID: fx.roadmap,
		PersonID: "official-1", Role: domain.RoleOfficial, DisplayName: "Official One"}))
	do(e.cmd.UnassignRoadmapResponsible.Handle(ctx, commands.UnassignRoadmapResponsible{Header: hd("2021-07-06", "moved to another post"),
		RoadmapID: fx.roadmap, PersonID: "official-1"}))
	do(e.cmd.AssignIndicatorResponsible.Handle(ctx, commands.AssignIndicatorResponsible{Header: hd("2021-07-06", ""), IndicatorID: fx.i3,
		PersonID: "official-2"}))
	do(e.cmd.ChangeIndicatorStatus.Handle(ctx, commands.ChangeIndicatorStatus{Header: hd("2021-07-06", ""), IndicatorID: fx.i3,
		To: domain.StatusInProgress}))
	do(e.cmd.RetargetIndicator.Handle(ctx, commands.RetargetIndicator{Header: hd("2021-07-06", "the work takes longer"), IndicatorID: fx.i4,
		Deadline: ptr(domain.NewDate(2022, 6, 30))}))
	ev := domain.Evidence{URL: "https://arshaly.example.kz/act/4", Description: "acceptance act"}
	r := do(e.cmd.ReportProgress.Handle(ctx, commands.ReportProgress{Header: hd("2021-07-07", ""), IndicatorID: fx.i4, Done: true, Evidence: ev}))
	correction := hd("2021-07-08", "the act was not signed")
	correction.EffectiveAt = at9("2021-07-07")
	do(e.cmd.CorrectReport.Handle(ctx, commands.CorrectReport{Header: correction, IndicatorID: fx.i4,
		Corrects: r.EventIDs[0].String(), Done: false, Evidence: ev}))

	council := do(e.cmd.RegisterCouncil.Handle(ctx, commands.RegisterCouncil{Header: hd("2021-07-10", ""), TerritoryKATO: districtKATO,
		Level: domain.CouncilDistrict, Name: text("Arshaly public council")})).ID
	for _, m := range []commands.JoinCouncil{
		{CouncilID: council, MemberID: "member-1", Role: domain.MemberChair, DisplayName: "Member One"},
		{CouncilID: council, MemberID: "member-2", Role: domain.MemberMember, DisplayName: "Member Two"},
	} {
		m.Header = hd("2021-07-10", "")
		do(e.cmd.JoinCouncil.Handle(ctx, m))
	}
	body := domain.StateBody{ID: "akimat-113200000", Name: text("Arshaly akimat")}
	draft := func(title string) string {
		return do(e.cmd.DraftRecommendation.Handle(ctx, commands.DraftRecommendation{Header: asMember("member-1", "2021-07-11"), CouncilID: council,
			Title: text(title), Proposal: text(title + ": proposal"), Addressee: body,
			Links: domain.RecommendationLinks{RoadmapIDs: []string{fx.roadmap}, Topics: []string{"roads"}}})).ID
	}
	rec, gone := draft("Repair the roads"), draft("Duplicate")
	for _, id := range []string{rec, gone} {
		do(e.cmd.SubmitRecommendation.Handle(ctx, commands.SubmitRecommendation{Header: asMember("member-1", "2021-07-12"), RecommendationID: id,
			ResponseDeadline: domain.NewDate(2021, 8, 31)}))
	}
	do(e.cmd.WithdrawRecommendation.Handle(ctx, commands.WithdrawRecommendation{Header: withReason(asMember("member-1", "2021-07-13"), "duplicate"),
		RecommendationID: gone}))
	do(e.cmd.AcknowledgeRecommendation.Handle(ctx, commands.AcknowledgeRecommendation{Header: hd("2021-07-13", ""), RecommendationID: rec, Reference: "17/5"}))
	ans := do(e.cmd.AnswerRecommendation.Handle(ctx, commands.AnswerRecommendation{Header: hd("2021-07-20", ""), RecommendationID: rec,
		Decision: domain.DecisionAccepted, Reply: "Accepted.", Evidence: letter}))
	fix := hd("2021-07-21", "partly, in fact")
	fix.EffectiveAt = at9("2021-07-20")
	do(e.cmd.CorrectRecommendationAnswer.Handle(ctx, commands.CorrectRecommendationAnswer{Header: fix,
		RecommendationID: rec, Corrects: ans.EventIDs[0].String(), Decision: domain.DecisionPartiallyAccepted, Reply: "Partly accepted.", Evidence: letter}))
	do(e.cmd.JudgeRecommendation.Handle(ctx, commands.JudgeRecommendation{Header: asMember("member-2", "2021-07-25"), RecommendationID: rec,
		Verdict: domain.VerdictNotImplemented, Comment: "Nothing was repaired."}))
	do(e.cmd.AttachDissent.Handle(ctx, commands.AttachDissent{Header: asMember("member-2", "2021-07-25"), RecommendationID: rec, MemberID: "member-2",
		Opinion: "Asks for too little."}))
	var assessments []string
	for range 2 {
		a := do(e.cmd.RecordAssessment.Handle(ctx, commands.RecordAssessment{Header: asMember("member-1", "2021-07-26"), CouncilID: council,
			IndicatorID: fx.i1, Position: domain.PositionDisagree, Comment: "The report does not show the work.", Evidence: letter}))
		assessments = append(assessments, a.ID)
	}
	reply := hd("2021-07-27", "")
	reply.Actor = commands.Actor{ID: "deputy-A", Role: "deputy"}
	do(e.cmd.ReplyToAssessment.Handle(ctx, commands.ReplyToAssessment{Header: reply, AssessmentID: assessments[0], RespondentID: "deputy-A",
		Reply: "The measure was done in May.", Evidence: ev}))
	do(e.cmd.WithdrawAssessment.Handle(ctx, commands.WithdrawAssessment{Header: withReason(asMember("member-1", "2021-07-27"), "recorded twice"),
		AssessmentID: assessments[1]}))
	do(e.cmd.LeaveCouncil.Handle(ctx, commands.LeaveCouncil{Header: hd("2021-07-28", "moved away"), CouncilID: council, MemberID: "member-2"}))

	do(e.cmd.LeaveFaction.Handle(ctx, commands.LeaveFaction{Header: hd("2021-07-28", "left the party"), DeputyID: "deputy-D"}))
	do(e.cmd.ReleaseDeputyResponsibility.Handle(ctx, commands.ReleaseDeputyResponsibility{Header: hd("2021-07-28", "handed over"),
		DeputyID: "deputy-C", Subject: domain.ResponsibleForIndicator, SubjectID: fx.i5}))
	recount := hd("2021-07-29", "miscounted")
	recount.EffectiveAt = at9("2021-07-02")
	do(e.cmd.CorrectDeputyActivity.Handle(ctx, commands.CorrectDeputyActivity{Header: recount, DeputyID: "deputy-A",
		Corrects: fx.reportA, Counts: domain.ActivityCounts{ReceptionsHeld: 11, PeopleReceived: 80, AppealsHandled: 40,
			Outcomes: domain.AppealOutcomes{Positive: 30, Explained: 6, Rejected: 2, Pending: 2}}}))
	ratingReply := hd("2021-07-29", "")
	ratingReply.Actor = commands.Actor{ID: "deputy-A", Role: "deputy"}
	do(e.cmd.ReplyToRating.Handle(ctx, commands.ReplyToRating{Header: ratingReply, DeputyID: "deputy-A", Method: "faction-rating", Version: 1,
		Period: domain.Period{Start: domain.NewDate(2021, 4, 1), End: domain.NewDate(2021, 6, 30)}, Reply: "Receptions were suspended in May.", Evidence: ev}))
	do(e.cmd.CloseRoadmap.Handle(ctx, commands.CloseRoadmap{Header: hd("2021-07-30", "the term ended"), RoadmapID: fx.roadmap2}))
}

// readLog reads the whole log of a store.
func readLog(t *testing.T, s eventstore.Store) []eventstore.Recorded {
	t.Helper()
	var out []eventstore.Recorded
	pos := eventstore.Start
	for {
		var page []eventstore.Recorded
		if ps, ok := s.(*postgres.Store); ok {
			page = pgtest.ReadAll(t, ps, pos, 1000)
		} else {
			var err error
			if page, err = s.ReadAll(context.Background(), pos, 1000); err != nil {
				t.Fatal(err)
			}
		}
		if len(page) == 0 {
			return out
		}
		out = append(out, page...)
		pos = page[len(page)-1].Position
	}
}

// asV0 rewrites the first progress report into the shape the retired
// indicator.progress_reported.v0 had (the same fact: its report id and
// as-of time come from the metadata).
func asV0(t *testing.T, log []eventstore.Recorded) {
	t.Helper()
	for i, r := range log {
		if r.Type != domain.TypeProgressReported {
			continue
		}
		var v1 domain.ProgressReported
		if err := json.Unmarshal(r.Data, &v1); err != nil {
			t.Fatal(err)
		}
		data, err := json.Marshal(map[string]any{"indicator_id": v1.IndicatorID, "value": v1.Value, "done": v1.Done,
			"evidence_url": v1.Evidence.URL, "evidence_sha256": v1.Evidence.SHA256})
		if err != nil {
			t.Fatal(err)
		}
		log[i].Type, log[i].Data = domain.TypeProgressReportedV0, data
		return
	}
	t.Fatal("no progress report to turn into v0")
}

// hostile is text an event may carry that PostgreSQL cannot hold as it is,
// or that is otherwise unkind to a read model. frag is how it is written
// inside a JSON string in the stored bytes; shown is what a read model
// shows for it.
type hostile struct {
	name, frag, shown string
	// once: put it only into the first event of each type at each place
	// (and into equal values elsewhere, so ids still match): the 1 MiB
	// strings would otherwise make the log gigabytes.
	once bool
}

func hostiles() []hostile {
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = alphabet[rng.IntN(len(alphabet))] // does not compress below a btree page
	}
	return []hostile{
		{name: "NUL", frag: `a\u0000b`, shown: "a␀0b"},
		{name: "invalid UTF-8", frag: "\xff\xfe\xc0\xaf", shown: "␀xFF␀xFE␀xC0␀xAF"},
		{name: "lone surrogates", frag: `\ud800x\udfff`, shown: "␀uD800x␀uDFFF"},
		{name: "bidi and C1 controls", frag: "\u202eevil\u2066\u0085", shown: "\u202eevil\u2066\u0085"},
		{name: "the escape mark", frag: "␀0", shown: "␀␀0"},
		{name: "1 MiB", frag: string(big), shown: string(big[:64]), once: true},
	}
}

const hostileToken = "\ue000HOSTILE\ue001"

// mutate puts h into every string of every event — data and metadata —
// that the domain's stored-event rules still accept with it (identifiers,
// kinds and dates refuse it, and a projector would rightly stop on them).
// It returns, per event type, how many strings carry h.
func mutate(t *testing.T, log []eventstore.Recorded, h hostile) map[string]int {
	t.Helper()
	carried := map[string]int{}
	seen := map[string]bool{}    // type and path that got h (once)
	changed := map[string]bool{} // data values that got h (once)
	kept := map[string]bool{}    // data values left as they were (once)
	for i := range log {
		r := &log[i]
		for _, part := range []string{"data", "metadata"} {
			doc := r.Data
			if part == "metadata" {
				doc = r.Metadata
			}
			var v any
			dec := json.NewDecoder(bytes.NewReader(doc))
			dec.UseNumber()
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
			var leaves []*string
			v = collect(v, &leaves, "")
			for _, leaf := range leaves {
				path, orig := splitLeaf(*leaf)
				key := r.Type + " " + part + path
				// Once: equal data values (ids above all) get h everywhere
				// or nowhere, so the history stays consistent.
				if h.once && part == "data" && (kept[orig] || seen[key] && !changed[orig]) ||
					h.once && part == "metadata" && seen[key] {
					*leaf = orig
					if part == "data" {
						kept[orig] = true
					}
					continue
				}
				*leaf = orig + hostileToken
				if !acceptedWith(t, *r, part, v) {
					*leaf = orig
					continue
				}
				seen[key] = true
				if part == "data" {
					changed[orig] = true
				}
				carried[r.Type]++
			}
			for _, leaf := range leaves {
				if strings.HasPrefix(*leaf, "\x00path:") {
					_, *leaf = splitLeaf(*leaf)
				}
			}
			out := encode(t, v)
			if part == "data" {
				r.Data = out
			} else {
				r.Metadata = out
			}
		}
	}
	return carried
}

// collect replaces every string of a decoded document with a pointer the
// caller may change; each starts as "\x00path:<path>\x00<value>".
func collect(v any, leaves *[]*string, path string) any {
	switch x := v.(type) {
	case string:
		s := "\x00path:" + path + "\x00" + x
		p := &s
		*leaves = append(*leaves, p)
		return p
	case []any:
		for i := range x {
			x[i] = collect(x[i], leaves, fmt.Sprintf("%s[]", path))
		}
	case map[string]any:
		for k := range x {
			x[k] = collect(x[k], leaves, path+"."+k)
		}
	}
	return v
}

func splitLeaf(s string) (path, value string) {
	rest, ok := strings.CutPrefix(s, "\x00path:")
	if !ok {
		return "", s
	}
	path, value, _ = strings.Cut(rest, "\x00")
	return path, value
}

// encode writes a document back, with h's token as it stands.
func encode(t *testing.T, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(unwrap(v)); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func unwrap(v any) any {
	switch x := v.(type) {
	case *string:
		_, s := splitLeaf(*x)
		return s
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = unwrap(x[i])
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k := range x {
			out[k] = unwrap(x[k])
		}
		return out
	}
	return v
}

// acceptedWith reports whether the domain's stored-event rules accept r
// with part replaced by v (the token standing for the hostile text).
func acceptedWith(t *testing.T, r eventstore.Recorded, part string, v any) bool {
	t.Helper()
	doc := encode(t, v)
	if part == "data" {
		r.Data = doc
	} else {
		r.Metadata = doc
	}
	_, _, err := domain.DecodeStored(r.Stream, r.Type, pgtext.JSON(r.Data), pgtext.JSON(r.Metadata))
	return err == nil
}

// TestAnythingTheStoreAcceptedEveryProjectorApplies: events appended
// straight to the store (as an older version, a direct insert or an import
// would), carrying NUL, invalid UTF-8, lone surrogates, bidi controls and
// 1 MiB strings in every string the domain's rules let through, in a valid
// history of every event type the codec reads: every projector reaches
// the head, and so does a rebuild of each. Read models show the text in
// pgtext's escaped form.
func TestAnythingTheStoreAcceptedEveryProjectorApplies(t *testing.T) {
	t.Parallel()
	scratch := newEnv(t)
	scratch.loadEveryEventType()
	base := readLog(t, scratch.store)
	asV0(t, base)
	var missing []string
	for _, typ := range domain.EventTypes() {
		if !slices.ContainsFunc(base, func(r eventstore.Recorded) bool { return r.Type == typ }) {
			missing = append(missing, typ)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("the history does not cover these event types; add them to loadEveryEventType: %v", missing)
	}
	for _, h := range hostiles() {
		t.Run(h.name, func(t *testing.T) {
			log := make([]eventstore.Recorded, len(base))
			copy(log, base)
			carried := mutate(t, log, h)
			for _, typ := range domain.EventTypes() {
				if carried[typ] == 0 {
					t.Errorf("no string of %s carries the hostile text", typ)
				}
			}
			for i := range log {
				log[i].Data = bytes.ReplaceAll(log[i].Data, []byte(hostileToken), []byte(h.frag))
				log[i].Metadata = bytes.ReplaceAll(log[i].Metadata, []byte(hostileToken), []byte(h.frag))
			}
			e := newEnv(t)
			for _, r := range log {
				_, err := e.store.Append(context.Background(), r.Stream, eventstore.Exactly(r.Version-1),
					[]eventstore.Event{{ID: r.ID, Type: r.Type, Data: r.Data, Metadata: r.Metadata}})
				if err != nil {
					t.Fatalf("append %s %s: %v", r.Stream, r.Type, err)
				}
			}
			start := time.Now()
			e.settle(1000, projections.All()...)
			atHead(t, e, "live")
			t.Logf("%d events, live projection %s", len(log), time.Since(start).Round(time.Millisecond))
			for _, p := range projections.All() {
				start := time.Now()
				if _, err := projections.Rebuild(context.Background(), e.db, e.store, p); err != nil {
					t.Fatalf("rebuild %s: %v", p.Name(), err)
				}
				t.Logf("rebuild %s %s", p.Name(), time.Since(start).Round(time.Millisecond))
			}
			e.settle(1000, projections.All()...)
			atHead(t, e, "rebuilt")
			var shown int
			if err := e.db.Get(&shown, `SELECT count(*) FROM rm_programs WHERE strpos(name->>'en', $1) > 0`, h.shown); err != nil {
				t.Fatal(err)
			}
			if shown == 0 {
				t.Errorf("rm_programs does not show %q in the escaped form %q", h.name, h.shown)
			}
		})
	}
}

func atHead(t *testing.T, e *env, when string) {
	t.Helper()
	st, err := projections.Statuses(context.Background(), e.db, e.store, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != len(projections.All()) {
		t.Fatalf("%s: %d projectors have a status, want %d", when, len(st), len(projections.All()))
	}
	for _, s := range st {
		if s.Stopped || s.LagEvents != 0 || s.LastError != "" {
			t.Errorf("%s: %s did not reach the head: %+v", when, s.Name, s)
		}
	}
}
