package councildemo

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"github.com/google/uuid"

	"promiseledger/commands"
	"promiseledger/commands/demo"
	"promiseledger/domain"
)

// namespace derives the demo's event ids; fixed forever, so that a second
// load finds its events already recorded.
var namespace = uuid.MustParse("5b8e2f60-7d1c-4c3a-9e0b-2a6f4d8c1e37")

const (
	adminActor   = "demo-admin"
	officerActor = "demo-officer"
	methodName   = "faction-rating"
)

// Full-size targets (Scale 1).
const (
	fullCouncils        = 1700
	fullRecommendations = 260
)

type loader struct {
	h         *commands.Handlers
	cfg       Config
	yearStart time.Time

	mu sync.Mutex
	st Stats
}

// Load records the data set through h. Run it on a ledger whose territories
// are registered, or let it register them; it registers no roadmap and no
// deputy: pass the description of the roadmap demo loaded in the store in
// cfg.Demo.
func Load(ctx context.Context, h *commands.Handlers, cfg Config) (Stats, error) {
	if h == nil {
		return Stats{}, errors.New("councildemo: no command handlers")
	}
	if err := cfg.setDefaults(); err != nil {
		return Stats{}, err
	}
	if err := cfg.Validate(); err != nil {
		return Stats{}, err
	}
	began := time.Now()
	cfg.Logger.InfoContext(ctx, "loading the councils demo", "seed", cfg.Seed, "scale", cfg.Scale, "now", cfg.Now)
	l := &loader{h: h, cfg: cfg, yearStart: time.Date(cfg.Start.Year(), 1, 1, 0, 0, 0, 0, time.UTC)}
	l.st.ByStatus = map[string]int{}
	if err := l.territories(ctx); err != nil {
		return l.st, err
	}
	if err := l.methods(ctx); err != nil {
		return l.st, err
	}
	councils := l.planCouncils()
	if err := l.parallel(ctx, len(councils), func(ctx context.Context, i int) error { return l.council(ctx, councils[i]) }); err != nil {
		return l.st, err
	}
	n := max(1, int(math.Round(fullRecommendations*cfg.Scale)))
	if err := l.parallel(ctx, n, func(ctx context.Context, i int) error { return l.recommendation(ctx, i, councils) }); err != nil {
		return l.st, err
	}
	deputies := l.deputies()
	if err := l.parallel(ctx, len(deputies), func(ctx context.Context, i int) error { return l.activity(ctx, deputies[i]) }); err != nil {
		return l.st, err
	}
	assessments := l.planAssessments(councils)
	if err := l.parallel(ctx, len(assessments), func(ctx context.Context, i int) error { return l.assessment(ctx, assessments[i]) }); err != nil {
		return l.st, err
	}
	l.st.Elapsed = time.Since(began)
	cfg.Logger.InfoContext(ctx, "loaded the councils demo", "stats", l.st)
	return l.st, nil
}

// rng is the random source of one entity: the same key and seed give the
// same choices whatever the order of loading.
func (l *loader) rng(key string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(key)) //nolint:errcheck // hashes never fail
	return rand.New(rand.NewPCG(uint64(l.cfg.Seed), h.Sum64()))
}

func (l *loader) id(key string) uuid.UUID {
	return uuid.NewSHA1(namespace, fmt.Appendf(nil, "%d|%s", l.cfg.Seed, key))
}

func (l *loader) header(key, actor, role string, at time.Time, reason string) commands.Header {
	return commands.Header{Actor: commands.Actor{ID: actor, Role: role}, Reason: reason, EffectiveAt: at.UTC(), EventID: l.id(key)}
}

