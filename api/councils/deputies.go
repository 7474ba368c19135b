package councils

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"promiseledger/api/kernel"
	"promiseledger/commands"
	"promiseledger/domain"
	"promiseledger/projections"
	"promiseledger/projections/provenance"
)

// pathDeputy answers 404 for a malformed deputy id in the path.
func pathDeputy(_ context.Context, r *http.Request, _ principal) error {
	if domain.ValidatePersonID("id", r.PathValue("id")) != nil {
		return kernel.NotFound(fmt.Sprintf("no deputy %q", r.PathValue("id")))
	}
	return nil
}

type registerDeputyBody struct {
	writeCommon
	DeputyID    string          `json:"deputy_id"`
	DisplayName string          `json:"display_name"`
	Assembly    domain.Assembly `json:"assembly"`
}

func (s *server) registerDeputy() http.Handler {
	return write(s, roles("register deputies", adminOnly...), true,
		func(ctx context.Context, _ *http.Request, _ principal, h commands.Header, b *registerDeputyBody) (commands.Result, error) {
			return s.cfg.Commands.RegisterDeputy.Handle(ctx, commands.RegisterDeputy{Header: h, DeputyID: b.DeputyID, DisplayName: b.DisplayName, Assembly: b.Assembly})
		})
}

type factionBody struct {
	writeCommon
	Faction string `json:"faction"`
}

func (s *server) joinFaction() http.Handler {
	return write(s, all(roles("record faction membership", adminOnly...), pathDeputy), false,
		func(ctx context.Context, r *http.Request, _ principal, h commands.Header, b *factionBody) (commands.Result, error) {
			return s.cfg.Commands.JoinFaction.Handle(ctx, commands.JoinFaction{Header: h, DeputyID: r.PathValue("id"), Faction: b.Faction})
		})
}

func (s *server) leaveFaction() http.Handler {
	return write(s, all(roles("record faction membership", adminOnly...), pathDeputy), false,
		func(ctx context.Context, r *http.Request, _ principal, h commands.Header, _ *reasonBody) (commands.Result, error) {
			return s.cfg.Commands.LeaveFaction.Handle(ctx, commands.LeaveFaction{Header: h, DeputyID: r.PathValue("id")})
		})
}

type responsibilityBody struct {
	writeCommon
	Subject   string `json:"subject"`
	SubjectID string `json:"subject_id"`
}

func (s *server) assignResponsibility() http.Handler {
	return write(s, all(roles("assign deputies' responsibilities", adminOnly...), pathDeputy), false,
		func(ctx context.Context, r *http.Request, _ principal, h commands.Header, b *responsibilityBody) (commands.Result, error) {
			return s.cfg.Commands.AssignDeputyResponsibility.Handle(ctx, commands.AssignDeputyResponsibility{Header: h, DeputyID: r.PathValue("id"),
				Subject: domain.ResponsibilityKind(b.Subject), SubjectID: b.SubjectID})
		})
}

func (s *server) releaseResponsibility() http.Handler {
	return write(s, all(roles("release deputies' responsibilities", adminOnly...), pathDeputy), false,
		func(ctx context.Context, r *http.Request, _ principal, h commands.Header, _ *reasonBody) (commands.Result, error) {
			return s.cfg.Commands.ReleaseDeputyResponsibility.Handle(ctx, commands.ReleaseDeputyResponsibility{Header: h, DeputyID: r.PathValue("id"),
				Subject: domain.ResponsibilityKind(r.PathValue("subject")), SubjectID: r.PathValue("subject_id")})
		})
}

type activityBody struct {
	writeCommon
	Period domain.Period `json:"period"`
	domain.ActivityCounts
}

// Activity counts come from the reception offices' reports and are recorded
// by administrators: an officer's scope is the measures of their roadmaps
// (docs/api.md), not another person's rating.
var activityWriters = []string{RoleAdmin}

