package councildemo

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"promiseledger/commands"
	"promiseledger/commands/demo"
	"promiseledger/domain"
)

// fullAssessments is how many assessments councils make at Scale 1: a few
// hundred across the country, so that most roadmaps, and so most
// deputies, have some.
const fullAssessments = 400

// Shares of the assessments. Invented, to give every case examples.
const (
	disputeShare  = 0.35 // the council disagrees with the reported status
	withdrawShare = 0.03 // withdrawn by the council before anyone replies
	// replyBase and replyRange: a respondent deputy replies to a dispute
	// with a probability from replyBase to replyBase+replyRange, by
	// diligence; to an agreement with a quarter of that.
	replyBase     = 0.25
	replyRange    = 0.35
	officialReply = 0.6 // the measure's official replies to a dispute
)

// assessmentPlan is one assessment to load: a council's member assesses a
// measure of a roadmap of the council's territory (or of its parent's,
// where the territory has no council).
type assessmentPlan struct {
	key     string
	roadmap *demo.RoadmapInfo
	measure demo.MeasureInfo
	council councilPlan
	author  memberPlan
}

// planAssessments picks the measures assessed: uniformly among those not
// cancelled, each by a council of its territory.
func (l *loader) planAssessments(councils []councilPlan) []assessmentPlan {
	if l.cfg.Demo == nil {
		return nil
	}
	byTerritory := map[string][]councilPlan{}
	for _, c := range councils {
		byTerritory[c.territory.KATO] = append(byTerritory[c.territory.KATO], c)
	}
	type candidate struct {
		rm *demo.RoadmapInfo
		m  demo.MeasureInfo
		cs []councilPlan
	}
	var candidates []candidate
	for i := range l.cfg.Demo.Roadmaps {
		rm := &l.cfg.Demo.Roadmaps[i]
		cs := byTerritory[rm.Territory.KATO]
		if len(cs) == 0 {
			cs = byTerritory[rm.Territory.ParentKATO]
		}
		if len(cs) == 0 {
			continue
		}
		for _, m := range rm.Measures {
			if !m.Cancelled {
				candidates = append(candidates, candidate{rm: rm, m: m, cs: cs})
			}
		}
	}
	if len(candidates) == 0 {
		return nil
	}
	n := max(1, int(math.Round(fullAssessments*l.cfg.Scale)))
	out := make([]assessmentPlan, 0, n)
	for i := range n {
		key := fmt.Sprintf("assessment/%d", i)
		r := l.rng(key)
		c := candidates[r.IntN(len(candidates))]
		council := pick(r, c.cs)
		out = append(out, assessmentPlan{key: key, roadmap: c.rm, measure: c.m, council: council, author: pick(r, council.stayers())})
	}
	return out
}

// assessment records one assessment after the measure's latest event and
// the roadmap's latest change of responsible people, so the status and the
// respondents it snapshots are those in force when it takes effect; then
// the replies of some respondents, or, rarely, its withdrawal.
func (l *loader) assessment(ctx context.Context, a assessmentPlan) error {
	r := l.rng(a.key + "/history")
	ready := a.council.at.Add(time.Duration(len(a.council.members)+1) * time.Hour)
	base := a.measure.LastRecorded
	for _, t := range []time.Time{a.roadmap.Settled, ready} {
		if t.After(base) {
			base = t
		}
	}
	at := base.Add(time.Duration(3+r.IntN(60))*24*time.Hour + time.Duration(r.IntN(8*3600))*time.Second)
	if !l.before(at) {
		return nil
	}
	position, comments := domain.PositionAgree, agreeComments
	if r.Float64() < disputeShare {
		position, comments = domain.PositionDisagree, disputeComments
	}
	kato := a.roadmap.Territory.KATO
	evidence := domain.Evidence{
		URL:         fmt.Sprintf("https://councils.example.kz/%s/protocols/%s-%d.pdf", kato, at.Format("2006-01-02"), 1+r.IntN(40)),
		Description: "Протокол заседания общественного совета",
	}
	id := l.id(a.key).String()
	count := func(s *Stats) {
		s.Assessments++
		if position == domain.PositionDisagree {
			s.Disputes++
		}
	}
	if _, err := l.count(count)(l.h.RecordAssessment.Handle(ctx, commands.RecordAssessment{
		Header: l.header(a.key, a.author.id, "council", at, ""), ID: id, CouncilID: a.council.id, IndicatorID: a.measure.ID,
		Position: position, Comment: pick(r, comments), Evidence: evidence})); err != nil {
		return fmt.Errorf("%s of indicator %s: %w", a.key, a.measure.ID, err)
	}
	if r.Float64() < withdrawShare {
		when := at.Add(time.Duration(1+r.IntN(10)) * 24 * time.Hour)
		if l.before(when) {
			if _, err := l.count(func(s *Stats) { s.Withdrawn++ })(l.h.WithdrawAssessment.Handle(ctx, commands.WithdrawAssessment{
				Header: l.header(a.key+"/withdraw", a.author.id, "council", when, pick(r, withdrawReasons)), AssessmentID: id})); err != nil {
				return fmt.Errorf("%s withdraw: %w", a.key, err)
			}
		}
		return nil
	}
	type reply struct {
		at   time.Time
		who  string
		role string
	}
	var replies []reply
	share := 1.0
	if position == domain.PositionAgree {
		share = 0.25
	}
	for _, d := range a.roadmap.Deputies {
		if !d.Left.IsZero() {
			continue // not a respondent: they no longer answer for the roadmap
		}
		p := share * (replyBase + replyRange*(l.diligence(d.ID)-0.3)/1.2)
		if r.Float64() < p {
			replies = append(replies, reply{at: at.Add(time.Duration(2+r.IntN(40))*24*time.Hour + time.Duration(r.IntN(6*3600))*time.Second), who: d.ID, role: "deputy"})
		}
	}
	if position == domain.PositionDisagree && r.Float64() < officialReply {
		replies = append(replies, reply{at: at.Add(time.Duration(2+r.IntN(20)) * 24 * time.Hour), who: a.measure.Official, role: "officer"})
	}
	sort.SliceStable(replies, func(i, j int) bool { return replies[i].at.Before(replies[j].at) })
	texts := agreeReplies
	if position == domain.PositionDisagree {
		texts = disputeReplies
	}
	for _, rp := range replies {
		if !l.before(rp.at) {
			break
		}
		var ev domain.Evidence
		if r.Float64() < 0.4 {
			ev = domain.Evidence{URL: fmt.Sprintf("https://roadmaps.example.kz/%s/replies/%s-%s.pdf", kato, rp.at.Format("2006-01-02"), rp.who),
				Description: pick(r, replyEvidence)}
		}
		if _, err := l.count(func(s *Stats) { s.Replies++ })(l.h.ReplyToAssessment.Handle(ctx, commands.ReplyToAssessment{
			Header: l.header(a.key+"/reply/"+rp.who, rp.who, rp.role, rp.at, ""), AssessmentID: id, RespondentID: rp.who,
			Reply: pick(r, texts), Evidence: ev})); err != nil {
			return fmt.Errorf("%s reply of %s: %w", a.key, rp.who, err)
		}
	}
	return nil
}
