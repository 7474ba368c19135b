package domain_test

import (
	"strings"
	"testing"

	"promiseledger/domain"
)

func TestDeputyReplyToRating(t *testing.T) {
	t.Parallel()
	q2 := domain.Period{Start: domain.NewDate(2021, 4, 1), End: domain.NewDate(2021, 6, 30)}
	rated := domain.RatedIn{Published: true, Periods: []domain.Period{q2}}
	reply := domain.DeputyRatingReplied{DeputyID: deputyID, Method: "faction-rating", Version: 2, Period: q2, Reply: "Receptions were suspended in May."}
	// as: the command's actor is the deputy unless who says otherwise.
	as := func(who string, e domain.DeputyRatingReplied, in domain.RatedIn) func(*domain.Deputy, domain.Meta) error {
		return func(d *domain.Deputy, m domain.Meta) error {
			m.ActorID, m.ActorRole = who, "deputy"
			return d.ReplyToRating(e, in, m)
		}
	}
	with := func(edit func(*domain.DeputyRatingReplied)) domain.DeputyRatingReplied {
		e := reply
		edit(&e)
		return e
	}
	runScenarios(t, domain.RebuildDeputy, []scenario[*domain.Deputy]{
		{name: "the deputy replies to a rated period", given: history(deputyRegistered), when: as(deputyID, reply, rated), then: []domain.Event{reply}},
		{name: "with evidence", given: history(deputyRegistered),
			when: as(deputyID, with(func(e *domain.DeputyRatingReplied) { e.Evidence = domain.Evidence{URL: "https://maslikhat.kz/order/5"} }), rated),
			then: []domain.Event{with(func(e *domain.DeputyRatingReplied) { e.Evidence = domain.Evidence{URL: "https://maslikhat.kz/order/5"} })}},
		{name: "someone else replies for the deputy", given: history(deputyRegistered), when: as("deputy-18", reply, rated), err: domain.ErrNotRespondent},
		{name: "twice to the same rating", given: history(deputyRegistered, reply), when: as(deputyID, reply, rated), err: domain.ErrAlreadyExists},
		{name: "no such deputy", when: as(deputyID, reply, rated), err: domain.ErrNotFound},
		{name: "an unpublished version", given: history(deputyRegistered), when: as(deputyID, reply, domain.RatedIn{}), err: domain.ErrUnknownReference, field: "method"},
		{name: "a period not rated", given: history(deputyRegistered), when: as(deputyID, reply, domain.RatedIn{Published: true}), err: domain.ErrUnknownReference, field: "period"},
		{name: "an empty reply", given: history(deputyRegistered), when: as(deputyID, with(func(e *domain.DeputyRatingReplied) { e.Reply = "  " }), rated), field: "reply"},
		{name: "a control character", given: history(deputyRegistered), when: as(deputyID, with(func(e *domain.DeputyRatingReplied) { e.Reply = "a\x1bb" }), rated), field: "reply"},
		{name: "a reply past the length limit", given: history(deputyRegistered),
			when: as(deputyID, with(func(e *domain.DeputyRatingReplied) { e.Reply = strings.Repeat("я", 100000) }), rated), field: "reply"},
		{name: "a link that is not http", given: history(deputyRegistered),
			when: as(deputyID, with(func(e *domain.DeputyRatingReplied) { e.Evidence = domain.Evidence{URL: "javascript:alert(1)"} }), rated), field: "evidence.url"},
	})
}

func TestDeputyRatingRepliesFoldIntoTheState(t *testing.T) {
	t.Parallel()
	q2 := domain.Period{Start: domain.NewDate(2021, 4, 1), End: domain.NewDate(2021, 6, 30)}
	reply := domain.DeputyRatingReplied{DeputyID: deputyID, Method: "faction-rating", Version: 2, Period: q2, Reply: "Suspended in May."}
	s, err := domain.FoldDeputy(history(deputyRegistered, reply), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.RatingReplies) != 1 || !s.RatingReplies[0].About("faction-rating", 2, q2) || s.RatingReplies[0].Reply != reply.Reply {
		t.Errorf("folded replies: %+v", s.RatingReplies)
	}
	if _, err := domain.FoldDeputy(history(deputyRegistered, domain.DeputyRatingReplied{DeputyID: "deputy-18", Method: "m", Version: 1, Period: q2, Reply: "x"}), nil); err == nil {
		t.Error("another deputy's reply folded into this deputy's history")
	}
}
