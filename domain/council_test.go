package domain_test

import (
	"testing"
	"time"

	"promiseledger/domain"
)

// Fixtures of the council tables. The actor of every command under test is
// "officer-7" (see whenMeta), so the council's given members include them.
const (
	councilID        = "0190a1b2-c3d4-7e5f-8a9b-000000000c01"
	recommendationID = "0190a1b2-c3d4-7e5f-8a9b-000000000c02"
	assessmentID     = "0190a1b2-c3d4-7e5f-8a9b-000000000c03"
)

var (
	councilName       = domain.Text{KK: "Ақмола қоғамдық кеңесі", RU: "Общественный совет Акмолинской области", EN: "Akmola public council"}
	councilRegistered = domain.CouncilRegistered{CouncilID: councilID, TerritoryKATO: "110000000", Level: domain.CouncilRegional, Name: councilName}
	actorJoined       = domain.CouncilMemberJoined{CouncilID: councilID, CouncilMember: domain.CouncilMember{MemberID: "officer-7", Role: domain.MemberChair, DisplayName: "Айгерим С."}}
	otherJoined       = domain.CouncilMemberJoined{CouncilID: councilID, CouncilMember: domain.CouncilMember{MemberID: "member-2", Role: domain.MemberMember, DisplayName: "Ерлан Б."}}
)

// councilWith rebuilds the council with the actor and member-2 as members.
func councilWith(t *testing.T, events ...domain.Event) *domain.Council {
	t.Helper()
	return mustRebuild(t, domain.RebuildCouncil, append([]domain.Event{councilRegistered, actorJoined, otherJoined}, events...)...)
}

func TestCouncilRegister(t *testing.T) {
	t.Parallel()
	region := mustRebuild(t, domain.RebuildTerritory, akmola)
	rep := mustRebuild(t, domain.RebuildTerritory, republic)
	register := func(e domain.CouncilRegistered, tr *domain.Territory) func(*domain.Council, domain.Meta) error {
		return func(c *domain.Council, m domain.Meta) error { return c.Register(e, tr, m) }
	}
	with := func(edit func(*domain.CouncilRegistered)) domain.CouncilRegistered {
		e := councilRegistered
		edit(&e)
		return e
	}
	republican := with(func(e *domain.CouncilRegistered) { e.TerritoryKATO, e.Level = "0", domain.CouncilRepublican })
	runScenarios(t, domain.RebuildCouncil, []scenario[*domain.Council]{
		{name: "regional council of a region", when: register(councilRegistered, region), then: []domain.Event{councilRegistered}},
		{name: "republican council of the republic", when: register(republican, rep), then: []domain.Event{republican}},
		{name: "district level for a region", when: register(with(func(e *domain.CouncilRegistered) { e.Level = domain.CouncilDistrict }), region), field: "level"},
		{name: "unknown level", when: register(with(func(e *domain.CouncilRegistered) { e.Level = "oblast" }), region), field: "level"},
		{name: "territory not registered", when: register(councilRegistered, nil), err: domain.ErrUnknownReference, field: "territory_kato"},
		{name: "needs a name in every language", when: register(with(func(e *domain.CouncilRegistered) { e.Name.KK = " " }), region), field: "name.kk"},
		{name: "id must be a UUID", when: register(with(func(e *domain.CouncilRegistered) { e.CouncilID = "c1" }), region), field: "council_id"},
		{name: "exists already", given: history(councilRegistered), when: register(councilRegistered, region), err: domain.ErrAlreadyExists},
	})
}

