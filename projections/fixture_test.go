package projections_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"promiseledger/commands"
	"promiseledger/domain"
	"promiseledger/eventstore"
	"promiseledger/eventstore/postgres"
	"promiseledger/eventstore/postgres/pgtest"
	"promiseledger/projections"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// env is one fresh database with the event store, the read models and
// command handlers whose clock the test sets.
type env struct {
	t     testing.TB
	url   string
	store *postgres.Store
	db    *sqlx.DB
	cmd   *commands.Handlers
	mu    sync.Mutex
	now   time.Time
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{t: t, url: pgtest.NewURL(t)}
	e.store = openStore(t, e.url)
	e.db = e.store.DB()
	if err := projections.Migrate(context.Background(), e.db); err != nil {
		t.Fatal(err)
	}
	h, err := commands.New(commands.Deps{Store: e.store, Clock: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	e.cmd = h
	return e
}

func openStore(t testing.TB, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), postgres.Config{URL: url, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := postgres.Migrate(context.Background(), s.DB()); err != nil {
		t.Fatal(err)
	}
	return s
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

// at sets the recorded time of the next commands.
func (e *env) at(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = day(s).Add(12 * time.Hour)
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func admin(effective string) commands.Header {
	h := commands.Header{Actor: commands.Actor{ID: "admin-1", Role: "admin"}}
	if effective != "" {
		h.EffectiveAt = day(effective).Add(9 * time.Hour)
	}
	return h
}

func withReason(h commands.Header, reason string) commands.Header {
	h.Reason = reason
	return h
}

func must(t testing.TB, _ commands.Result, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func text(s string) domain.Text { return domain.Text{KK: s + " (kk)", RU: s + " (ru)", EN: s} }
func f(v float64) *float64      { return &v }

// fixture holds the ids of the small hand-computed data set described in
// docs/methodology.md ("Worked example").
type fixture struct {
	program, republican, regional string
	a, b, c, d, e                 string
	reportB                       string
}

const (
	republicKATO = "0"
	regionKATO   = "110000000"
	districtKATO = "113200000"
)

// load writes the fixture through the command handlers:
//   - republican roadmap: A milestone w1 done on 03-10; B numeric 0→100 w2
//     reported 50 on 03-20, corrected to 80 (recorded 05-01); C milestone w1
//     cancelled 04-10; D numeric 10→20 w1 reported 15 on 03-01, re-targeted
//     to 30 on 04-01;
//   - regional roadmap (a district): E milestone w1, nothing reported.
func (e *env) load() fixture {
	t, ctx := e.t, context.Background()
	var fx fixture
	e.at("2021-01-10")
	r, err := e.cmd.RegisterProgram.Handle(ctx, commands.RegisterProgram{Header: admin(""), Name: text("Path of change"),
		Kind: domain.ProgramMain, Period: domain.Period{Start: domain.NewDate(2021, 1, 1), End: domain.NewDate(2025, 12, 31)}})
	must(t, r, err)
	fx.program = r.ID
	for _, terr := range []commands.RegisterTerritory{
		{KATO: republicKATO, Name: text("Kazakhstan"), Kind: domain.TerritoryRepublic},
		{KATO: regionKATO, Name: text("Akmola Region"), Kind: domain.TerritoryRegion, ParentKATO: republicKATO},
		{KATO: districtKATO, Name: text("Arshaly District"), Kind: domain.TerritoryDistrict, ParentKATO: regionKATO},
	} {
		terr.Header = admin("")
		r, err := e.cmd.RegisterTerritory.Handle(ctx, terr)
		must(t, r, err)
	}
	period := domain.Period{Start: domain.NewDate(2021, 1, 1), End: domain.NewDate(2025, 12, 31)}
	r, err = e.cmd.RegisterRoadmap.Handle(ctx, commands.RegisterRoadmap{Header: admin(""), ProgramID: fx.program,
		TerritoryKATO: republicKATO, Level: domain.LevelRepublican, Title: text("Republican roadmap"), Period: period})
	must(t, r, err)
	fx.republican = r.ID
	r, err = e.cmd.RegisterRoadmap.Handle(ctx, commands.RegisterRoadmap{Header: admin(""), ProgramID: fx.program,
		TerritoryKATO: districtKATO, Level: domain.LevelRegional, Title: text("Arshaly roadmap"), Period: period})
	must(t, r, err)
	fx.regional = r.ID

	add := func(roadmap, title string, kind domain.IndicatorKind, base, target *float64, weight float64) string {
		r, err := e.cmd.AddIndicator.Handle(ctx, commands.AddIndicator{Header: admin("2021-02-01"), RoadmapID: roadmap,
			Title: text(title), Kind: kind, Baseline: base, Target: target, Weight: weight,
			Unit: unitFor(kind), Deadline: domain.NewDate(2021, 12, 31)})
		must(t, r, err)
		return r.ID
	}
	e.at("2021-02-01")
	fx.a = add(fx.republican, "A", domain.KindMilestone, nil, nil, 1)
	fx.b = add(fx.republican, "B", domain.KindNumeric, f(0), f(100), 2)
	fx.c = add(fx.republican, "C", domain.KindMilestone, nil, nil, 1)
	fx.d = add(fx.republican, "D", domain.KindNumeric, f(10), f(20), 1)
	fx.e = add(fx.regional, "E", domain.KindMilestone, nil, nil, 1)

	ev := domain.Evidence{URL: "https://roadmaps.example.kz/report/1", Description: "report"}
	e.at("2021-03-02")
	r, err = e.cmd.ReportProgress.Handle(ctx, commands.ReportProgress{Header: admin("2021-03-01"), IndicatorID: fx.d, Value: f(15), Evidence: ev})
	must(t, r, err)
	e.at("2021-03-15")
	r, err = e.cmd.ReportProgress.Handle(ctx, commands.ReportProgress{Header: admin("2021-03-10"), IndicatorID: fx.a, Done: true, Evidence: ev})
	must(t, r, err)
	e.at("2021-03-25")
	r, err = e.cmd.ReportProgress.Handle(ctx, commands.ReportProgress{Header: admin("2021-03-20"), IndicatorID: fx.b, Value: f(50), Evidence: ev})
	must(t, r, err)
	fx.reportB = r.EventIDs[0].String()
	e.at("2021-04-01")
	r, err = e.cmd.RetargetIndicator.Handle(ctx, commands.RetargetIndicator{Header: withReason(admin("2021-04-01"), "budget doubled"), IndicatorID: fx.d, Target: f(30)})
	must(t, r, err)
	e.at("2021-04-10")
	r, err = e.cmd.CancelIndicator.Handle(ctx, commands.CancelIndicator{Header: withReason(admin("2021-04-10"), "merged into A"), IndicatorID: fx.c})
	must(t, r, err)
	e.at("2021-05-01")
	r, err = e.cmd.CorrectReport.Handle(ctx, commands.CorrectReport{Header: withReason(admin("2021-03-20"), "typo: 80, not 50"), IndicatorID: fx.b,
		Corrects: fx.reportB, Value: f(80), Evidence: ev})
	must(t, r, err)
	return fx
}

func unitFor(kind domain.IndicatorKind) domain.Text {
	if kind == domain.KindNumeric {
		return text("units")
	}
	return domain.Text{}
}

// catchUp runs every projector synchronously until it has applied the whole
// readable log, in pages of size n.
func (e *env) catchUp(n int, ps ...projections.Projector) {
	e.t.Helper()
	if len(ps) == 0 {
		ps = projections.All()
	}
	ctx := context.Background()
	for _, p := range ps {
		ensure(e.t, e.db, p)
		for {
			pos, err := projections.Checkpoint(ctx, e.db, p.Name())
			if err != nil {
				e.t.Fatal(err)
			}
			page, err := e.store.ReadAll(ctx, pos, n)
			if err != nil {
				e.t.Fatal(err)
			}
			if len(page) == 0 {
				if applied(e.t, e.db, p.Name()) == totalEvents(e.t, e.db) {
					break
				}
				time.Sleep(10 * time.Millisecond) // a concurrent test's open transaction hides the rest for now
				continue
			}
			if err := projections.Process(ctx, e.db, p, page); err != nil {
				e.t.Fatal(err)
			}
		}
	}
}

// applied is how many events the active generation of a projector applied.
func applied(t testing.TB, db *sqlx.DB, name string) int64 {
	t.Helper()
	var n int64
	err := db.Get(&n, `SELECT c.events_total FROM projectors p JOIN projector_checkpoints c ON c.name = p.name AND c.generation = p.active_generation WHERE p.name = $1`, name)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func ensure(t testing.TB, db *sqlx.DB, p projections.Projector) {
	t.Helper()
	if err := projections.Register(context.Background(), db, p.Name()); err != nil {
		t.Fatal(err)
	}
}

var _ = uuid.Nil
var _ = eventstore.Start

func addCmd(roadmap string, i int) commands.AddIndicator {
	return commands.AddIndicator{Header: admin(""), RoadmapID: roadmap, Title: text(fmt.Sprintf("Extra %d", i)),
		Kind: domain.KindMilestone, Weight: 1, Deadline: domain.NewDate(2022, 6, 30)}
}

func benchEnv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
