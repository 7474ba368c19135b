package councils

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"promiseledger/api/kernel"
	"promiseledger/api/kernel/kerneltest"
	"promiseledger/commands"
	"promiseledger/domain"
	"promiseledger/eventstore/memory"
)

// Fixed ids of the fuzz world.
const (
	fzCouncil   = "0190a6a4-5e2b-7c3d-8e4f-00000000c001"
	fzRec       = "0190a6a4-5e2b-7c3d-8e4f-00000000c002"
	fzAssess    = "0190a6a4-5e2b-7c3d-8e4f-00000000c003"
	fzProgram   = "0190a6a4-5e2b-7c3d-8e4f-00000000c004"
	fzRoadmap   = "0190a6a4-5e2b-7c3d-8e4f-00000000c005"
	fzIndicator = "0190a6a4-5e2b-7c3d-8e4f-00000000c006"
)

// fuzzRoute decodes a body with the package's own readCommand
// into the route's own body type and runs the command its handler runs.
// The routes' policies read the read models (PostgreSQL); the fuzz target
// leaves them out to run thousands of bodies a second on an in-memory store.
type fuzzRoute struct {
	seed string
	who  principal
	run  func(ctx context.Context, s *server, w http.ResponseWriter, r *http.Request, p principal) (commands.Result, error)
}

// decodeRun is the part of write between the policy and the command.
func decodeRun[T any, B commandBody[T]](run func(ctx context.Context, s *server, h commands.Header, b B) (commands.Result, error)) func(context.Context, *server, http.ResponseWriter, *http.Request, principal) (commands.Result, error) {
	return func(ctx context.Context, s *server, w http.ResponseWriter, r *http.Request, p principal) (commands.Result, error) {
		var body T
		h, err := readCommand[T, B](s, w, r, p, &body)
		if err != nil {
			return commands.Result{}, err
		}
		return run(ctx, s, h, &body)
	}
}

var (
	fzAdmin  = principal{actorID: "admin-1", role: RoleAdmin}
	fzMember = principal{actorID: "member-1", role: "council"}
	fzDeputy = principal{actorID: "deputy-1", role: "deputy"}
)