// count returns a function that counts a command's result, and count
// adds the data set's own tally: count(f)(h.X.Handle(ctx, cmd)).
func (l *loader) count(count func(*Stats)) func(commands.Result, error) (commands.Result, error) {
	return func(res commands.Result, err error) (commands.Result, error) {
		if err != nil {
			return res, err
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		if res.Duplicate {
			l.st.Duplicates++
		} else {
			l.st.Events += len(res.EventIDs)
		}
		if count != nil {
			count(&l.st)
		}
		return res, nil
	}
}

// plain counts a command's result: plain(h.X.Handle(ctx, cmd)).
func (l *loader) plain(res commands.Result, err error) (commands.Result, error) {
	return l.count(nil)(res, err)
}

// before reports whether t is not after Now: nothing takes effect later.
func (l *loader) before(t time.Time) bool { return !t.After(l.cfg.Now) }

// parallel runs job(0..n-1) on the configured number of workers and stops
// at the first error.
func (l *loader) parallel(ctx context.Context, n int, job func(context.Context, int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range l.cfg.Workers {
		wg.Go(func() {
			for i := range next {
				if ctx.Err() != nil {
					continue
				}
				if err := job(ctx, i); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

// territories registers the ones the ledger lacks, parents first.
func (l *loader) territories(ctx context.Context) error {
	ts := append([]Territory(nil), l.cfg.Territories...)
	depth := func(t Territory) int {
		d := 0
		for p := t.ParentKATO; p != ""; d++ {
			next := ""
			for _, u := range ts {
				if u.KATO == p {
					next = u.ParentKATO
				}
			}
			p = next
		}
		return d
	}
	sort.SliceStable(ts, func(i, j int) bool { return depth(ts[i]) < depth(ts[j]) })
	at := l.yearStart.AddDate(0, 0, -1)
	for _, t := range ts {
		_, err := l.plain(l.h.RegisterTerritory.Handle(ctx, commands.RegisterTerritory{Header: l.header("territory/"+t.KATO, adminActor, "admin", at, ""),
			KATO: t.KATO, Name: t.Name, Kind: t.Kind, ParentKATO: t.ParentKATO}))
		if errors.Is(err, domain.ErrAlreadyExists) {
			err = nil // registered by another loader
		}
		if err != nil {
			return fmt.Errorf("territory %s: %w", t.KATO, err)
		}
		l.mu.Lock()
		l.st.Territories++
		l.mu.Unlock()
	}
	return nil
}

// methods publishes version 1 of the faction rating on 1 January of the
// start year, and version 2, which weighs differently, half-way to Now. v2
// is in force from the quarter after its publication.
func (l *loader) methods(ctx context.Context) error {
	from := domain.DateOf(l.yearStart)
	v1 := commands.PublishRatingMethod{Method: methodName, Version: 1, EffectiveFrom: from,
		Title:   t3("Фракция депутаттарының рейтингі", "Рейтинг депутатов фракции", "Faction deputies' rating"),
		Summary: "Receptions compared with the level's peers, positive decisions on appeals, measures done, replies to councils.",
		Formula: domain.RatingFormula{
			Period: domain.RatingPeriod{Kind: domain.PeriodQuarter, From: from},
			Components: []domain.RatingComponent{
				{Key: "receptions", Title: t3("Қабылдаулар", "Приёмы граждан", "Receptions"), Source: domain.MetricReceptionsHeld, Weight: 3,
					Normalization: domain.Normalization{Kind: domain.NormalizeMinMax, Scope: domain.ScopeLevel}},
				{Key: "positive", Title: t3("Оң шешімдер", "Положительные решения", "Positive decisions"), Source: domain.MetricAppealsPositiveShare, Weight: 2,
					Normalization: domain.Normalization{Kind: domain.NormalizeIdentity}},
				{Key: "done", Title: t3("Орындалған шаралар", "Выполненные мероприятия", "Measures done"), Source: domain.MetricIndicatorsDoneShare, Weight: 3,
					Normalization: domain.Normalization{Kind: domain.NormalizeIdentity}},
				{Key: "replies", Title: t3("Кеңестерге жауаптар", "Ответы советам", "Replies to councils"), Source: domain.MetricAssessmentReplyShare, Weight: 2,
					Normalization: domain.Normalization{Kind: domain.NormalizeIdentity}},
			},
			Minimum: domain.MinimumData{FactionDays: 30, Components: 2, Peers: 3},
		}}
	mid := l.cfg.Start.Add(l.cfg.Now.Sub(l.cfg.Start) / 2)
	inForce := time.Date(mid.Year(), ((mid.Month()-1)/3+1)*3+1, 1, 0, 0, 0, 0, time.UTC)
	v2 := commands.PublishRatingMethod{Method: methodName, Version: 2, EffectiveFrom: domain.DateOf(inForce),
		Title:   v1.Title,
		Summary: "Receptions against a target of twelve a quarter, appeals closed, weighted progress of measures, appeals handled within the maslikhat.",
		Formula: domain.RatingFormula{
			Period: domain.RatingPeriod{Kind: domain.PeriodQuarter, From: from},
			Components: []domain.RatingComponent{
				{Key: "receptions", Title: t3("Қабылдаулар", "Приёмы граждан", "Receptions"), Source: domain.MetricReceptionsHeld, Weight: 2,
					Normalization: domain.Normalization{Kind: domain.NormalizeRatioToTarget, Target: ptr(12.0)}},
				{Key: "closed", Title: t3("Қаралған өтініштер", "Рассмотренные обращения", "Appeals closed"), Source: domain.MetricAppealsClosedShare, Weight: 2,
					Normalization: domain.Normalization{Kind: domain.NormalizeIdentity}},
				{Key: "progress", Title: t3("Шаралардың орындалу барысы", "Ход выполнения мероприятий", "Progress of measures"), Source: domain.MetricIndicatorsProgress, Weight: 4,
					Normalization: domain.Normalization{Kind: domain.NormalizeIdentity}},
				{Key: "appeals", Title: t3("Өтініштер", "Обращения", "Appeals handled"), Source: domain.MetricAppealsHandled, Weight: 2,
					Normalization: domain.Normalization{Kind: domain.NormalizeMinMax, Scope: domain.ScopeAssembly}},
			},
			Minimum: domain.MinimumData{FactionDays: 45, Components: 2, Peers: 3},
		}}
	for i, v := range []commands.PublishRatingMethod{v1, v2} {
		at := l.yearStart
		if i == 1 {
			at = mid
		}
		v.Header = l.header(fmt.Sprintf("method/%s/%d", methodName, v.Version), adminActor, "admin", at, "")
		if _, err := l.plain(l.h.PublishRatingMethod.Handle(ctx, v)); err != nil && !errors.Is(err, domain.ErrAlreadyExists) {
			return fmt.Errorf("method %s v%d: %w", methodName, v.Version, err)
		}
		l.mu.Lock()
		l.st.MethodVersions++
		l.mu.Unlock()
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// councilPlan is one council to load.
type councilPlan struct {
	idx       int
	key       string
	id        string
	territory Territory
	topic     topic
	number    int // the topic's council number in the territory, from 1
	at        time.Time
	members   []memberPlan
}

type memberPlan struct {
	id, name string
	role     domain.CouncilMemberRole
	leaves   time.Time // zero: stays
}

// weight is a territory's share of councils: more at higher levels.
func weight(t Territory) float64 {
	switch domain.LevelOfTerritory(t.Kind) {
	case domain.CouncilRepublican:
		return 24
	case domain.CouncilRegional:
		return 14
	}
	if t.Kind == domain.TerritoryCityDistrict {
		return 3
	}
	return 6.5
}

// planCouncils shares the councils among the territories by weight
// (largest remainders), and draws each council's members.
func (l *loader) planCouncils() []councilPlan {
	total := max(1, int(math.Round(fullCouncils*l.cfg.Scale)))
	var sum float64
	for _, t := range l.cfg.Territories {
		sum += weight(t)
	}
	type share struct {
		i    int
		n    int
		frac float64
	}
	shares := make([]share, len(l.cfg.Territories))
	given := 0
	for i, t := range l.cfg.Territories {
		exact := float64(total) * weight(t) / sum
		shares[i] = share{i: i, n: int(exact), frac: exact - math.Floor(exact)}
		given += shares[i].n
	}
	order := append([]share(nil), shares...)
	sort.SliceStable(order, func(a, b int) bool { return order[a].frac > order[b].frac })
	for k := 0; given < total; k++ {
		shares[order[k%len(order)].i].n++
		given++
	}
	span := l.cfg.Now.Sub(l.cfg.Start)
	var out []councilPlan
	for i, t := range l.cfg.Territories {
		for k := range shares[i].n {
			key := fmt.Sprintf("council/%s/%d", t.KATO, k)
			r := l.rng(key)
			c := councilPlan{idx: len(out), key: key, id: l.id(key).String(), territory: t, topic: topics[k%len(topics)], number: k/len(topics) + 1,
				at: l.cfg.Start.Add(time.Duration(r.IntN(30*24)) * time.Hour)}
			n := 4 + r.IntN(6)
			if r.Float64() < 0.15 {
				n += 3
			}
			for m := range n {
				mp := memberPlan{id: fmt.Sprintf("member-%s-%02d-%02d", t.KATO, k, m), name: memberName(r), role: domain.MemberMember}
				if m == 0 {
					mp.role = domain.MemberChair
				} else if r.Float64() < 0.03 && span > 120*24*time.Hour {
					mp.leaves = c.at.Add(60*24*time.Hour + time.Duration(r.Int64N(int64(span-90*24*time.Hour))))
				}
				c.members = append(c.members, mp)
			}
			out = append(out, c)
		}
	}
	return out
}

func councilName(c councilPlan) domain.Text {
	n := ""
	if c.number > 1 {
		n = fmt.Sprintf(" %d", c.number)
	}
	t := c.territory.Name
	return domain.Text{
		KK: fmt.Sprintf("%s: «%s» қоғамдық кеңесі%s", t.KK, c.topic.name.KK, n),
		RU: fmt.Sprintf("Общественный совет «%s»%s — %s", c.topic.name.RU, n, t.RU),
		EN: fmt.Sprintf("%s public council on %s%s", t.EN, lower(c.topic.name.EN), n),
	}
}

func lower(s string) string {
	if s == "" {
		return s
	}
	b := []byte(s)
	if b[0] >= 'A' && b[0] <= 'Z' {
		b[0] += 'a' - 'A'
	}
	return string(b)
}

// council registers a council, its members, and the departures (each
// followed a week later by a replacement).
func (l *loader) council(ctx context.Context, c councilPlan) error {
	_, err := l.count(func(s *Stats) { s.Councils++ })(l.h.RegisterCouncil.Handle(ctx, commands.RegisterCouncil{Header: l.header(c.key, adminActor, "admin", c.at, ""),
		TerritoryKATO: c.territory.KATO, Level: domain.LevelOfTerritory(c.territory.Kind), Name: councilName(c)}))
	if err != nil {
		return fmt.Errorf("%s: %w", c.key, err)
	}
	type change struct {
		at    time.Time
		join  bool
		m     memberPlan
		order int
	}
	var changes []change
	for i, m := range c.members {
		changes = append(changes, change{at: c.at.Add(time.Duration(i+1) * time.Hour), join: true, m: m, order: i})
		if !m.leaves.IsZero() && l.before(m.leaves) {
			changes = append(changes, change{at: m.leaves, m: m, order: i})
			if rep := m.leaves.Add(7 * 24 * time.Hour); l.before(rep) {
				r := l.rng(c.key + "/replacement/" + m.id)
				changes = append(changes, change{at: rep, join: true, order: i,
					m: memberPlan{id: m.id + "-r", name: memberName(r), role: domain.MemberMember}})
			}
		}
	}
	sort.SliceStable(changes, func(a, b int) bool { return changes[a].at.Before(changes[b].at) })
	for _, ch := range changes {
		if ch.join {
			_, err = l.count(func(s *Stats) { s.Members++ })(l.h.JoinCouncil.Handle(ctx, commands.JoinCouncil{Header: l.header(c.key+"/join/"+ch.m.id, adminActor, "admin", ch.at, ""),
				CouncilID: c.id, MemberID: ch.m.id, Role: ch.m.role, DisplayName: ch.m.name}))
		} else {
			r := l.rng(c.key + "/leave/" + ch.m.id)
			_, err = l.count(func(s *Stats) { s.Departures++ })(l.h.LeaveCouncil.Handle(ctx, commands.LeaveCouncil{Header: l.header(c.key+"/leave/"+ch.m.id, adminActor, "admin", ch.at, pick(r, leaveReasons)),
				CouncilID: c.id, MemberID: ch.m.id}))
		}
		if err != nil {
			return fmt.Errorf("%s member %s: %w", c.key, ch.m.id, err)
		}
	}
	return nil
}

// stayers are the members who never leave: they draft, submit and judge.
func (c councilPlan) stayers() []memberPlan {
	var out []memberPlan
	for _, m := range c.members {
		if m.leaves.IsZero() {
			out = append(out, m)
		}
	}
	return out
}

// recommendation i: a council, a topic, and a lifecycle drawn from the
// mix the source documents suggest — most answered, a good share
// overdue, some judged, a few withdrawn.
func (l *loader) recommendation(ctx context.Context, i int, councils []councilPlan) error {
	key := fmt.Sprintf("recommendation/%d", i)
	r := l.rng(key)
	c := councils[r.IntN(len(councils))]
	stayers := c.stayers()
	author := stayers[r.IntN(len(stayers))]
	tp := c.topic
	if r.Float64() < 0.3 {
		tp = pick(r, topics)
	}
	body := domain.StateBody{ID: tp.body, Name: ministries[tp.body]}
	if r.Float64() < 0.6 {
		body = akimatOf(c.territory)
	}
	title := pick(r, tp.titles)
	links := domain.RecommendationLinks{Topics: []string{tp.slug}}
	for range r.IntN(3) {
		if len(l.cfg.RoadmapIDs) > 0 {
			links.RoadmapIDs = append(links.RoadmapIDs, pick(r, l.cfg.RoadmapIDs))
		}
	}
	// When it is drafted, and how far it goes.
	span := l.cfg.Now.Sub(c.at)
	roll := r.Float64()
	var drafted time.Time
	if roll < 0.10 && span > 40*24*time.Hour { // recent: awaiting, not yet due
		drafted = l.cfg.Now.Add(-time.Duration(10+r.IntN(15)) * 24 * time.Hour)
	} else {
		drafted = c.at.Add(24*time.Hour + time.Duration(r.Int64N(int64(max(span*3/4, 48*time.Hour)))))
	}
	if !drafted.After(c.at) {
		drafted = c.at.Add(24 * time.Hour)
	}
	if !l.before(drafted) {
		return nil
	}
	id := l.id(key).String()
	member := func(m memberPlan) func(string, time.Time, string) commands.Header {
		return func(step string, at time.Time, reason string) commands.Header {
			return l.header(key+"/"+step, m.id, "council", at, reason)
		}
	}(author)
	officer := func(step string, at time.Time, reason string) commands.Header {
		return l.header(key+"/"+step, officerActor, "officer", at, reason)
	}
	final := domain.RecommendationDraftedStatus
	finish := func() {
		l.mu.Lock()
		l.st.ByStatus[string(final)]++
		l.mu.Unlock()
	}
	defer finish()
	if _, err := l.count(func(s *Stats) { s.Recommendations++ })(l.h.DraftRecommendation.Handle(ctx, commands.DraftRecommendation{Header: member("draft", drafted, ""), ID: id, CouncilID: c.id,
		Title: title, Proposal: proposalOf(title, c), Addressee: body, Links: links})); err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	if r.Float64() < 0.1 && len(stayers) > 1 {
		other := stayers[(indexOf(stayers, author)+1)%len(stayers)]
		at := drafted.Add(3 * time.Hour)
		if l.before(at) {
			if _, err := l.count(func(s *Stats) { s.Dissents++ })(l.h.AttachDissent.Handle(ctx, commands.AttachDissent{Header: l.header(key+"/dissent", other.id, "council", at, ""),
				RecommendationID: id, MemberID: other.id, Opinion: pick(r, dissents)})); err != nil {
				return fmt.Errorf("%s dissent: %w", key, err)
			}
		}
	}
	if roll >= 0.10 && roll < 0.16 { // stays a draft
		return nil
	}
	submitted := drafted.Add(time.Duration(1+r.IntN(10)) * 24 * time.Hour)
	if !l.before(submitted) {
		return nil
	}
	if _, err := l.plain(l.h.SubmitRecommendation.Handle(ctx, commands.SubmitRecommendation{Header: member("submit", submitted, ""), RecommendationID: id})); err != nil {
		return fmt.Errorf("%s submit: %w", key, err)
	}
	final = domain.RecommendationSubmittedStatus
	deadline := submitted.AddDate(0, 0, domain.DefaultResponseDays)
	if roll >= 0.16 && roll < 0.21 { // withdrawn before the answer
		at := submitted.Add(time.Duration(2+r.IntN(10)) * 24 * time.Hour)
		if l.before(at) {
			if _, err := l.plain(l.h.WithdrawRecommendation.Handle(ctx, commands.WithdrawRecommendation{
				Header: member("withdraw", at, "the akimat solved the problem before answering"), RecommendationID: id})); err != nil {
				return fmt.Errorf("%s withdraw: %w", key, err)
			}
			final = domain.RecommendationWithdrawnStatus
		}
		return nil
	}
	acked := submitted.Add(time.Duration(1+r.IntN(7)) * 24 * time.Hour)
	if r.Float64() < 0.7 && l.before(acked) {
		if _, err := l.plain(l.h.AcknowledgeRecommendation.Handle(ctx, commands.AcknowledgeRecommendation{Header: officer("acknowledge", acked, ""),
			RecommendationID: id, Reference: fmt.Sprintf("вх-%d", 1000+i)})); err != nil {
			return fmt.Errorf("%s acknowledge: %w", key, err)
		}
		final = domain.RecommendationAcknowledgedStatus
	} else {
		acked = submitted
	}
	if roll < 0.38 { // awaiting an answer (overdue once past the deadline)
		if deadline.Before(l.cfg.Now) {
			l.mu.Lock()
			l.st.Overdue++
			l.mu.Unlock()
		}
		return nil
	}
	answered := acked.Add(time.Duration(3+r.IntN(24)) * 24 * time.Hour)
	if r.Float64() < 0.25 { // late
		answered = deadline.Add(time.Duration(1+r.IntN(30)) * 24 * time.Hour)
	}
	if !l.before(answered) {
		if deadline.Before(l.cfg.Now) {
			l.mu.Lock()
			l.st.Overdue++
			l.mu.Unlock()
		}
		return nil
	}
	decision := domain.DecisionAccepted
	switch d := r.Float64(); {
	case d < 0.25:
		decision = domain.DecisionRejected
	case d < 0.55:
		decision = domain.DecisionPartiallyAccepted
	}
	letter := domain.Evidence{URL: fmt.Sprintf("https://gov.example.kz/%s/answers/%d.pdf", body.ID, 1000+i), Description: "the body's letter"}
	res, err := l.plain(l.h.AnswerRecommendation.Handle(ctx, commands.AnswerRecommendation{Header: officer("answer", answered, ""), RecommendationID: id,
		Decision: decision, Reply: pick(r, replies[decision]), Evidence: letter}))
	if err != nil {
		return fmt.Errorf("%s answer: %w", key, err)
	}
	final = domain.RecommendationAnsweredStatus
	if r.Float64() < 0.08 && l.before(answered.Add(10*24*time.Hour)) {
		// The decision was recorded wrongly: a correction takes the answer's time.
		fixed := map[domain.AnswerDecision]domain.AnswerDecision{domain.DecisionAccepted: domain.DecisionPartiallyAccepted,
			domain.DecisionPartiallyAccepted: domain.DecisionAccepted, domain.DecisionRejected: domain.DecisionPartiallyAccepted}[decision]
		h := officer("correct-answer", time.Time{}, "the decision was misread from the body's letter")
		if _, err := l.count(func(s *Stats) { s.AnswerCorrections++ })(l.h.CorrectRecommendationAnswer.Handle(ctx, commands.CorrectRecommendationAnswer{Header: h, RecommendationID: id,
			Corrects: res.EventIDs[0].String(), Decision: fixed, Reply: pick(r, replies[fixed]), Evidence: letter})); err != nil {
			return fmt.Errorf("%s correct answer: %w", key, err)
		}
		decision = fixed
	}
	if roll < 0.62 {
		return nil
	}
	judged := answered.Add(time.Duration(30+r.IntN(90)) * 24 * time.Hour)
	if !l.before(judged) {
		return nil
	}
	verdict := domain.VerdictImplemented
	if roll >= 0.85 || decision == domain.DecisionRejected {
		verdict = domain.VerdictNotImplemented
	}
	if _, err := l.plain(l.h.JudgeRecommendation.Handle(ctx, commands.JudgeRecommendation{Header: member("judge", judged, ""), RecommendationID: id,
		Verdict: verdict, Comment: "Checked by the council on the spot."})); err != nil {
		return fmt.Errorf("%s judge: %w", key, err)
	}
	final = domain.RecommendationImplementedStatus
	if verdict == domain.VerdictNotImplemented {
		final = domain.RecommendationNotImplementedStatus
	}
	return nil
}

func indexOf(ms []memberPlan, m memberPlan) int {
	for i, x := range ms {
		if x.id == m.id {
			return i
		}
	}
	return 0
}

func akimatOf(t Territory) domain.StateBody {
	if t.ParentKATO == "" {
		return domain.StateBody{ID: "government", Name: t3("ҚР Үкіметі", "Правительство РК", "Government of Kazakhstan")}
	}
	return domain.StateBody{ID: "akimat-" + t.KATO, Name: domain.Text{KK: t.Name.KK + " әкімдігі", RU: "Акимат: " + t.Name.RU, EN: t.Name.EN + " akimat"}}
}

func proposalOf(title domain.Text, c councilPlan) domain.Text {
	t := c.territory.Name
	return domain.Text{
		KK: title.KK + ". Кеңес мәселені азаматтардың өтініштері бойынша қарады: " + t.KK + ".",
		RU: title.RU + ". Совет рассмотрел вопрос по обращениям жителей: " + t.RU + ".",
		EN: title.EN + ". The council took the matter up from residents' appeals: " + t.EN + ".",
	}
}

// deputies are the roadmap demo's deputies, each once, in the order of
// the description.
func (l *loader) deputies() []demo.DeputyInfo {
	if l.cfg.Demo == nil {
		return nil
	}
	var out []demo.DeputyInfo
	for _, rm := range l.cfg.Demo.Roadmaps {
		for _, d := range rm.Deputies {
			// The demo's deputies do not shrink with Scale (every roadmap
			// keeps its people), so below 1 only that share of them report
			// activity, drawn from the deputy's own key: their quarterly
			// reports are most of the data set's events.
			if l.cfg.Scale < 1 && l.rng("activity-sample/"+d.ID).Float64() >= l.cfg.Scale {
				continue
			}
			out = append(out, d)
		}
	}
	return out
}

// diligence is how hard a deputy works, from 0.3 to 1.5: it scales their
// receptions and how often they reply to councils, so that the rating has
// something to tell apart.
func (l *loader) diligence(deputyID string) float64 {
	return 0.3 + 1.2*l.rng("diligence/"+deputyID).Float64()
}

// activity reports a deputy's activity counts for every quarter of their
// mandate that has ended: from the day they were registered, up to the day
// they left if they did. The demo registered them and their faction
// membership.
func (l *loader) activity(ctx context.Context, d demo.DeputyInfo) error {
	key := "deputy/" + d.ID
	r := l.rng(key)
	admin := func(step string, at time.Time, reason string) commands.Header {
		return l.header(key+"/"+step, adminActor, "admin", at, reason)
	}
	diligence := l.diligence(d.ID)
	first := day(d.Registered)
	last := time.Time{}
	if !d.Left.IsZero() {
		last = day(d.Left)
	}
	l.mu.Lock()
	l.st.Deputies++
	l.mu.Unlock()
	for q := quarterOf(first); last.IsZero() || !q.After(last); q = q.AddDate(0, 3, 0) {
		start, end := q, q.AddDate(0, 3, -1)
		if start.Before(first) {
			start = first
		}
		if !last.IsZero() && last.Before(end) {
			end = last
		}
		at := end.Add(time.Duration(1+r.IntN(10))*24*time.Hour + 10*time.Hour)
		if !l.before(at) {
			break
		}
		counts := activity(r, diligence)
		step := "activity/" + q.Format("2006-01")
		res, err := l.count(func(s *Stats) { s.ActivityReports++ })(l.h.ReportDeputyActivity.Handle(ctx, commands.ReportDeputyActivity{Header: admin(step, at, ""), DeputyID: d.ID,
			Period: domain.Period{Start: domain.DateOf(start), End: domain.DateOf(end)}, Counts: counts}))
		if err != nil {
			return fmt.Errorf("%s %s: %w", key, step, err)
		}
		if r.Float64() < 0.03 && l.before(at.Add(20*24*time.Hour)) {
			counts.ReceptionsHeld++
			counts.PeopleReceived += 3
			if _, err := l.count(func(s *Stats) { s.ActivityCorrected++ })(l.h.CorrectDeputyActivity.Handle(ctx, commands.CorrectDeputyActivity{
				Header: admin(step+"/correction", time.Time{}, "a reception was missing from the log"), DeputyID: d.ID,
				Corrects: res.EventIDs[0].String(), Counts: counts})); err != nil {
				return fmt.Errorf("%s %s correction: %w", key, step, err)
			}
		}
	}
	return nil
}

// day is t's date at midnight UTC.
func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// quarterOf is the first day of t's quarter.
func quarterOf(t time.Time) time.Time {
	return time.Date(t.Year(), (t.Month()-1)/3*3+1, 1, 0, 0, 0, 0, time.UTC)
}

// activity draws a quarter's counts. The shares follow the published
// figures: about 96% of decisions positive, about 4% still in progress.
func activity(r *rand.Rand, diligence float64) domain.ActivityCounts {
	receptions := int(math.Round(max(0, diligence*6+r.NormFloat64()*2)))
	if receptions == 0 {
		return domain.ActivityCounts{}
	}
	people := receptions * (3 + r.IntN(6))
	appeals := int(math.Round(float64(people) * (0.4 + 0.4*r.Float64())))
	pending := int(math.Round(float64(appeals) * 0.04 * r.Float64() * 2))
	positive := int(math.Round(float64(appeals-pending) * (0.88 + 0.1*r.Float64())))
	rest := appeals - pending - positive
	explained := rest * 2 / 3
	return domain.ActivityCounts{ReceptionsHeld: receptions, PeopleReceived: people, AppealsHandled: appeals,
		Outcomes: domain.AppealOutcomes{Positive: positive, Explained: explained, Rejected: rest - explained, Pending: pending}}
}