func (s *server) reportActivity() http.Handler {
	return write(s, all(roles("report deputies' activity", activityWriters...), pathDeputy), true,
		func(ctx context.Context, r *http.Request, _ principal, h commands.Header, b *activityBody) (commands.Result, error) {
			return s.cfg.Commands.ReportDeputyActivity.Handle(ctx, commands.ReportDeputyActivity{Header: h, DeputyID: r.PathValue("id"),
				Period: b.Period, Counts: b.ActivityCounts})
		})
}

type activityCorrectionBody struct {
	writeCommon
	domain.ActivityCounts
}

func (s *server) correctActivity() http.Handler {
	return write(s, all(roles("correct deputies' activity", activityWriters...), pathDeputy), true,
		func(ctx context.Context, r *http.Request, _ principal, h commands.Header, b *activityCorrectionBody) (commands.Result, error) {
			return s.cfg.Commands.CorrectDeputyActivity.Handle(ctx, commands.CorrectDeputyActivity{Header: h, DeputyID: r.PathValue("id"),
				Corrects: r.PathValue("report_id"), Counts: b.ActivityCounts})
		})
}

type publishMethodBody struct {
	writeCommon
	Method        string               `json:"method"`
	Version       int                  `json:"version,omitempty" doc:"Optional: the next version."`
	Title         domain.Text          `json:"title"`
	Summary       string               `json:"summary"`
	Formula       domain.RatingFormula `json:"formula"`
	EffectiveFrom domain.Date          `json:"effective_from"`
}

func (s *server) publishMethod() http.Handler {
	return write(s, roles("publish rating methods", adminOnly...), true,
		func(ctx context.Context, _ *http.Request, _ principal, h commands.Header, b *publishMethodBody) (commands.Result, error) {
			return s.cfg.Commands.PublishRatingMethod.Handle(ctx, commands.PublishRatingMethod{Header: h, Method: b.Method, Version: b.Version,
				Title: b.Title, Summary: b.Summary, Formula: b.Formula, EffectiveFrom: b.EffectiveFrom})
		})
}

func (s *server) listDeputies(w http.ResponseWriter, r *http.Request) error {
	q := s.query(r)
	f := projections.DeputyFilter{Level: q.Enum("level", "republican", "regional", "district"), AssemblyID: q.Str("assembly_id"),
		Cursor: q.Str("cursor"), Limit: q.limit()}
	if err := q.Err(); err != nil {
		return err
	}
	p, err := projections.ListDeputies(r.Context(), s.cfg.DB, f)
	if err != nil {
		return err
	}
	kernel.WritePage(w, r, p.Items, p.NextCursor)
	return nil
}