var fuzzRoutes = []fuzzRoute{
	{`{"territory_kato":"110000000","level":"regional","name":{"kk":"a","ru":"b","en":"c"}}`, fzAdmin,
		decodeRun(func(ctx context.Context, s *server, h commands.Header, b *registerCouncilBody) (commands.Result, error) {
			return s.cfg.Commands.RegisterCouncil.Handle(ctx, commands.RegisterCouncil{Header: h, ID: b.ID, TerritoryKATO: b.TerritoryKATO, Level: domain.CouncilLevel(b.Level), Name: b.Name})
		})},
	{`{"member_id":"member-3","role":"member","display_name":"Дана К."}`, fzAdmin,
		decodeRun(func(ctx context.Context, s *server, h commands.Header, b *joinCouncilBody) (commands.Result, error) {
			return s.cfg.Commands.JoinCouncil.Handle(ctx, commands.JoinCouncil{Header: h, CouncilID: fzCouncil, MemberID: b.MemberID, Role: domain.CouncilMemberRole(b.Role), DisplayName: b.DisplayName})
		})},
	{`{"reason":"moved away"}`, fzAdmin,
		decodeRun(func(ctx context.Context, s *server, h commands.Header, _ *reasonBody) (commands.Result, error) {
			return s.cfg.Commands.LeaveCouncil.Handle(ctx, commands.LeaveCouncil{Header: h, CouncilID: fzCouncil, MemberID: "member-2"})
		})},
	{`{"title":{"kk":"a","ru":"b","en":"c"},"proposal":{"kk":"a","ru":"b","en":"c"},"addressee":{"id":"akimat-110000000","name":{"kk":"a","ru":"b","en":"c"}},"links":{"topics":["food_prices"]}}`, fzMember,
		decodeRun(func(ctx context.Context, s *server, h commands.Header, b *draftBody) (commands.Result, error) {
			return s.cfg.Commands.DraftRecommendation.Handle(ctx, commands.DraftRecommendation{Header: h, ID: b.ID, CouncilID: fzCouncil, Title: b.Title, Proposal: b.Proposal, Addressee: b.Addressee, Links: b.Links})
		})},
	{`{"indicator_id":"` + fzIndicator + `","position":"disagree","comment":"a","evidence":{"url":"https://e.kz/a","description":"b"}}`, fzMember,
		decodeRun(func(ctx context.Context, s *server, h commands.Header, b *assessBody) (commands.Result, error) {
			return s.cfg.Commands.RecordAssessment.Handle(ctx, commands.RecordAssessment{Header: h, ID: b.ID, CouncilID: fzCouncil, IndicatorID: b.IndicatorID, ReportID: b.ReportID, Position: domain.AssessmentPosition(b.Position), Comment: b.Comment, Evidence: b.Evidence})
		})},
	{`{"reference":"a"}`, fzAdmin,
		decodeRun(func(ctx context.Context, s *server, h commands.Header, b *acknowledgeBody) (commands.Result, error) {
			return s.cfg.Commands.AcknowledgeRecommendation.Handle(ctx, commands.AcknowledgeRecommendation{Header: h, RecommendationID: fzRec, Reference: b.Reference})
		})},
	{`{"decision":"accepted","reply":"a","evidence":{"url":"https://e.kz/a","description":"b"}}`, fzAdmin,
		decodeRun(func(ctx context.Context, s *server, h commands.Header, b *answerBody) (commands.Result, error) {
			return s.cfg.Commands.AnswerRecommendation.Handle(ctx, commands.AnswerRecommendation{Header: h, RecommendationID: fzRec, Decision: domain.AnswerDecision(b.Decision), Reply: b.Reply, Evidence: b.Evidence})
		})},
	{`{"reason":"a"}`, fzMember,
		decodeRun(func(ctx context.Context, s *server, h commands.Header, _ *reasonBody) (commands.Result, error) {
			return s.cfg.Commands.WithdrawRecommendation.Handle(ctx, commands.WithdrawRecommendation{Header: h, RecommendationID: fzRec})
		})},
	{`{"opinion":"a long enough opinion"}`, fzMember,
		decodeRun(func(ctx context.Context, s *server, h commands.Header, b *dissentBody) (commands.Result, error) {
			return s.cfg.Commands.AttachDissent.Handle(ctx, commands.AttachDissent{Header: h, RecommendationID: fzRec, MemberID: fzMember.actorID, Opinion: b.Opinion})
		})},
	{`{"reply":"a","evidence":{"url":"https://e.kz/a","description":"b"}}`, fzDeputy,
		decodeRun(func(ctx context.Context, s *server, h commands.Header, b *replyBody) (commands.Result, error) {
			return s.cfg.Commands.ReplyToAssessment.Handle(ctx, commands.ReplyToAssessment{Header: h, AssessmentID: fzAssess, RespondentID: fzDeputy.actorID, Reply: b.Reply, Evidence: b.Evidence})
		})},
	{`{"deputy_id":"deputy-2","display_name":"Ерлан Беков","assembly":{"kind":"maslikhat","territory_kato":"110000000","level":"regional"}}`, fzAdmin,
		decodeRun(func(ctx context.Context, s *server, h commands.Header, b *registerDeputyBody) (commands.Result, error) {
			return s.cfg.Commands.RegisterDeputy.Handle(ctx, commands.RegisterDeputy{Header: h, DeputyID: b.DeputyID, DisplayName: b.DisplayName, Assembly: b.Assembly})
		})},
	{`{"method":"m","title":{"kk":"a","ru":"b","en":"c"},"summary":"a","effective_from":"2021-01-01","formula":{"period":{"kind":"quarter","from":"2021-01-01"},"components":[{"key":"r","title":{"kk":"a","ru":"b","en":"c"},"source":"receptions_held","weight":1,"normalization":{"kind":"ratio_to_target","target":10}}],"minimum":{"faction_days":1,"components":1,"peers":1}}}`, fzAdmin,
		decodeRun(func(ctx context.Context, s *server, h commands.Header, b *publishMethodBody) (commands.Result, error) {
			return s.cfg.Commands.PublishRatingMethod.Handle(ctx, commands.PublishRatingMethod{Header: h, Method: b.Method, Version: b.Version, Title: b.Title, Summary: b.Summary, Formula: b.Formula, EffectiveFrom: b.EffectiveFrom})
		})},
}