func TestCouncilMembership(t *testing.T) {
	t.Parallel()
	join := func(p domain.CouncilMember) func(*domain.Council, domain.Meta) error {
		return func(c *domain.Council, m domain.Meta) error { return c.Join(p, m) }
	}
	leave := func(id string) func(*domain.Council, domain.Meta) error {
		return func(c *domain.Council, m domain.Meta) error { return c.Leave(id, m) }
	}
	member := domain.CouncilMember{MemberID: "member-3", Role: domain.MemberMember, DisplayName: "Дана К."}
	chair := domain.CouncilMember{MemberID: "member-4", Role: domain.MemberChair, DisplayName: "Марат Т."}
	joined := func(p domain.CouncilMember) domain.CouncilMemberJoined {
		return domain.CouncilMemberJoined{CouncilID: councilID, CouncilMember: p}
	}
	left := domain.CouncilMemberLeft{CouncilID: councilID, MemberID: "officer-7"}
	runScenarios(t, domain.RebuildCouncil, []scenario[*domain.Council]{
		{name: "a member joins", given: history(councilRegistered), when: join(member), then: []domain.Event{joined(member)}},
		{name: "trimmed", given: history(councilRegistered), when: join(domain.CouncilMember{MemberID: " member-3 ", Role: domain.MemberMember, DisplayName: " Дана К. "}),
			then: []domain.Event{joined(member)}},
		{name: "a chair joins a council without one", given: history(councilRegistered, otherJoined), when: join(chair), then: []domain.Event{joined(chair)}},
		{name: "a second chair", given: history(councilRegistered, actorJoined), when: join(chair), field: "role"},
		{name: "a chair after the chair left", given: history(councilRegistered, actorJoined, left), reason: "x", when: join(chair), then: []domain.Event{joined(chair)}},
		{name: "joins twice", given: history(councilRegistered, actorJoined), when: join(actorJoined.CouncilMember), err: domain.ErrAlreadyMember},
		{name: "rejoins after leaving", given: history(councilRegistered, actorJoined, left), when: join(actorJoined.CouncilMember), then: []domain.Event{actorJoined}},
		{name: "unknown role", given: history(councilRegistered), when: join(domain.CouncilMember{MemberID: "m", Role: "secretary", DisplayName: "A"}), field: "role"},
		{name: "a display name, not contact data", given: history(councilRegistered),
			when: join(domain.CouncilMember{MemberID: "m", Role: domain.MemberMember, DisplayName: "aigerim@mail.kz"}), field: "display_name"},
		{name: "no phone number in a name", given: history(councilRegistered),
			when: join(domain.CouncilMember{MemberID: "m", Role: domain.MemberMember, DisplayName: "Aigerim +7 701 123 45 67"}), field: "display_name"},
		{name: "the member id is no national id", given: history(councilRegistered),
			when: join(domain.CouncilMember{MemberID: "870412300415", Role: domain.MemberMember, DisplayName: "A"}), field: "member_id"},
		{name: "join a council that does not exist", when: join(member), err: domain.ErrNotFound},
		{name: "leaves with a reason", given: history(councilRegistered, actorJoined), reason: "moved away", when: leave("officer-7"), then: []domain.Event{left}},
		{name: "leave needs a reason", given: history(councilRegistered, actorJoined), when: leave("officer-7"), err: domain.ErrReasonRequired, field: "reason"},
		{name: "leave without being a member", given: history(councilRegistered), reason: "x", when: leave("officer-7"), err: domain.ErrNotMember},
		{name: "no change before the last one took effect", given: history(councilRegistered, actorJoined), effective: t0.Add(30 * time.Minute),
			reason: "x", when: leave("officer-7"), field: "effective_at"},
	})
}

func TestCouncilMembersAsOf(t *testing.T) {
	t.Parallel()
	h := history(councilRegistered, actorJoined, otherJoined, domain.CouncilMemberLeft{CouncilID: councilID, MemberID: "member-2"})
	h[3].Meta.Reason = "resigned"
	now, err := domain.FoldCouncil(h, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !now.IsMember("officer-7") || now.IsMember("member-2") || len(now.CurrentMembers()) != 1 || len(now.Memberships) != 2 {
		t.Fatalf("now: %+v", now)
	}
	if now.Memberships[1].LeaveReason != "resigned" || now.Memberships[1].LeftAt.IsZero() {
		t.Fatalf("leave not recorded: %+v", now.Memberships[1])
	}
	before, err := domain.FoldCouncil(h, domain.EffectiveBy(h[2].Meta.EffectiveAt))
	if err != nil {
		t.Fatal(err)
	}
	if !before.IsMember("member-2") {
		t.Fatal("member-2 was a member before leaving")
	}
	if _, err := domain.FoldCouncil(history(actorJoined), nil); !errorsIs(err, domain.ErrInvalidHistory) {
		t.Fatalf("join before registration: %v", err)
	}
}