func (s *server) getDeputy(w http.ResponseWriter, r *http.Request) error {
	if err := pathDeputy(r.Context(), r, principal{}); err != nil {
		return err
	}
	d, err := projections.GetDeputy(r.Context(), s.cfg.DB, r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("ETag", `"`+itoa(d.Version)+`"`)
	kernel.WriteJSON(w, http.StatusOK, d)
	return nil
}

// ratingRow is a compact rating: one period, one version.
type ratingRow struct {
	Method        string        `json:"method"`
	Version       int           `json:"version"`
	Period        domain.Period `json:"period"`
	InForce       bool          `json:"in_force"`
	Provisional   bool          `json:"provisional"`
	Rated         bool          `json:"rated"`
	NotRated      string        `json:"not_rated,omitempty"`
	Score         *float64      `json:"score"`
	RankAssembly  *int          `json:"rank_assembly"`
	AssemblyRated int           `json:"assembly_rated"`
	RankLevel     *int          `json:"rank_level"`
	LevelRated    int           `json:"level_rated"`
	FactionDays   int           `json:"faction_days"`
}

func rowOf(v projections.DeputyRatingView) ratingRow {
	return ratingRow{Method: v.Method, Version: v.Version, Period: v.Period, InForce: v.InForce, Provisional: v.Provisional,
		Rated: v.Rated, NotRated: v.NotRated, Score: v.Score, RankAssembly: v.RankAssembly, AssemblyRated: v.AssemblyRated,
		RankLevel: v.RankLevel, LevelRated: v.LevelRated, FactionDays: v.FactionDays}
}

// versionInfo is a published version of the method, for comparison.
type versionInfo struct {
	Version       int         `json:"version"`
	Title         domain.Text `json:"title"`
	EffectiveFrom domain.Date `json:"effective_from"`
	PublishedAt   time.Time   `json:"published_at"`
	// Rating is the deputy's rating for the same period under this version.
	Rating *ratingRow `json:"rating"`
}

// ratingEvent is an event behind a component.
type ratingEvent = projections.StoredEvent

// deputyRating is a deputy's rating: the selected method version's
// rating for the latest period with its breakdown, its history over every
// period, and the same period under every published version.
type deputyRating struct {
	Deputy   deputyInfo                   `json:"deputy"`
	Method   string                       `json:"method"`
	Version  int                          `json:"version"`
	AsOf     *projections.AxisTime        `json:"as_of"`
	KnownAt  *projections.AxisTime        `json:"known_at"`
	Current  projections.DeputyRatingView `json:"current"`
	History  []ratingRow                  `json:"history"`
	Versions []versionInfo                `json:"versions"`
	Events   map[string][]ratingEvent     `json:"events,omitempty"`
	// Replies are the deputy's answers to their ratings, on the record.
	Replies []domain.RatingReply `json:"replies" doc:"The deputy's replies to their ratings (right of reply), oldest first, within the answer's as_of and known_at."`
	// Provenance names the log state, method and instants of the answer.
	Provenance provenance.Provenance `json:"provenance"`
}

type deputyInfo struct {
	ID          string              `json:"id"`
	DisplayName string              `json:"display_name"`
	AssemblyID  string              `json:"assembly_id"`
	Level       domain.CouncilLevel `json:"level"`
	InFaction   bool                `json:"in_faction"`
}

func (s *server) deputyRating(w http.ResponseWriter, r *http.Request) error {
	if err := pathDeputy(r.Context(), r, principal{}); err != nil {
		return err
	}
	out, err := s.ratingOf(r, r.PathValue("id"), false)
	if err != nil {
		return err
	}
	kernel.WriteJSON(w, http.StatusOK, out)
	return nil
}

// myRating is the authenticated deputy's own rating, with the events
// behind each component.
func (s *server) myRating(w http.ResponseWriter, r *http.Request) error {
	p, err := s.authenticate(r)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "private, no-store")
	if _, err := projections.GetDeputy(r.Context(), s.cfg.DB, p.actorID); err != nil {
		return kernel.Forbidden("only a registered deputy has a rating: your credentials name no deputy")
	}
	out, err := s.ratingOf(r, p.actorID, true)
	if err != nil {
		return err
	}
	kernel.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (s *server) ratingOf(r *http.Request, deputyID string, withEvents bool) (deputyRating, error) {
	ctx := r.Context()
	if err := s.refuseCheckpoint(r); err != nil {
		return deputyRating{}, err
	}
	q := s.query(r)
	axes, method, version := q.axes(), q.Str("method"), q.Int("version", 1, 10000)
	if err := q.Err(); err != nil {
		return deputyRating{}, err
	}
	d, err := projections.GetDeputy(ctx, s.cfg.DB, deputyID)
	if err != nil {
		return deputyRating{}, err
	}
	views, err := projections.DeputyRatings(ctx, s.cfg.DB, deputyID, projections.RatingQuery{Method: method, Axes: axes})
	if err != nil {
		return deputyRating{}, err
	}
	if len(views) == 0 {
		return deputyRating{}, fmt.Errorf("deputy %s: %w", deputyID, projections.ErrNoRatings)
	}
	if method == "" {
		method = views[0].Method // sorted by method
		views = slices.DeleteFunc(views, func(v projections.DeputyRatingView) bool { return v.Method != method })
	}
	latest := projections.LatestPeriod(views)
	if version == 0 {
		for _, v := range views {
			if v.Period == latest && v.InForce {
				version = v.Version
			}
		}
		if version == 0 {
			version = slices.MaxFunc(views, func(a, b projections.DeputyRatingView) int { return cmp.Compare(a.Version, b.Version) }).Version
		}
	}
	out := deputyRating{Deputy: deputyInfo{ID: d.ID, DisplayName: d.DisplayName, AssemblyID: d.AssemblyID, Level: d.Level, InFaction: d.InFaction},
		Method: method, Version: version, History: []ratingRow{}, Versions: []versionInfo{}}
	if axes != nil {
		out.AsOf, out.KnownAt = projections.AxisTimeOf(axes.AsOf), projections.AxisTimeOf(axes.KnownAt)
	}
	replies, _, err := projections.DeputyRatingReplies(ctx, s.cfg.DB, deputyID)
	if err != nil {
		return deputyRating{}, err
	}
	out.Replies = slices.DeleteFunc(replies, func(rr domain.RatingReply) bool {
		return axes != nil && ((axes.AsOf != nil && rr.RepliedAt.After(*axes.AsOf)) || (axes.KnownAt != nil && rr.RecordedAt.After(*axes.KnownAt)))
	})
	if out.Replies == nil {
		out.Replies = []domain.RatingReply{}
	}
	found := false
	for _, v := range views {
		if v.Version != version {
			continue
		}
		out.History = append(out.History, rowOf(v))
		if v.Period == latest {
			out.Current, found = v, true
		}
	}
	if !found {
		return deputyRating{}, fmt.Errorf("version %d of %s: %w", version, method, projections.ErrNoRatings)
	}
	methods, err := projections.RatingMethods(ctx, s.cfg.DB, axes)
	if err != nil {
		return deputyRating{}, err
	}
	for _, m := range methods {
		if m.Method != method {
			continue
		}
		vi := versionInfo{Version: m.Version, Title: m.Title, EffectiveFrom: m.EffectiveFrom, PublishedAt: m.PublishedAt}
		for _, v := range views {
			if v.Version == m.Version && v.Period == latest {
				row := rowOf(v)
				vi.Rating = &row
			}
		}
		out.Versions = append(out.Versions, vi)
	}
	if out.Provenance, err = s.ratingProvenance(r, axes, method, version); err != nil {
		return deputyRating{}, err
	}
	if withEvents {
		out.Events = map[string][]ratingEvent{}
		for _, c := range out.Current.Components {
			evs, err := projections.RatingEvents(ctx, s.cfg.DB, c.Events)
			if err != nil {
				return deputyRating{}, err
			}
			out.Events[c.Key] = evs
		}
	}
	return out, nil
}

// leagueRow is one deputy of a league table.
type leagueRow struct {
	DeputyID      string   `json:"deputy_id"`
	DisplayName   string   `json:"display_name"`
	AssemblyID    string   `json:"assembly_id"`
	Rated         bool     `json:"rated"`
	NotRated      string   `json:"not_rated,omitempty"`
	Score         *float64 `json:"score"`
	RankAssembly  *int     `json:"rank_assembly"`
	AssemblyRated int      `json:"assembly_rated"`
	RankLevel     *int     `json:"rank_level"`
	LevelRated    int      `json:"level_rated"`
	FactionDays   int      `json:"faction_days"`
}

type leagueTable struct {
	Method      string                `json:"method"`
	Version     int                   `json:"version"`
	Versions    []int                 `json:"versions"`
	InForce     bool                  `json:"in_force"`
	Period      domain.Period         `json:"period"`
	Provisional bool                  `json:"provisional"`
	Level       domain.CouncilLevel   `json:"level"`
	AssemblyID  string                `json:"assembly_id,omitempty"`
	AsOf        *projections.AxisTime `json:"as_of"`
	// Items are the deputies by rank, then the unrated: a list of records,
	// so items as in every list answer.
	Items []leagueRow `json:"items"`
	// Provenance names the log state, method and instants of the answer.
	Provenance provenance.Provenance `json:"provenance"`
}

// ratingProvenance is the provenance of a rating answer: live, on the axes
// asked for.
func (s *server) ratingProvenance(r *http.Request, axes *projections.Axes, method string, version int) (provenance.Provenance, error) {
	var asOf, knownAt *time.Time
	if axes != nil {
		asOf, knownAt = axes.AsOf, axes.KnownAt
	}
	return provenance.Live(r.Context(), s.cfg.DB, s.cfg.Now(), asOf, knownAt, provenance.MethodRef{Name: method, Version: version})
}

func (s *server) ratingsLeague(w http.ResponseWriter, r *http.Request) error {
	q := s.query(r)
	level := q.Enum("level", "republican", "regional", "district")
	if q.Str("level") == "" {
		q.Bad("level", "is required: republican, regional or district")
	}
	if err := q.Err(); err != nil {
		return err
	}
	return s.league(w, r, projections.LeagueQuery{Level: level})
}

func (s *server) league(w http.ResponseWriter, r *http.Request, lq projections.LeagueQuery) error {
	if err := s.refuseCheckpoint(r); err != nil {
		return err
	}
	q := s.query(r)
	lq.Axes, lq.Method, lq.Version, lq.Period = q.axes(), q.Str("method"), q.Int("version", 1, 10000), q.Date("period")
	limit := q.Int("limit", 1, s.cfg.MaxPageSize) // 0: every row
	if err := q.Err(); err != nil {
		return err
	}
	l, err := projections.LeagueTable(r.Context(), s.cfg.DB, lq)
	if err != nil {
		return err
	}
	out := leagueTable{Method: l.Method, Version: l.Version, Versions: l.Versions, InForce: l.InForce, Period: l.Period,
		Provisional: l.Provisional, Level: l.Level, AssemblyID: l.AssemblyID, Items: make([]leagueRow, 0, len(l.Rows))}
	if lq.Axes != nil {
		out.AsOf = projections.AxisTimeOf(lq.Axes.AsOf)
	}
	if limit > 0 && len(l.Rows) > limit {
		l.Rows = l.Rows[:limit] // the top of the table; ranks are over every row
	}
	for _, v := range l.Rows {
		out.Items = append(out.Items, leagueRow{DeputyID: v.DeputyID, DisplayName: v.DisplayName, AssemblyID: v.AssemblyID, Rated: v.Rated,
			NotRated: v.NotRated, Score: v.Score, RankAssembly: v.RankAssembly, AssemblyRated: v.AssemblyRated, RankLevel: v.RankLevel,
			LevelRated: v.LevelRated, FactionDays: v.FactionDays})
	}
	if out.Provenance, err = s.ratingProvenance(r, lq.Axes, l.Method, l.Version); err != nil {
		return err
	}
	kernel.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (s *server) listMethods(w http.ResponseWriter, r *http.Request) error {
	q := s.query(r)
	axes := q.axes()
	if err := q.Err(); err != nil {
		return err
	}
	ms, err := projections.RatingMethods(r.Context(), s.cfg.DB, axes)
	if err != nil {
		return err
	}
	kernel.WritePage(w, r, ms, "")
	return nil
}

// ratingReplyBody is a deputy's reply to one of their ratings.
type ratingReplyBody struct {
	writeCommon
	Method   string          `json:"method" doc:"The rating method, e.g. faction-activity."`
	Version  int             `json:"version" doc:"The method's published version the rating is under."`
	Period   domain.Period   `json:"period" doc:"The rated period replied to."`
	Reply    string          `json:"reply"`
	Evidence domain.Evidence `json:"evidence,omitzero" doc:"What backs the reply."`
}

// ownRating: only the deputy replies to their own rating (the domain
// checks the actor is the deputy as well).
func (s *server) ownRating(ctx context.Context, r *http.Request, p principal) error {
	if err := pathDeputy(ctx, r, p); err != nil {
		return err
	}
	if p.actorID != r.PathValue("id") {
		return kernel.Forbidden("only the deputy may reply to their rating")
	}
	return nil
}

// replyToRating records the authenticated deputy's reply to their rating:
// the same command as the deputy page's form.
func (s *server) replyToRating() http.Handler {
	return write(s, s.ownRating, true,
		func(ctx context.Context, r *http.Request, _ principal, h commands.Header, b *ratingReplyBody) (commands.Result, error) {
			return s.cfg.Commands.ReplyToRating.Handle(ctx, commands.ReplyToRating{Header: h, DeputyID: r.PathValue("id"),
				Method: b.Method, Version: b.Version, Period: b.Period, Reply: b.Reply, Evidence: b.Evidence})
		})
}