// fuzzWorld is a council with two members, a submitted recommendation, an
// assessment deputy-1 may reply to, and deputy-1, on an in-memory store.
func fuzzWorld(t *testing.T) (*server, *memory.Store) {
	t.Helper()
	store, cmd := kerneltest.MemoryCommands(t, time.Date(2021, 3, 1, 9, 0, 0, 0, time.UTC))
	ctx := context.Background()
	h := commands.Header{Actor: commands.Actor{ID: "admin-1", Role: RoleAdmin}, EffectiveAt: time.Date(2021, 2, 1, 0, 0, 0, 0, time.UTC)}
	m := commands.Header{Actor: commands.Actor{ID: "member-1", Role: "council"}}
	text := domain.Text{KK: "a", RU: "b", EN: "c"}
	period := domain.Period{Start: domain.NewDate(2021, 1, 1), End: domain.NewDate(2025, 12, 31)}
	must := func(_ commands.Result, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(cmd.RegisterTerritory.Handle(ctx, commands.RegisterTerritory{Header: h, KATO: "0", Name: text, Kind: domain.TerritoryRepublic}))
	must(cmd.RegisterTerritory.Handle(ctx, commands.RegisterTerritory{Header: h, KATO: "110000000", Name: text, Kind: domain.TerritoryRegion, ParentKATO: "0"}))
	must(cmd.RegisterProgram.Handle(ctx, commands.RegisterProgram{Header: h, ID: fzProgram, Name: text, Kind: domain.ProgramMain, Period: period}))
	must(cmd.RegisterRoadmap.Handle(ctx, commands.RegisterRoadmap{Header: h, ID: fzRoadmap, ProgramID: fzProgram, TerritoryKATO: "110000000",
		Level: domain.LevelRegional, Title: text, Period: period}))
	must(cmd.AssignRoadmapResponsible.Handle(ctx, commands.AssignRoadmapResponsible{Header: h, RoadmapID: fzRoadmap, PersonID: "deputy-1",
		Role: domain.RoleDeputy, DisplayName: "Айгерим Сейткали"}))
	must(cmd.AddIndicator.Handle(ctx, commands.AddIndicator{Header: h, ID: fzIndicator, RoadmapID: fzRoadmap, Title: text,
		Kind: domain.KindMilestone, Deadline: domain.NewDate(2021, 12, 31)}))
	must(cmd.RegisterCouncil.Handle(ctx, commands.RegisterCouncil{Header: h, ID: fzCouncil, TerritoryKATO: "110000000", Level: domain.CouncilRegional, Name: text}))
	for _, who := range []string{"member-1", "member-2"} {
		must(cmd.JoinCouncil.Handle(ctx, commands.JoinCouncil{Header: h, CouncilID: fzCouncil, MemberID: who, Role: domain.MemberMember, DisplayName: "Дана К."}))
	}
	must(cmd.DraftRecommendation.Handle(ctx, commands.DraftRecommendation{Header: m, ID: fzRec, CouncilID: fzCouncil, Title: text, Proposal: text,
		Addressee: domain.StateBody{ID: "akimat-110000000", Name: text}}))
	must(cmd.SubmitRecommendation.Handle(ctx, commands.SubmitRecommendation{Header: m, RecommendationID: fzRec}))
	must(cmd.RecordAssessment.Handle(ctx, commands.RecordAssessment{Header: m, ID: fzAssess, CouncilID: fzCouncil, IndicatorID: fzIndicator,
		Position: domain.PositionAgree, Comment: "fine"}))
	must(cmd.RegisterDeputy.Handle(ctx, commands.RegisterDeputy{Header: h, DeputyID: "deputy-1", DisplayName: "Айгерим Сейткали",
		Assembly: domain.Assembly{Kind: domain.AssemblyMaslikhat, TerritoryKATO: "110000000", Level: domain.CouncilRegional}}))
	s := &server{cfg: Config{Commands: cmd, Logger: slog.New(slog.DiscardHandler)}}
	s.cfg.setDefaults()
	return s, store
}

// FuzzCouncilBodies: the councils' counterpart of the main API's
// FuzzWriteBodies. A body that decodeBody and the domain accept yields
// events the codec reads back unchanged, each string keeping the text
// rules; a refused body appends nothing; nothing is a 5xx.
func FuzzCouncilBodies(f *testing.F) {
	hostile := []string{`"a\u0000b"`, `"a\u001bb"`, `"a\u0085b"`, "\"a\xffb\"", "\"a\xed\xa0\x80b\"", `"a\ud800b"`, `"\udc00"`,
		`"a\ufffdb"`, `"a\u202eb"`, "\"a\u2066b\""}
	for i, r := range fuzzRoutes {
		f.Add(uint8(i), []byte(r.seed))
	}
	for j, h := range hostile { // every hostile value once, spread over the routes
		for _, i := range []int{j % len(fuzzRoutes), (j + 5) % len(fuzzRoutes)} {
			f.Add(uint8(i), []byte(strings.Replace(fuzzRoutes[i].seed, `"a"`, h, 1)))
		}
	}
	f.Add(uint8(3), []byte(strings.Replace(fuzzRoutes[3].seed, `"a"`, `"`+strings.Repeat("я", 1<<19)+`"`, 1))) // 1 MiB of text
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		s, store := fuzzWorld(t)
		ctx := context.Background()
		before, err := store.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rt := fuzzRoutes[int(route)%len(fuzzRoutes)]
		r := httptest.NewRequest("POST", "/fuzz", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		_, err = rt.run(ctx, s, w, r, rt.who)
		if err != nil && kernel.Classify(err) == nil {
			t.Fatalf("route %d, body %q: an unexpected error (a 500): %v", route, body, err)
		}
		appended, rerr := store.ReadAll(ctx, before, 100)
		if rerr != nil {
			t.Fatal(rerr)
		}
		if err != nil && len(appended) > 0 {
			t.Fatalf("route %d, body %q: refused (%v) but appended %d events", route, body, err, len(appended))
		}
		for _, rec := range appended {
			kerneltest.CheckStored(t, rec)
		}
	})
}

// TestFuzzCouncilSeedsAreAccepted: each route's seed body is accepted, so
// the fuzz target starts from bodies that reach the domain and the codec.
func TestFuzzCouncilSeedsAreAccepted(t *testing.T) {
	t.Parallel()
	for i, rt := range fuzzRoutes {
		s, _ := fuzzWorld(t)
		r := httptest.NewRequest("POST", "/fuzz", strings.NewReader(rt.seed))
		r.Header.Set("Content-Type", "application/json")
		if _, err := rt.run(context.Background(), s, httptest.NewRecorder(), r, rt.who); err != nil {
			t.Errorf("route %d refuses its seed: %v", i, err)
		}
	}
}
